"""Appointment reminders, queued exactly once per booking and start time.

Two cron runs, or two machines, may look for due reminders at the same time.
Each reminder carries a ``dedupe_key``; the UNIQUE constraint on
``outbox_message.dedupe_key`` lets only one insert win. Every insert runs in
its own SAVEPOINT, so a loser rolls back just that row and carries on. The
start time is part of the key: a rescheduled session gets a new reminder.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from clinic.booking.models import Booking, BookingStatus, Therapist
from clinic.booking.notifications import queue_reminder
from clinic.mail.models import OutboxMessage
from clinic.settings.services import Settings


def reminder_key(booking: Booking) -> str:
    return f"reminder:{booking.id}:{booking.starts_at:%Y%m%dT%H%M}"


def due_bookings(db: Session, *, now: datetime, hours_before: int) -> list[Booking]:
    """Confirmed sessions starting in ``(now, now + hours_before]``.

    Pending bookings are holds a client has not confirmed yet; they get a
    reminder once confirmed, if still within the window.
    """
    return list(db.scalars(
        select(Booking)
        .options(
            joinedload(Booking.client),
            joinedload(Booking.service),
            joinedload(Booking.room),
            joinedload(Booking.therapist).joinedload(Therapist.user),
        )
        .where(
            Booking.status == BookingStatus.CONFIRMED,
            Booking.starts_at > now,
            Booking.starts_at <= now + timedelta(hours=hours_before),
        )
        .order_by(Booking.starts_at, Booking.id)
    ).unique())


def _already_queued(db: Session, keys: Sequence[str]) -> set[str]:
    if not keys:
        return set()
    rows = db.scalars(
        select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(keys))
    )
    return {key for key in rows if key is not None}


def queue_due_reminders(
    db: Session,
    *,
    now: datetime,
    hours_before: int,
    settings: Settings | None = None,
) -> int:
    """Queue one reminder for each due session that has none yet.

    Returns how many this call queued (0 when another sender got there
    first). Flushes; the caller commits.
    """
    bookings = due_bookings(db, now=now, hours_before=hours_before)
    queued = _already_queued(db, [reminder_key(b) for b in bookings])
    count = 0
    for booking in bookings:
        key = reminder_key(booking)
        if key in queued:
            continue
        try:
            with db.begin_nested():
                queue_reminder(db, booking, dedupe_key=key, settings=settings)
        except IntegrityError:
            continue  # a concurrent sender queued it first
        count += 1
    return count
