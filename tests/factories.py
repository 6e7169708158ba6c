"""Factories for booking data: plain functions taking a session.

They add rows, commit (the ``db`` fixture is an autocommit session; other
sessions, e.g. a race test's setup, get their work committed too) and
return the object. Every argument has a working default, so a test names
only what it is about::

    service = make_service(db, duration=60, buffer=15)
    therapist = make_therapist(db, services=[service])
    client = make_client(db)
    make_intake(db, client, now=NOW)
    screening = make_rescreen(db, client, now=NOW)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.accounts.services import create_user
from clinic.booking import services
from clinic.booking.models import (
    Booking,
    BookingStatus,
    Closure,
    Room,
    Service,
    Therapist,
    TherapistTechnique,
    TimeOff,
    WorkingHours,
)
from clinic.db import new_session
from clinic.intake.models import Screening
from clinic.intake.services import submit_intake, submit_rescreen
from clinic.intake.vocabulary import RESCREEN_FIELDS, TECHNIQUE_KEYS
from clinic.settings.services import Settings
from tests.conftest import PASSWORD

# screening-rules.md §2.1, "Example intake (clear)": booking allowed, nothing
# excluded, Swedish massage suggested (the pain began under 6 weeks ago).
CLEAR_ANSWERS: Mapping[str, Any] = {
    "age_years": 35, "pregnancy": "not_applicable", "pain_score": 4,
    "pain_locations": ["lower_back", "buttock", "thigh"], "legs_affected": "right",
    "pain_duration": "less_than_6_weeks", "onset": "gradual", "pain_trend": "stable",
    "symptom_extent_trend": "no_change", "suspected_cause": "tight_muscles",
    "cause_source": "self_reported", "clinician_assessed": "no", "muscle_knots": "no",
    "bladder_change": "no", "bowel_change": "no", "saddle_numbness": "no",
    "leg_weakness": "none", "leg_numbness": "none", "one_leg_swollen_warm_red": "no",
    "breathless_or_chest_pain": "no", "fever": "no", "unexplained_weight_loss": "no",
    "night_pain": "no", "history_of_cancer": "no", "recent_injury": "none",
    "surgery_last_12_weeks": "no", "blood_pressure_status": "no_known_problem",
    "medications": ["none"], "conditions": ["none"],
}
# Caution: a blood thinner excludes every firm technique (NO_DEEP).
BLEEDING_RISK_ANSWERS: Mapping[str, Any] = {**CLEAR_ANSWERS,
                                           "medications": ["anticoagulant"]}
# Refer (booking on hold until a clinician's note): severe pain.
REFER_ANSWERS: Mapping[str, Any] = {**CLEAR_ANSWERS, "pain_score": 9}
# Urgent: new bladder symptoms (U-CES).
URGENT_ANSWERS: Mapping[str, Any] = {**CLEAR_ANSWERS, "bladder_change": "yes"}

NINE_TO_FIVE = (time(9), time(17))
EVERY_DAY: tuple[tuple[int, time, time], ...] = tuple(
    (weekday, *NINE_TO_FIVE) for weekday in range(7)
)

_numbers = itertools.count(1)


def booking_settings(**overrides: Any) -> Settings:
    """The configuration defaults (Europe/London, 2 h notice, 56 days ahead,
    24 h cut-off, 15-minute steps), with ``overrides``."""
    values: dict[str, Any] = {
        "clinic_name": "Clinic", "clinic_phone": "020 7946 0000",
        "emergency_number": "999", "urgent_care": "NHS 111 or an urgent GP appointment",
        "timezone": "Europe/London", "clearance_valid_days": 90,
        "notes_visible_to_all_therapists": False, "min_notice_minutes": 120,
        "horizon_days": 56, "cancel_cutoff_hours": 24, "slot_step_minutes": 15,
    }
    return Settings(**{**values, **overrides})


def make_person(db: Session, role: Role = Role.CLIENT, **overrides: Any) -> User:
    n = next(_numbers)
    values: dict[str, Any] = {
        "email": f"{role.value}-f{n}@example.com", "password": PASSWORD,
        "full_name": f"{role.value.title()} {n}", "role": role,
        "phone": "07700 900123", "hash_profile": "fast",
        "date_of_birth": date(1985, 1, 1) if role is Role.CLIENT else None,
        "email_verified_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    user = create_user(db, **{**values, **overrides})
    db.commit()
    return user


def make_client(db: Session, **overrides: Any) -> User:
    return make_person(db, Role.CLIENT, **overrides)


def make_service(
    db: Session, *, name: str | None = None, duration: int = 60, buffer: int = 0,
    price: int = 4500, active: bool = True,
) -> Service:
    service = Service(name=name or f"Back massage {next(_numbers)}",
                      duration_minutes=duration, buffer_minutes=buffer,
                      price_pence=price, active=active)
    db.add(service)
    db.commit()
    return service


def make_therapist(
    db: Session, *, user: User | None = None, name: str | None = None,
    services: Iterable[Service] = (), techniques: Sequence[str] = TECHNIQUE_KEYS,
    hours: Iterable[tuple[int, time, time]] = EVERY_DAY, active: bool = True,
) -> Therapist:
    """A therapist offering ``services`` and ``techniques``; by default working
    09:00-17:00 (clinic time) every day."""
    if user is None:
        extra = {"full_name": name} if name else {}
        user = make_person(db, Role.THERAPIST, **extra)
    therapist = Therapist(user_id=user.id, active=active)
    therapist.services = list(services)
    therapist.techniques = [TherapistTechnique(technique=t) for t in techniques]
    therapist.hours = [WorkingHours(weekday=d, start=s, end=e) for d, s, e in hours]
    db.add(therapist)
    db.commit()
    return therapist


def make_room(db: Session, *, name: str | None = None, active: bool = True) -> Room:
    room = Room(name=name or f"Room {next(_numbers)}", active=active)
    db.add(room)
    db.commit()
    return room


def make_intake(
    db: Session, client: User, *, now: datetime,
    answers: Mapping[str, Any] = CLEAR_ANSWERS, settings: Settings | None = None,
) -> Screening:
    """A full questionnaire (default: the spec's clear example), screened."""
    screening = submit_intake(db, client, answers, by=client,
                              settings=settings or booking_settings(), now=now)
    db.commit()
    return screening


def make_rescreen(
    db: Session, client: User, *, now: datetime,
    answers: Mapping[str, Any] = CLEAR_ANSWERS, settings: Settings | None = None,
) -> Screening:
    """The pre-booking safety questions, answered at ``now``."""
    fresh = {key: answers[key] for key in RESCREEN_FIELDS if key in answers}
    screening = submit_rescreen(db, client, fresh, by=client,
                                settings=settings or booking_settings(), now=now)
    db.commit()
    return screening


def make_booking(
    db: Session, *, client: User, therapist: Therapist, service: Service,
    start: datetime, technique: str = "swedish", room: Room | None = None,
    status: BookingStatus = BookingStatus.CONFIRMED,
    screening: Screening | None = None, commit: bool = True,
) -> Booking:
    """A booking row written directly, bypassing every check of the service."""
    ends = start + timedelta(minutes=service.duration_minutes)
    booking = Booking(
        client_id=client.id, therapist_id=therapist.user_id, service_id=service.id,
        room_id=room.id if room else None, technique=technique, status=status,
        starts_at=start, ends_at=ends,
        blocks_until=ends + timedelta(minutes=service.buffer_minutes),
        screening_id=screening.id if screening else None,
        price_pence=service.price_pence, created_by_id=client.id,
        created_at=start - timedelta(days=7),
    )
    db.add(booking)
    if commit:
        db.commit()
    return booking


def make_time_off(
    db: Session, therapist: Therapist, start: datetime, end: datetime,
    *, by: User | None = None,
) -> TimeOff:
    off = TimeOff(therapist_id=therapist.user_id, starts_at=start, ends_at=end,
                  reason="Holiday", created_by_id=(by or therapist.user).id)
    db.add(off)
    db.commit()
    return off


def make_closure(
    db: Session, start: datetime, end: datetime, *, by: User
) -> Closure:
    closure = Closure(starts_at=start, ends_at=end, reason="Training day",
                      created_by_id=by.id)
    db.add(closure)
    db.commit()
    return closure


# --- fixtures ---------------------------------------------------------------------
# Use them in a test module by assignment (an import would shadow them for
# ruff):  world, session, book = factories.world, factories.session, factories.book

NOW = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)  # a Monday; London is on GMT
WED_10 = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)  # Wednesday 10:00 in London
SETTINGS = booking_settings()


@dataclass
class World:
    """One bookable service and therapist, and a client with a fresh
    re-screen (at ``NOW``) of the spec's clear example intake."""

    service: Service
    therapist: Therapist
    client: User
    screening: Screening


@pytest.fixture
def world(db: Session) -> World:
    service = make_service(db, name="Back massage", duration=60, buffer=15)
    therapist = make_therapist(db, name="Alex Therapist", services=[service])
    client = make_client(db, full_name="Casey Client")
    make_intake(db, client, now=NOW - timedelta(days=3))
    return World(service, therapist, client, make_rescreen(db, client, now=NOW))


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A writing session like a request's, inside an app context (mail
    templates render in it). Arrange data before using it: on SQLite it
    holds the write lock from its first statement until it ends."""
    with app.app_context():
        s = new_session(app)
        yield s
        s.close()


Book = Callable[..., Booking]


@pytest.fixture
def book(session: Session, world: World) -> Book:
    """``book(**overrides)``: book_session for the world's client at WED_10."""

    def do_book(**overrides: Any) -> Booking:
        client = session.get(User, overrides.pop("client", world.client).id)
        values: dict[str, Any] = {
            "client": client, "booked_by": client, "service_id": world.service.id,
            "technique": "swedish", "therapist_id": world.therapist.user_id,
            "start": WED_10, "screening_id": world.screening.id,
            "settings": SETTINGS, "now": NOW,
        }
        values.update(overrides)
        return services.book_session(session, **values)

    return do_book
