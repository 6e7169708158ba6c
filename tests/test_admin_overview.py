"""The admin overview: counts, the day's and week's sessions, screenings
waiting for review and the latest audit events."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.audit.services import Actor, record
from clinic.booking.models import BookingStatus
from clinic.intake.services import acknowledge
from tests.factories import (
    BLEEDING_RISK_ANSWERS,
    make_booking,
    make_client,
    make_intake,
    make_room,
    make_service,
    make_therapist,
)
from tests.test_admin_support import NOW, at, fix_clock, log_in_admin, page

MONDAY = NOW.date()


@pytest.fixture(autouse=True)
def admin(monkeypatch: pytest.MonkeyPatch, make_user: Callable[..., User],
          login: Callable[[User], None]) -> User:
    fix_clock(monkeypatch)
    return log_in_admin(make_user, login)


def _stat(body: str, label: str) -> str:
    match = re.search(rf"<dt>{label}</dt><dd>(\d+)</dd>", body)
    assert match, label
    return match.group(1)


def _row(body: str, label: str) -> list[str]:
    cells = body.split(f'<th scope="row">{label}</th>')[1].split("</tr>")[0]
    return re.findall(r"<td>(\d+)</td>", cells)


def test_overview_counts_people_places_and_sessions(
    client: FlaskClient, db: Session
) -> None:
    service = make_service(db)
    make_service(db, active=False)
    make_room(db)
    tara = make_therapist(db, services=[service])
    make_therapist(db, active=False)
    people = [make_client(db) for _ in range(5)]

    def book(who: int, start: object, status: BookingStatus) -> None:
        make_booking(db, client=people[who], therapist=tara, service=service,
                     start=start, status=status)

    book(0, at(MONDAY, 14), BookingStatus.CONFIRMED)  # today
    book(1, at(MONDAY, 15), BookingStatus.CANCELLED)  # today
    book(2, at(MONDAY + timedelta(days=2), 10), BookingStatus.NO_SHOW)
    book(3, at(MONDAY + timedelta(days=6), 21), BookingStatus.PENDING)  # Sun, BST
    book(4, at(MONDAY + timedelta(days=7), 0), BookingStatus.CONFIRMED)  # next week
    book(4, at(MONDAY - timedelta(days=1), 10), BookingStatus.COMPLETED)  # last week

    body = page(client.get("/admin/"))
    assert [_stat(body, label) for label in (
        "Active therapists", "Clients", "Admins", "Services offered",
        "Rooms in use")] == ["1", "5", "1", "1", "1"]
    assert _row(body, "Today") == ["1", "1", "0"]
    assert _row(body, "This week") == ["3", "1", "1"]


def test_overview_counts_cautions_waiting_for_review(
    client: FlaskClient, db: Session
) -> None:
    tara = make_therapist(db)
    waiting, reviewed, clear = make_client(db), make_client(db), make_client(db)
    make_intake(db, waiting, now=NOW, answers=BLEEDING_RISK_ANSWERS)
    screening = make_intake(db, reviewed, now=NOW, answers=BLEEDING_RISK_ANSWERS)
    acknowledge(db, screening, tara.user, NOW)
    db.commit()
    make_intake(db, clear, now=NOW)
    body = page(client.get("/admin/"))
    assert "<strong>1</strong>\n  screening waits" in body


def test_overview_shows_the_latest_twenty_audit_events_newest_first(
    client: FlaskClient, db: Session, admin: User
) -> None:
    for n in range(25):
        record(db, Actor(admin, "127.0.0.1"), "update", "service", n + 1)
    record(db, Actor(None, None), "send", "reminder", 7)
    db.commit()
    body = page(client.get("/admin/"))
    recent = body.split("<h2>Recent activity</h2>")[1]
    rows = re.findall(r"<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*"
                      r"<td>([^<]*)</td>", recent)
    assert len(rows) == 20
    assert rows[0][1:] == ("System", "send", "reminder #7")
    assert rows[1][1:] == ("Ada Admin", "update", "service #25")
    assert rows[-1][3] == "service #7"
