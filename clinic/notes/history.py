"""A client's sessions over time: progress data and lists of notes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clinic.booking.models import Booking, BookingStatus, Therapist
from clinic.notes import progress
from clinic.notes.models import NoteStatus, SessionNote
from clinic.notes.queries import signed_notes
from clinic.notes.services import WRITE_FROM_BEFORE_START

# Sessions that happened (or may have): a note can belong to these.
NOTE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED,
                 BookingStatus.COMPLETED)


def point(note: SessionNote, booking: Booking, zone: tzinfo) -> progress.SessionPoint:
    """A signed note as the plain values the progress signals read."""
    return progress.SessionPoint(
        on=booking.starts_at.astimezone(zone).date(),
        nprs_before=note.nprs_before,
        nprs_after=note.nprs_after,
        extent_level=note.extent_level,
        pressure=note.pressure.value if note.pressure else None,
        response_to_previous=(
            note.previous_response.value if note.previous_response else None
        ),
    )


@dataclass(frozen=True)
class ClientProgress:
    rows: list[tuple[SessionNote, Booking]]  # signed notes, session order
    points: list[progress.SessionPoint]
    signals: progress.Signals
    sentences: list[str]


def client_progress(db: Session, client_id: int, zone: tzinfo) -> ClientProgress:
    rows = signed_notes(db, client_id)
    points = [point(note, booking, zone) for note, booking in rows]
    found = progress.signals(points)
    return ClientProgress(rows, points, found, progress.sentences(found, len(points)))


@dataclass(frozen=True)
class SessionEntry:
    booking: Booking
    note: SessionNote | None

    @property
    def state(self) -> str:
        if self.note is None:
            return "No note"
        return "Signed" if self.note.status is NoteStatus.SIGNED else "Draft"


def sessions_of(db: Session, client_id: int, now: datetime) -> list[SessionEntry]:
    """The client's sessions that have started (or start within 15 minutes),
    newest first, each with its note if there is one."""
    rows = db.execute(
        select(Booking, SessionNote)
        .outerjoin(SessionNote, SessionNote.booking_id == Booking.id)
        .where(Booking.client_id == client_id,
               Booking.status.in_(NOTE_STATUSES),
               Booking.starts_at <= now + WRITE_FROM_BEFORE_START)
        .options(selectinload(Booking.therapist).selectinload(Therapist.user))
        .order_by(Booking.starts_at.desc(), Booking.id.desc())
    )
    return [SessionEntry(booking, note) for booking, note in rows]


def notes_to_write(
    db: Session, therapist_id: int, now: datetime, zone: tzinfo
) -> list[SessionEntry]:
    """The therapist's sessions of yesterday and today (clinic time) that have
    started, or start within 15 minutes, and have no signed note yet."""
    today = now.astimezone(zone).date()
    since = datetime.combine(today - timedelta(days=1), time(0), tzinfo=zone)
    rows = db.execute(
        select(Booking, SessionNote)
        .outerjoin(SessionNote, SessionNote.booking_id == Booking.id)
        .where(Booking.therapist_id == therapist_id,
               Booking.status.in_(NOTE_STATUSES),
               Booking.starts_at >= since,
               Booking.starts_at <= now + WRITE_FROM_BEFORE_START)
        .options(selectinload(Booking.client))
        .order_by(Booking.starts_at, Booking.id)
    )
    return [
        SessionEntry(booking, note) for booking, note in rows
        if note is None or note.status is not NoteStatus.SIGNED
    ]
