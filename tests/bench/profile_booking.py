"""Where the booking request's time goes, measured in process (``--profile``).

The same app and configuration as under gunicorn, driven by Flask's test
client: half the bookings are timed with every SQL statement recorded (count
and time per statement shape), the other half run under cProfile.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import re
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from clinic.db import WRITE_OPTION
from tests.bench.clinic_app import OVERRIDES
from tests.bench.plan import Slot
from tests.bench.seed import BENCH_PASSWORD, LOAD_SERVICE, LoadClient, Seeded

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PROFILED = r"clinic|flask_wtf|jinja2|flask_login"  # modules shown in the profile


def _app(url: str, secret_key: str) -> Flask:
    from clinic import create_app

    return create_app({**OVERRIDES, "ENV": "production", "DATABASE_URL": url,
                       "SECRET_KEY": secret_key, "MAIL_SEND_ON_COMMIT": False,
                       "MAIL_BACKEND": "console"})


def _logged_in(app: Flask, client: LoadClient) -> tuple[FlaskClient, str]:
    browser = app.test_client()
    page = browser.get("/login").get_data(as_text=True)
    found = CSRF.search(page)
    assert found is not None, page[:500]
    token = found.group(1)
    answer = browser.post("/login", data={"csrf_token": token, "email": client.email,
                                          "password": BENCH_PASSWORD})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    return browser, token


def _book(browser: FlaskClient, token: str, seeded: Seeded, client: LoadClient,
          slot: Slot) -> None:
    answer = browser.post("/booking/confirm", data={
        "csrf_token": token, "service_id": seeded.service_ids[LOAD_SERVICE],
        "technique": seeded.technique, "therapist_id": slot.therapist_id,
        "start": slot.start.isoformat(), "screening_id": client.screening_id,
    })
    assert answer.status_code == 302, answer.get_data(as_text=True)[:800]


class Recorder:
    """SQL statements (count and time by shape) and how long each booking
    holds its lock: from BEGIN IMMEDIATE (SQLite: the database's write lock)
    or the first SELECT ... FOR UPDATE (PostgreSQL: the therapist row) to
    the COMMIT, and the whole transaction from its first statement."""

    def __init__(self) -> None:
        self.sql: dict[str, list[float]] = defaultdict(list)
        self.transactions: list[float] = []
        self.locks: list[float] = []
        self.first_booking: list[str] = []  # its statements, in order
        self._began = self._locked = self._statement = 0.0

    def listen(self, engine: Any, on: bool) -> None:
        change = event.listen if on else event.remove
        change(engine, "begin", self._begin)
        change(engine, "commit", self._commit)
        change(engine, "before_cursor_execute", self._before)
        change(engine, "after_cursor_execute", self._after)

    def _begin(self, conn: Any) -> None:
        # On SQLite the app's own "begin" listener, which ran first, has
        # already taken the write lock (BEGIN IMMEDIATE on the driver's
        # connection, which the statement events do not see).
        self._began = time.perf_counter()
        if conn.dialect.name == "sqlite" and conn.get_execution_options().get(
                WRITE_OPTION):
            self._locked = self._began

    def _commit(self, _conn: Any) -> None:
        now = time.perf_counter()
        self.transactions.append(now - self._began)
        if self._locked:
            self.locks.append(now - self._locked)
        self._locked = 0.0

    def _before(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self._statement = time.perf_counter()
        if "FOR UPDATE" in statement and not self._locked:
            self._locked = self._statement

    def _after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        shape = " ".join(statement.split())[:110]
        self.sql[shape].append(time.perf_counter() - self._statement)
        if not self.transactions:
            self.first_booking.append(shape[:80])


def profile_bookings(url: str, seeded: Seeded, clients: Sequence[LoadClient],
                     slots: Sequence[Slot], secret_key: str) -> str:
    """A text report: time, SQL and lock per booking, then cProfile's top.

    The first booking warms the app up; half the rest are timed with SQL
    recorded, the other half run under cProfile.
    """
    app = _app(url, secret_key)
    engine = app.extensions["clinic.engine"]
    runs = [(*_logged_in(app, c), c, s)
            for c, s in zip(clients, slots, strict=False)]
    _book(*runs[0][:2], seeded, *runs[0][2:])
    timed, profiled = runs[1:len(runs) // 2 + 1], runs[len(runs) // 2 + 1:]
    recorder, walls = Recorder(), []
    recorder.listen(engine, on=True)
    for browser, token, client, slot in timed:
        began = time.perf_counter()
        _book(browser, token, seeded, client, slot)
        walls.append(time.perf_counter() - began)
    recorder.listen(engine, on=False)
    profiler = cProfile.Profile()
    profiler.enable()
    for browser, token, client, slot in profiled:
        _book(browser, token, seeded, client, slot)
    profiler.disable()
    engine.dispose()
    return "\n".join([*_sql_report(walls, recorder), *_profile_report(profiler)])


def _ms(values: Sequence[float]) -> float:
    return sum(values) / len(values) * 1000 if values else 0.0


def _sql_report(walls: list[float], recorder: Recorder) -> list[str]:
    n = len(walls)
    statements = sum(len(times) for times in recorder.sql.values()) / n
    sql_ms = sum(sum(times) for times in recorder.sql.values()) / n * 1000
    wall_ms = _ms(walls)
    lines = [
        f"In process (Flask test client), {n} bookings: {wall_ms:.1f} ms each on "
        f"average; {statements:.0f} SQL statements, {sql_ms:.1f} ms in the driver "
        f"({sql_ms / wall_ms:.0%}); transaction open {_ms(recorder.transactions):.1f}"
        f" ms, lock held {_ms(recorder.locks):.1f} ms until COMMIT.",
        "Statements per booking (count, mean ms, statement):",
    ]
    for shape, times in sorted(recorder.sql.items(), key=lambda kv: -sum(kv[1])):
        lines.append(f"  {len(times) / n:4.1f}  {_ms(times):6.2f}  {shape}")
    lines.append("The first booking's statements, in order:")
    lines += [f"  {n:2}. {shape}" for n, shape in enumerate(recorder.first_booking, 1)]
    return lines


def _profile_report(profiler: cProfile.Profile) -> list[str]:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(PROFILED, 40)
    return ["cProfile, cumulative (app, Flask-WTF, Flask-Login, Jinja parts):",
            out.getvalue().strip()]
