"""``python -m tests.bench --history``: does a booking INSERT slow down as the
clinic's history grows?

The database's overlap guards run on every INSERT. They must read only the
bookings near the new one, not every earlier one; on SQLite, before
migration 0005, they read the whole history. This inserts one therapist's
past sessions (six a weekday, each with a room) a year at a time, and times
INSERTs of new sessions through the driver (no SQLAlchemy), in one
transaction that is rolled back.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from tests.bench import seed
from tests.bench.database import database

YEARS = (0, 1, 2)
SESSIONS_A_DAY = 6
TIMED = 300
COLUMNS = ("client_id", "therapist_id", "service_id", "room_id", "technique",
           "starts_at", "ends_at", "blocks_until", "status", "price_pence",
           "created_by_id", "created_at")


def run(kinds: tuple[str, ...], names: dict[str, str]) -> str:
    from clinic.db import make_engine

    lines = [
        "Booking INSERT against one therapist's history "
        f"({SESSIONS_A_DAY} sessions a weekday, with a room), through the driver, "
        f"n={TIMED} per level",
        f"{'database':<12}{'history':>9}{'rows':>8}{'median µs':>11}{'p99 µs':>9}",
    ]
    for kind in kinds:
        with database(kind) as url:
            engine = make_engine(url)
            try:
                for years, rows, median, p99 in _levels(engine):
                    lines.append(f"{names[kind]:<12}{years:>7} y{rows:>8}"
                                 f"{median:>11.0f}{p99:>9.0f}")
            finally:
                engine.dispose()
    return "\n".join(lines)


def _levels(engine: Engine) -> list[tuple[int, int, float, float]]:
    now = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    ids = _people(engine, now)
    first = now - timedelta(days=366 * max(YEARS))
    results, written = [], 0
    for years in YEARS:
        until = now - timedelta(days=366 * (max(YEARS) - years))
        written += _history(engine, ids, first, until)
        first = until
        results.append((years, written, *_timed_inserts(engine, ids, now)))
    return results


def _people(engine: Engine, now: datetime) -> dict[str, int]:
    from clinic.booking.models import Room

    with Session(engine) as db:
        service = seed._services(db)[0]
        therapist = seed._therapists(db, "unused", [service], now)[0]
        client = seed._users(db, "history", 1, "unused", now)[0]
        room = seed._returning_ids(db, Room, [{"name": "Room 1", "active": True}])[0]
        db.commit()
    return {"service": service, "therapist": therapist, "client": client, "room": room}


def _row(ids: dict[str, int], start: datetime) -> dict[str, Any]:
    end = start + timedelta(minutes=50)
    return {"client_id": ids["client"], "therapist_id": ids["therapist"],
            "service_id": ids["service"], "room_id": ids["room"],
            "technique": "swedish", "starts_at": start, "ends_at": end,
            "blocks_until": end + timedelta(minutes=10), "status": "confirmed",
            "price_pence": 5000, "created_by_id": ids["client"], "created_at": start}


def _history(engine: Engine, ids: dict[str, int], first: datetime,
             until: datetime) -> int:
    from clinic.booking.models import Booking

    days = (first + timedelta(days=n) for n in range((until - first).days))
    rows = [_row(ids, day + timedelta(hours=h)) for day in days if day.weekday() < 5
            for h in range(SESSIONS_A_DAY)]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(Booking), rows)
    return len(rows)


def _timed_inserts(engine: Engine, ids: dict[str, int],
                   now: datetime) -> tuple[float, float]:
    sqlite = engine.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    # Only constant names go into the text; every value is bound.
    sql = (f"INSERT INTO booking ({', '.join(COLUMNS)}) "  # noqa: S608
           f"VALUES ({', '.join([mark] * len(COLUMNS))})")
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if sqlite:
            cursor.execute("BEGIN IMMEDIATE")
        times = []
        for n in range(TIMED):
            row = _row(ids, now + timedelta(days=1, hours=n))
            values = [_driver_value(row[c], sqlite) for c in COLUMNS]
            started = time.perf_counter()
            cursor.execute(sql, values)
            times.append(time.perf_counter() - started)
        raw.rollback()
    finally:
        raw.close()
    times.sort()
    return statistics.median(times) * 1e6, times[int(len(times) * 0.99)] * 1e6


def _driver_value(value: Any, sqlite: bool) -> Any:
    # The stored form of clinic.db.UTCDateTime: UTC text on SQLite.
    if sqlite and isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value
