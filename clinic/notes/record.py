"""A client's own record: what they told us, what the screening said to them,
their appointments, and the plan and advice of their signed session notes.

One structure serves the printable page and the JSON download. It holds only
what the client may see: never the therapist's rationales, fired rule ids,
SOAP details or drafts.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clinic.accounts.models import User
from clinic.booking.models import Booking, Therapist
from clinic.intake import vocabulary
from clinic.intake.models import Intake, IntakeKind, Screening
from clinic.intake.screening import CAUTION_HEADING
from clinic.intake.vocabulary import Kind
from clinic.notes.queries import signed_notes

OUTCOME_FOR_CLIENT = {
    "urgent": "Get medical help now",
    "refer": "See a clinician before booking",
    "caution": "You can book (with some precautions)",
    "clear": "You can book",
}
KIND_FOR_CLIENT = {
    IntakeKind.FULL: "Health questionnaire",
    IntakeKind.RESCREEN: "Safety questions before a booking",
}


def _when(value: datetime | None, zone: tzinfo) -> dict[str, str | None]:
    if value is None:
        return {"at": None, "local": None}
    local = value.astimezone(zone)
    return {"at": value.isoformat(),
            "local": f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"}


def answer_text(spec: vocabulary.Field, value: Any) -> str:
    """An answer as the words the client chose (never raw keys)."""
    if value is None or value == []:
        return "Not answered"
    if spec.kind is Kind.INTEGER:
        return str(value)
    items = value if isinstance(value, list) else [value]
    return "; ".join(
        spec.label(item) if isinstance(item, str) and item in spec.values
        else "Not a listed answer"
        for item in items
    )


def _answers(intake: Intake) -> list[dict[str, str]]:
    keys = (vocabulary.RESCREEN_FIELDS if intake.kind is IntakeKind.RESCREEN
            else vocabulary.FIELD_KEYS)
    return [
        {"question": vocabulary.field(key).question,
         "answer": answer_text(vocabulary.field(key), intake.answers.get(key))}
        for key in keys
    ]


def _screening(screening: Screening, zone: tzinfo) -> dict[str, Any]:
    result: Mapping[str, Any] = screening.result
    messages = list(result.get("client_messages", []))
    if screening.outcome == "caution":
        messages.insert(0, CAUTION_HEADING)
    return {"when": _when(screening.created_at, zone),
            "outcome": OUTCOME_FOR_CLIENT.get(screening.outcome, screening.outcome),
            "messages": messages}


def _intakes(db: Session, client_id: int, zone: tzinfo) -> list[dict[str, Any]]:
    intakes = db.scalars(
        select(Intake).where(Intake.client_id == client_id)
        .options(selectinload(Intake.screenings))
        .order_by(Intake.created_at.desc(), Intake.id.desc())
    )
    return [
        {"kind": KIND_FOR_CLIENT[intake.kind],
         "when": _when(intake.created_at, zone),
         "answers": _answers(intake),
         "screenings": [_screening(s, zone) for s in intake.screenings]}
        for intake in intakes
    ]


def _appointments(db: Session, client_id: int, zone: tzinfo) -> list[dict[str, Any]]:
    bookings = db.scalars(
        select(Booking).where(Booking.client_id == client_id)
        .options(selectinload(Booking.service),
                 selectinload(Booking.therapist).selectinload(Therapist.user))
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
    )
    return [
        {"when": _when(b.starts_at, zone),
         "service": b.service.name,
         "therapist": b.therapist.user.full_name,
         "technique": vocabulary.TECHNIQUE_NAMES.get(b.technique, b.technique),
         "status": b.status.label}
        for b in bookings
    ]


def _notes(db: Session, client_id: int, zone: tzinfo) -> list[dict[str, Any]]:
    rows = signed_notes(db, client_id)
    authors = {u.id: u.full_name for u in db.scalars(
        select(User).where(User.id.in_({note.author_id for note, _ in rows}))
    )}
    return [
        {"session": _when(booking.starts_at, zone),
         "therapist": authors.get(note.author_id, ""),
         "plan": note.plan,
         "home_care": note.home_care}
        for note, booking in reversed(rows)
    ]


def client_record(
    db: Session, client: User, zone: tzinfo, now: datetime
) -> dict[str, Any]:
    """Everything the client may see about themselves, newest first."""
    return {
        "generated": _when(now, zone),
        "client": {
            "name": client.full_name,
            "email": client.email,
            "phone": client.phone,
            "date_of_birth": client.date_of_birth.isoformat()
            if client.date_of_birth else None,
        },
        "intakes": _intakes(db, client.id, zone),
        "appointments": _appointments(db, client.id, zone),
        "session_notes": _notes(db, client.id, zone),
    }
