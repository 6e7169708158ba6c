"""Reading notes: the screening behind a booking, who may read a client's
notes, and a client's notes in session order."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.booking.models import Booking, BookingStatus
from clinic.intake.models import Screening
from clinic.intake.vocabulary import NO_DEEP
from clinic.notes.advice import HOME_CARE
from clinic.notes.models import NoteStatus, SessionNote


@dataclass(frozen=True)
class NoteContext:
    """What the screening made for a booking means for its note."""

    booking: Booking
    screening: Screening | None
    excluded: frozenset[str] = field(default_factory=frozenset)
    advisories: tuple[str, ...] = ()

    @property
    def no_deep(self) -> bool:
        return self.excluded >= NO_DEEP

    @property
    def needs_acknowledgement(self) -> bool:
        s = self.screening
        return s is not None and s.outcome == "caution" and s.acknowledgement is None


def screening_for(db: Session, booking: Booking) -> Screening | None:
    """The screening that allowed the booking, or (for a booking made without
    one, e.g. by staff) the client's latest screening before the session."""
    if booking.screening_id is not None:
        return db.get(Screening, booking.screening_id)
    return db.scalar(
        select(Screening)
        .where(Screening.client_id == booking.client_id,
               Screening.created_at <= booking.starts_at)
        .order_by(Screening.created_at.desc(), Screening.id.desc())
        .limit(1)
    )


def context_for(db: Session, booking: Booking) -> NoteContext:
    screening = screening_for(db, booking)
    if screening is None:
        return NoteContext(booking, None)
    return NoteContext(
        booking,
        screening,
        frozenset(screening.excluded_techniques),
        tuple(a for a in screening.result.get("advisories", []) if a in HOME_CARE),
    )


def note_of(db: Session, booking_id: int) -> SessionNote | None:
    return db.scalar(select(SessionNote).where(SessionNote.booking_id == booking_id))


def treats(db: Session, therapist_id: int, client_id: int) -> bool:
    """Whether the therapist has or had a (not cancelled) booking with the client."""
    found = db.scalar(
        select(Booking.id)
        .where(Booking.therapist_id == therapist_id,
               Booking.client_id == client_id,
               Booking.status != BookingStatus.CANCELLED)
        .limit(1)
    )
    return found is not None


def can_read_notes(
    db: Session, user: User, client_id: int, *, all_therapists: bool
) -> bool:
    """Admins read every note; therapists those of clients they treat, or
    all when the clinic setting ``notes_visible_to_all_therapists`` is on."""
    if user.role is Role.ADMIN:
        return True
    if user.role is not Role.THERAPIST:
        return False
    return all_therapists or treats(db, user.id, client_id)


def previous_signed_note(db: Session, booking: Booking) -> SessionNote | None:
    """The client's last signed note of a session before this booking's."""
    return db.scalar(
        select(SessionNote)
        .join(Booking, Booking.id == SessionNote.booking_id)
        .where(SessionNote.client_id == booking.client_id,
               SessionNote.status == NoteStatus.SIGNED,
               Booking.starts_at < booking.starts_at)
        .order_by(Booking.starts_at.desc(), SessionNote.id.desc())
        .limit(1)
    )


def signed_notes(db: Session, client_id: int) -> list[tuple[SessionNote, Booking]]:
    """The client's signed notes in session order, each with its booking."""
    rows = db.execute(
        select(SessionNote, Booking)
        .join(Booking, Booking.id == SessionNote.booking_id)
        .where(SessionNote.client_id == client_id,
               SessionNote.status == NoteStatus.SIGNED)
        .order_by(Booking.starts_at, SessionNote.id)
    )
    return [(note, booking) for note, booking in rows]
