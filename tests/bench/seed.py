"""The benchmark's clinic: built by the real migrations, filled in bulk.

10 therapists working Monday to Friday 09:00-17:00 (clinic time), 3 services,
4 weeks of confirmed bookings from tomorrow filling about 60 % of working
hours (session time, buffers excluded; non-overlapping per therapist and per
client, buffers respected), clients who made them, and the clients the load
uses: each has a full intake from a month ago and a pre-booking re-screen made
now (the gate wants a screening under 2 hours old, used by no booking).
No rooms: the clinic in issue #4 has none.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert
from sqlalchemy.orm import Session

from tests.factories import CLEAR_ANSWERS as _SPEC_EXAMPLE

BENCH_PASSWORD = "bench-password-2026"
THERAPISTS = 10
WEEKS = 4
DAY_START, DAY_END = time(9), time(17)
# (name, minutes, buffer minutes, price in pence); the load books the second.
SERVICES = (
    ("Back massage, 30 minutes", 30, 10, 3500),
    ("Back and leg massage, 60 minutes", 60, 15, 6000),
    ("Sciatica session, 90 minutes", 90, 15, 8500),
)
LOAD_SERVICE = 1
HISTORY_CLIENTS = 200
# Gaps between seeded sessions, in minutes: tuned for about 60 % occupancy.
GAPS = (0, 0, 0, 15, 30, 45, 60)

# The spec's example intake (screening-rules.md §2.1): it screens clear.
CLEAR_ANSWERS: dict[str, Any] = dict(_SPEC_EXAMPLE)


@dataclass(frozen=True)
class LoadClient:
    user_id: int
    email: str
    screening_id: int


@dataclass(frozen=True)
class Seeded:
    therapist_ids: list[int]
    service_ids: list[int]
    technique: str  # allowed by the clients' screenings, offered by everyone
    clients: list[LoadClient]
    bookings: int
    occupancy: float  # booked session time / working time over the 4 weeks
    first_workday: date  # the first working day after today, clinic time
    seconds: float = 0.0


def bench_config() -> dict[str, Any]:
    """The configuration defaults the app would run with (no stored settings)."""
    from clinic.config import Defaults

    return {name: getattr(Defaults, name) for name in dir(Defaults) if name.isupper()}


def seed(engine: Engine, *, load_clients: int, now: datetime) -> Seeded:
    """Fill a freshly migrated database; commits once."""
    from clinic.accounts.passwords import hash_password

    zone = ZoneInfo(bench_config()["CLINIC_TIMEZONE"])
    today = now.astimezone(zone).date()
    first_workday = next(
        today + timedelta(days=n) for n in range(1, 8)
        if (today + timedelta(days=n)).weekday() < 5
    )
    # One cheap hash for every bench user: they share the password.
    password_hash = hash_password(BENCH_PASSWORD, "fast")
    with Session(engine) as db:
        service_ids = _services(db)
        therapist_ids = _therapists(db, password_hash, service_ids, now)
        history = _users(db, "history", HISTORY_CLIENTS, password_hash, now)
        count, occupancy = _bookings(
            db, therapist_ids, service_ids, history,
            start_day=today + timedelta(days=1), zone=zone, now=now,
        )
        technique, clients = _load_clients(db, load_clients, password_hash, now)
        db.commit()
    return Seeded(therapist_ids, service_ids, technique, clients, count, occupancy,
                  first_workday)


def _returning_ids(db: Session, model: Any, rows: list[dict[str, Any]]) -> list[int]:
    stmt = insert(model).returning(model.id, sort_by_parameter_order=True)
    return list(db.scalars(stmt, rows))


def _services(db: Session) -> list[int]:
    from clinic.booking.models import Service

    return _returning_ids(db, Service, [
        {"name": name, "duration_minutes": minutes, "buffer_minutes": buffer,
         "price_pence": price, "description": "", "active": True}
        for name, minutes, buffer, price in SERVICES
    ])


def _users(
    db: Session, kind: str, count: int, password_hash: str, now: datetime
) -> list[int]:
    from clinic.accounts.models import Role, User

    role = Role.THERAPIST if kind == "therapist" else Role.CLIENT
    return _returning_ids(db, User, [
        {"email": f"bench-{kind}-{n}@example.com", "password_hash": password_hash,
         "role": role, "full_name": f"Bench {kind.title()} {n:04d}",
         "date_of_birth": date(1985, 1, 1) if role is Role.CLIENT else None,
         "active": True, "session_version": 1, "created_at": now,
         "email_verified_at": now}
        for n in range(1, count + 1)
    ])


def _therapists(
    db: Session, password_hash: str, service_ids: list[int], now: datetime
) -> list[int]:
    from clinic.booking.models import (
        Therapist,
        TherapistTechnique,
        WorkingHours,
        therapist_service,
    )
    from clinic.intake.vocabulary import TECHNIQUE_KEYS

    ids = _users(db, "therapist", THERAPISTS, password_hash, now)
    db.execute(insert(Therapist), [{"user_id": i, "bio": "", "active": True}
                                   for i in ids])
    db.execute(insert(therapist_service), [
        {"therapist_id": i, "service_id": s} for i in ids for s in service_ids
    ])
    db.execute(insert(TherapistTechnique), [
        {"therapist_id": i, "technique": key} for i in ids for key in TECHNIQUE_KEYS
    ])
    db.execute(insert(WorkingHours), [
        {"therapist_id": i, "weekday": day, "start": DAY_START, "end": DAY_END}
        for i in ids for day in range(5)
    ])
    return ids


def _bookings(
    db: Session, therapist_ids: list[int], service_ids: list[int],
    clients: list[int], *, start_day: date, zone: ZoneInfo, now: datetime,
) -> tuple[int, float]:
    """Fill each therapist's working days with sessions separated by random
    gaps; each session goes to the first client free then."""
    from clinic.booking.models import Booking, BookingStatus

    rng = random.Random(4)  # issue #4: the same clinic on every run
    client_busy: dict[int, list[tuple[datetime, datetime]]] = {c: [] for c in clients}
    rows: list[dict[str, Any]] = []
    booked = worked = timedelta(0)
    for offset in range(WEEKS * 7):
        day = start_day + timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        opens = datetime.combine(day, DAY_START, zone).astimezone(UTC)
        closes = datetime.combine(day, DAY_END, zone).astimezone(UTC)
        for therapist in therapist_ids:
            worked += closes - opens
            at = opens + timedelta(minutes=rng.choice(GAPS))
            while True:
                index = rng.randrange(len(SERVICES))
                _, minutes, buffer, price = SERVICES[index]
                ends = at + timedelta(minutes=minutes)
                if ends > closes:
                    break
                client = _free_client(client_busy, rng, at, ends)
                rows.append({
                    "client_id": client, "therapist_id": therapist,
                    "service_id": service_ids[index], "technique": "swedish",
                    "starts_at": at, "ends_at": ends,
                    "blocks_until": ends + timedelta(minutes=buffer),
                    "status": BookingStatus.CONFIRMED, "price_pence": price,
                    "created_by_id": client, "created_at": now,
                })
                booked += ends - at
                at = ends + timedelta(minutes=buffer + rng.choice(GAPS))
    db.execute(insert(Booking), rows)
    return len(rows), booked / worked


def _free_client(
    busy: dict[int, list[tuple[datetime, datetime]]], rng: random.Random,
    start: datetime, end: datetime,
) -> int:
    candidates = list(busy)
    rng.shuffle(candidates)
    for client in candidates:
        if all(end <= s or e <= start for s, e in busy[client]):
            busy[client].append((start, end))
            return client
    raise RuntimeError("not enough history clients for the seeded bookings")


def _load_clients(
    db: Session, count: int, password_hash: str, now: datetime
) -> tuple[str, list[LoadClient]]:
    """Clients with an old full intake and a fresh re-screen (both screened
    once by the real engine; the stored result is the same for all)."""
    from clinic.intake.models import IntakeKind
    from clinic.intake.services import run_screening
    from clinic.settings.services import load_settings

    result = run_screening(CLEAR_ANSWERS, load_settings(db, bench_config()))
    assert result.booking_allowed and result.top_technique is not None
    ids = _users(db, "client", count, password_hash, now)
    month_ago = now - timedelta(days=30)
    full = _intakes(db, ids, IntakeKind.FULL, month_ago, based_on=[None] * count)
    _screenings(db, full, ids, result, month_ago)
    rescreens = _intakes(db, ids, IntakeKind.RESCREEN, now, based_on=full)
    screening_ids = _screenings(db, rescreens, ids, result, now)
    clients = [
        LoadClient(c, f"bench-client-{n}@example.com", s)
        for n, (c, s) in enumerate(zip(ids, screening_ids, strict=True), start=1)
    ]
    return result.top_technique, clients


def _intakes(
    db: Session, clients: list[int], kind: Any, at: datetime,
    based_on: list[int] | list[None],
) -> list[int]:
    from clinic.intake.models import Intake

    return _returning_ids(db, Intake, [
        {"client_id": c, "kind": kind, "based_on_id": base, "answers": CLEAR_ANSWERS,
         "created_by_id": c, "created_at": at}
        for c, base in zip(clients, based_on, strict=True)
    ])


def _screenings(
    db: Session, intakes: list[int], clients: list[int], result: Any, at: datetime
) -> list[int]:
    from clinic.intake.models import Screening

    return _returning_ids(db, Screening, [
        {"intake_id": i, "client_id": c, "ruleset_version": result.ruleset_version,
         "outcome": result.outcome.value, "booking_allowed": True,
         "top_technique": result.top_technique, "extent_level": result.extent_level,
         "result": result.to_record(), "cleared_rules": [], "clearance_ids": [],
         "created_at": at}
        for i, c in zip(intakes, clients, strict=True)
    ])
