"""What the booking POST costs in SQL: pinned, so a change that adds round
trips to the busiest write (issue #4) is seen. Transaction control (BEGIN,
COMMIT) is left out: SQLite and PostgreSQL issue it differently."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from clinic import clock
from tests import factories
from tests.factories import NOW, WED_10, World

world = factories.world

_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK)\b", re.IGNORECASE)
_TABLE = re.compile(r'\b(?:FROM|INTO)\s+"?(\w+)"?', re.IGNORECASE)
_INNERMOST = re.compile(r"\([^()]*\)")


def _main_table(sql: str) -> str:
    """The statement's own table: subqueries (in brackets) are dropped."""
    while (shorter := _INNERMOST.sub("", sql)) != sql:
        sql = shorter
    table = _TABLE.search(sql)
    return table[1] if table else ""


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    return lambda _: None


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """``verb table`` of every statement the app's engine runs meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if not _CONTROL.match(sql):
            seen.append(f"{sql.split()[0].upper()} {_main_table(sql)}")

    engine = app.extensions["clinic.engine"]
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_booking_a_session_costs_seven_statements(
    app: Flask, client: FlaskClient, login: Callable[..., None], world: World,
    statements: list[str],
) -> None:
    # As in production and the benchmark, the mail goes out later (cron).
    app.config["MAIL_SEND_ON_COMMIT"] = False
    login(world.client)
    statements.clear()
    response = client.post("/booking/confirm", data={
        "service_id": world.service.id, "technique": "swedish",
        "therapist_id": world.therapist.user_id, "start": WED_10.isoformat(),
        "screening_id": world.screening.id})
    assert response.status_code == 302
    assert statements == [
        # the request: the logged-in user with the clinic's settings
        "SELECT user",
        # the intake's gate: the latest screening with whether a booking
        # already used it, whether the account is open and the last two
        # signed notes (for spreading symptoms), in one query
        "SELECT screening",
        # booking: the therapists locked (with their users and the service),
        # then what blocks the session's own time in one round trip (its
        # bookings, rooms, working hours, time off and closures: one UNION)
        "SELECT therapist", "SELECT booking",
        # the writes: no SAVEPOINT, no second settings or user load
        "INSERT booking", "INSERT audit_event", "INSERT outbox_message",
    ]
