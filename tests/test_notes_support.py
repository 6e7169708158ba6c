"""Arranging session notes for the notes tests (helpers, no tests here).

Times are relative to the real clock, because the pages read ``clock.now()``:
a session "an hour ago" is one the therapist may write up now.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.audit.models import AuditEvent
from clinic.audit.services import Actor
from clinic.booking.models import Booking, BookingStatus, Service, Therapist
from clinic.db import utcnow
from clinic.intake import services as intake_services
from clinic.intake.models import Screening
from clinic.notes import services
from clinic.notes.models import SessionNote
from tests.factories import (
    BLEEDING_RISK_ANSWERS,
    CLEAR_ANSWERS,
    make_booking,
    make_client,
    make_intake,
    make_service,
    make_therapist,
)

# Caution that excludes deep tissue only (C-MILD-NEURO), not all deep work.
MILD_NEURO_ANSWERS: Mapping[str, Any] = {**CLEAR_ANSWERS, "leg_weakness": "mild"}
__all__ = ["BLEEDING_RISK_ANSWERS", "CLEAR_ANSWERS", "MILD_NEURO_ANSWERS"]

COMPLETE = services.NoteInput(
    subjective="Pain settled since last week.",
    objective="Tight right gluteals; no guarding.",
    assessment="Settling muscular pain.",
    plan="Weekly sessions for three weeks.",
    techniques_used=("swedish",),
    pressure="moderate",
    areas_treated="Lower back and right buttock",
    areas_avoided="",
    nprs_before=6,
    nprs_after=4,
    extent_level=2,
    extent_trend="no_change",
    home_care="Walk for 20 minutes a day.",
)


@dataclass
class Clinic:
    service: Service
    therapist: Therapist
    client: User

    @property
    def therapist_user(self) -> User:
        return self.therapist.user


def arrange_clinic(db: Session) -> Clinic:
    service = make_service(db, name="Back massage", duration=60)
    therapist = make_therapist(db, name="Alex Therapist", services=[service])
    client = make_client(db, full_name="Casey Client")
    return Clinic(service, therapist, client)


def session_at(
    db: Session, clinic: Clinic, start: datetime, *,
    answers: Mapping[str, Any] = CLEAR_ANSWERS,
    status: BookingStatus = BookingStatus.CONFIRMED,
    therapist: Therapist | None = None,
) -> Booking:
    """A booking at ``start`` made with a fresh full intake screened a day
    before it (each booking has its own screening)."""
    screening = make_intake(db, clinic.client, now=start - timedelta(days=1),
                            answers=answers)
    return make_booking(db, client=clinic.client,
                        therapist=therapist or clinic.therapist,
                        service=clinic.service, start=start, screening=screening,
                        status=status)


def acknowledge(db: Session, booking: Booking, therapist: User) -> None:
    screening = db.get(Screening, booking.screening_id)
    assert screening is not None
    intake_services.acknowledge(db, screening, therapist, utcnow())
    db.commit()


def actor_for(user: User) -> Actor:
    return Actor(user=user, ip="127.0.0.1")


def write_note(
    db: Session, booking: Booking, author: User, *, sign: bool = True,
    now: datetime | None = None, **changes: Any,
) -> SessionNote:
    """Write (and by default sign) the booking's note through the service."""
    note = services.save_note(db, booking, author, replace(COMPLETE, **changes),
                              actor=actor_for(author), now=now or utcnow(), sign=sign)
    db.commit()
    return note


def audit_count(db: Session, **where: Any) -> int:
    query = select(func.count(AuditEvent.id))
    for name, value in where.items():
        query = query.where(getattr(AuditEvent, name) == value)
    return db.scalar(query) or 0


def audit_rows(db: Session, since_id: int = 0) -> list[AuditEvent]:
    db.expire_all()
    return list(db.scalars(select(AuditEvent).where(AuditEvent.id > since_id)
                           .order_by(AuditEvent.id)))


def last_audit_id(db: Session) -> int:
    return db.scalar(select(func.max(AuditEvent.id))) or 0


def hours_ago(hours: float) -> datetime:
    return utcnow() - timedelta(hours=hours)
