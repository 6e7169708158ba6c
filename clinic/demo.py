"""The demo clinic that ``make run`` seeds. Demo data only: refused in
production, and idempotent (running it again adds nothing twice).

Each record is added only when missing (users by email, services and rooms
by name, a therapist's profile and hours by therapist, intakes by client), so
a second run changes nothing, and nothing an admin edited since is undone.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.accounts.services import create_user, find_user_by_email
from clinic.booking.models import (
    Booking,
    Room,
    Service,
    Therapist,
    TherapistTechnique,
    WorkingHours,
)
from clinic.db import utcnow
from clinic.intake.models import Intake
from clinic.intake.services import latest_screening, submit_intake
from clinic.intake.vocabulary import TECHNIQUE_KEYS
from clinic.settings.services import load_settings

DEMO_PASSWORD = "demo-clinic-2026"  # noqa: S105  (published demo login)

DEMO_USERS: tuple[dict[str, Any], ...] = (
    {"email": "admin@example.com", "full_name": "Alex Admin", "role": Role.ADMIN},
    {
        "email": "therapist1@example.com",
        "full_name": "Tara Jones",
        "role": Role.THERAPIST,
        "phone": "020 7946 0101",
    },
    {
        "email": "therapist2@example.com",
        "full_name": "Sam Patel",
        "role": Role.THERAPIST,
        "phone": "020 7946 0102",
    },
    {
        "email": "client1@example.com",
        "full_name": "Chris Client",
        "role": Role.CLIENT,
        "phone": "07700 900001",
        "date_of_birth": date(1988, 4, 12),
    },
    {
        "email": "client2@example.com",
        "full_name": "Dana Doe",
        "role": Role.CLIENT,
        "phone": "07700 900002",
        "date_of_birth": date(1979, 9, 30),
    },
)

DEMO_SERVICES: tuple[dict[str, Any], ...] = (
    {
        "name": "Sciatica relief massage",
        "duration_minutes": 60,
        "price_pence": 5500,
        "buffer_minutes": 15,
        "description": "Focused work on the lower back, buttock and leg muscles "
        "that can press on the sciatic nerve.",
    },
    {
        "name": "Back and hip massage",
        "duration_minutes": 45,
        "price_pence": 4500,
        "buffer_minutes": 10,
        "description": "Eases tight muscles of the lower back and hips.",
    },
    {
        "name": "Initial assessment and massage",
        "duration_minutes": 75,
        "price_pence": 6500,
        "buffer_minutes": 15,
        "description": "A first visit: we go through your answers together, then "
        "treat.",
    },
)
DEMO_ROOMS = ("Treatment room 1", "Treatment room 2")

MON_TO_FRI, TUE_TO_SAT = range(5), range(1, 6)
DEMO_THERAPISTS: dict[str, dict[str, Any]] = {
    "therapist1@example.com": {
        "bio": "Sports and remedial massage therapist with ten years of "
        "experience treating sciatica and lower back pain.",
        "techniques": TECHNIQUE_KEYS,
        "hours": [(day, time(9), time(12, 30)) for day in MON_TO_FRI]
        + [(day, time(13, 30), time(17)) for day in MON_TO_FRI],
    },
    "therapist2@example.com": {
        "bio": "Massage therapist who specialises in gentle work for "
        "long-standing back pain.",
        "techniques": ("swedish", "deep_tissue", "trigger_point"),
        "hours": [(day, time(10), time(18)) for day in TUE_TO_SAT],
    },
}

_CLEAR_BASE: dict[str, Any] = {
    "age_years": 37,
    "pregnancy": "not_applicable",
    "pain_score": 5,
    "pain_locations": ["lower_back", "buttock", "thigh"],
    "legs_affected": "right",
    "pain_duration": "less_than_6_weeks",
    "onset": "gradual",
    "pain_trend": "stable",
    "symptom_extent_trend": "no_change",
    "suspected_cause": "tight_muscles",
    "cause_source": "self_reported",
    "clinician_assessed": "no",
    "muscle_knots": "no",
    "bladder_change": "no",
    "bowel_change": "no",
    "saddle_numbness": "no",
    "leg_weakness": "none",
    "leg_numbness": "none",
    "one_leg_swollen_warm_red": "no",
    "breathless_or_chest_pain": "no",
    "fever": "no",
    "unexplained_weight_loss": "no",
    "night_pain": "no",
    "history_of_cancer": "no",
    "recent_injury": "none",
    "surgery_last_12_weeks": "no",
    "blood_pressure_status": "no_known_problem",
    "medications": ["none"],
    "conditions": ["none"],
}
DEMO_INTAKES: dict[str, dict[str, Any]] = {
    # Clear: chronic tight muscles assessed by a clinician, with knots, so
    # trigger point therapy is suggested first.
    "client1@example.com": {
        **_CLEAR_BASE,
        "pain_duration": "more_than_12_weeks",
        "clinician_assessed": "yes",
        "cause_source": "clinician_diagnosed",
        "muscle_knots": "yes",
    },
    # Caution: an antiplatelet medicine rules out deep techniques and puts
    # the screening in the therapists' review queue.
    "client2@example.com": {
        **_CLEAR_BASE,
        "age_years": 46,
        "medications": ["antiplatelet"],
    },
}


def seed_demo(db: Session, config: dict[str, Any]) -> list[tuple[str, str]]:
    """Create whatever demo records are missing; return (role, email) logins."""
    users = [_ensure_user(db, spec, config) for spec in DEMO_USERS]
    db.flush()
    services = [_ensure_named(db, Service, spec) for spec in DEMO_SERVICES]
    for name in DEMO_ROOMS:
        _ensure_named(db, Room, {"name": name})
    by_email = {user.email: user for user in users}
    for email, spec in DEMO_THERAPISTS.items():
        _ensure_therapist(db, by_email[email], services, spec)
    for email, answers in DEMO_INTAKES.items():
        _ensure_intake(db, by_email[email], answers, config)
    db.flush()
    for client_email, (
        therapist_email,
        service_name,
        technique,
        at,
    ) in DEMO_BOOKINGS.items():
        _ensure_booking(
            db,
            by_email[client_email],
            by_email[therapist_email],
            service_name,
            technique,
            at,
            config,
        )
    db.flush()
    return [(user.role.value, user.email) for user in users]


# One upcoming session each, on therapist1's next working day (clinic time),
# so the schedules, the client pages and the review queue show something.
DEMO_BOOKINGS: dict[str, tuple[str, str, str, time]] = {
    "client1@example.com": (
        "therapist1@example.com",
        "Sciatica relief massage",
        "trigger_point",
        time(10),
    ),
    "client2@example.com": (
        "therapist1@example.com",
        "Back and hip massage",
        "swedish",
        time(14),
    ),
}


def _next_working_day(config: dict[str, Any]) -> date:
    day = utcnow().astimezone(ZoneInfo(config["CLINIC_TIMEZONE"])).date()
    day += timedelta(days=2)
    while day.weekday() >= 5:  # therapist1 works Monday to Friday
        day += timedelta(days=1)
    return day


def _ensure_booking(
    db: Session,
    client: User,
    therapist: User,
    service_name: str,
    technique: str,
    at: time,
    config: dict[str, Any],
) -> None:
    if db.scalar(select(Booking.id).where(Booking.client_id == client.id).limit(1)):
        return
    service = db.scalar(select(Service).where(Service.name == service_name))
    screening = latest_screening(db, client.id)
    zone = ZoneInfo(config["CLINIC_TIMEZONE"])
    starts = datetime.combine(_next_working_day(config), at, tzinfo=zone)
    ends = starts + timedelta(minutes=service.duration_minutes)
    db.add(
        Booking(
            client_id=client.id,
            therapist_id=therapist.id,
            service_id=service.id,
            room_id=db.scalar(select(Room.id).order_by(Room.id).limit(1)),
            technique=technique,
            starts_at=starts,
            ends_at=ends,
            blocks_until=ends + timedelta(minutes=service.buffer_minutes),
            screening_id=screening.id if screening else None,
            price_pence=service.price_pence,
            created_by_id=client.id,
        )
    )


def _ensure_user(db: Session, spec: dict[str, Any], config: dict[str, Any]) -> User:
    existing = find_user_by_email(db, spec["email"])
    if existing is not None:
        return existing
    return create_user(
        db,
        password=DEMO_PASSWORD,
        hash_profile=config["PASSWORD_HASH_PROFILE"],
        email_verified_at=utcnow(),
        **spec,
    )


def _ensure_named(db: Session, model: type[Any], spec: dict[str, Any]) -> Any:
    existing = db.scalar(select(model).where(model.name == spec["name"]))
    if existing is not None:
        return existing
    row = model(**spec)
    db.add(row)
    db.flush()
    return row


def _ensure_therapist(
    db: Session, user: User, services: list[Service], spec: dict[str, Any]
) -> None:
    if db.get(Therapist, user.id) is not None:
        return
    therapist = Therapist(user_id=user.id, bio=spec["bio"], services=services)
    therapist.techniques = [
        TherapistTechnique(therapist_id=user.id, technique=key)
        for key in spec["techniques"]
    ]
    therapist.hours = [
        WorkingHours(therapist_id=user.id, weekday=day, start=start, end=end)
        for day, start, end in spec["hours"]
    ]
    db.add(therapist)
    db.flush()


def _ensure_intake(
    db: Session, client: User, answers: dict[str, Any], config: dict[str, Any]
) -> None:
    if db.scalar(select(Intake.id).where(Intake.client_id == client.id).limit(1)):
        return
    submit_intake(
        db, client, answers, by=client, settings=load_settings(db, config), now=utcnow()
    )
