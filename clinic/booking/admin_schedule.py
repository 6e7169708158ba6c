"""Schedule changes that can touch booked sessions: deactivating a
therapist, new working hours, time off and clinic closures.

None of them drops a booking silently. Each raises ``DecisionNeeded`` listing
the affected bookings, and goes ahead only with a ``Handling`` that names
exactly the bookings the admin was shown: if one was booked or cancelled in
between, the admin is asked again. Bookings are cancelled through the
booking service's ``cancel_booking`` (one path: the same audit row and the
same mail to the client as any staff cancellation). Like every service:
flush, audit, never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from clinic.accounts.services import set_active
from clinic.audit.services import Actor, record
from clinic.booking.admin_services import AdminError, NotFound
from clinic.booking.models import (
    ACTIVE_STATUSES,
    Booking,
    BookingStatus,
    Closure,
    Therapist,
    TimeOff,
    WorkingHours,
    ends_after,
)
from clinic.booking.services import BookingError, cancel_booking
from clinic.booking.slots import (
    Interval,
    WeeklyHours,
    local_instants,
    working_intervals,
)
from clinic.settings.services import Settings

HOURS_GRID_MINUTES = 5


@dataclass(frozen=True)
class AffectedBooking:
    """A booked session as the admin sees it before deciding (plain values,
    so it survives the rollback that follows the question)."""

    id: int
    client_name: str
    therapist_name: str
    service_name: str
    starts_at: datetime
    ends_at: datetime
    status: BookingStatus


class DecisionNeeded(AdminError):
    """The change affects these bookings: ask the admin what to do."""

    def __init__(self, bookings: list[AffectedBooking], changed: bool) -> None:
        message = (
            "The affected bookings changed since you looked. Please check the "
            "list again." if changed else
            "Booked sessions are affected. Please choose what happens to them."
        )
        super().__init__(message)
        self.bookings = bookings
        self.changed = changed


@dataclass(frozen=True)
class Handling:
    """The admin's answer for the bookings they were shown.
    ``cancel_reason`` None keeps them (where keeping is allowed)."""

    seen_ids: frozenset[int]
    cancel_reason: str | None


# ------------------------------------------------------------ affected bookings


def _rows(bookings: Iterable[Booking]) -> list[AffectedBooking]:
    return [
        AffectedBooking(b.id, b.client.full_name, b.therapist.user.full_name,
                        b.service.name, b.starts_at, b.ends_at, b.status)
        for b in bookings
    ]


def _future_active(db: Session, now: datetime, *conditions: Any) -> list[Booking]:
    """Active bookings not yet over, earliest first, with what the list shows."""
    return list(db.scalars(
        select(Booking)
        .where(Booking.status.in_(ACTIVE_STATUSES), *ends_after(now), *conditions)
        .order_by(Booking.starts_at, Booking.id)
        .options(selectinload(Booking.client), selectinload(Booking.service),
                 selectinload(Booking.therapist).selectinload(Therapist.user))
    ))


def _during(span: Interval) -> tuple[Any, ...]:
    # The session itself, not its buffer: a client is affected only if their
    # massage falls in the period (half-open, as everywhere).
    return (Booking.starts_at < span.end, *ends_after(span.start))


def future_bookings(db: Session, therapist_id: int, now: datetime
                    ) -> list[AffectedBooking]:
    return _rows(_future_active(db, now, Booking.therapist_id == therapist_id))


def _decide(affected: list[Booking], handling: Handling | None, *,
            may_keep: bool) -> list[Booking]:
    """The bookings to cancel. :raise DecisionNeeded: unless the admin saw
    exactly these bookings and said what to do with them."""
    if not affected:
        return []
    if handling is None or handling.seen_ids != {b.id for b in affected}:
        raise DecisionNeeded(_rows(affected), changed=handling is not None)
    if handling.cancel_reason is None and may_keep:
        return []
    if not (handling.cancel_reason or "").strip():
        raise AdminError("Please give a reason for cancelling.", "cancel_reason")
    return affected


def _cancel(db: Session, actor: Actor, bookings: list[Booking],
            handling: Handling | None, settings: Settings, now: datetime
            ) -> list[Booking]:
    """Cancel as staff (no cut-off), which audits and emails each client."""
    assert actor.user is not None, "only a signed-in admin cancels"
    reason = (handling.cancel_reason or "") if handling else ""
    for booking in bookings:
        try:
            cancel_booking(db, booking, by=actor.user, reason=reason,
                           settings=settings, now=now, enforce_cutoff=False,
                           ip=actor.ip)
        except BookingError:
            # Changed by someone else while the admin decided; the caller
            # rolls back, so nothing of this change is kept.
            raise AdminError(
                "A booking changed while you were deciding, so nothing was "
                "saved. Please try again.") from None
    return bookings


def _lock_therapists(db: Session, therapist_id: int | None = None
                     ) -> list[Therapist]:
    """Lock therapist rows so a booking made meanwhile (the booking service
    locks its therapist too) waits for this change instead of racing it."""
    query = select(Therapist).order_by(Therapist.user_id).with_for_update()
    if therapist_id is not None:
        query = query.where(Therapist.user_id == therapist_id)
    rows = list(db.scalars(query.execution_options(populate_existing=True)))
    if therapist_id is not None and not rows:
        raise NotFound("That record does not exist.")
    return rows


def deactivate_therapist(db: Session, actor: Actor, therapist_id: int,
                         handling: Handling | None, settings: Settings,
                         now: datetime) -> list[Booking]:
    """Stop a therapist working here: no new bookings, no login. Returns the
    bookings cancelled. :raise DecisionNeeded:"""
    (therapist,) = _lock_therapists(db, therapist_id)
    affected = _future_active(db, now, Booking.therapist_id == therapist_id)
    cancelled = _cancel(db, actor, _decide(affected, handling, may_keep=False),
                        handling, settings, now)
    therapist.active = False
    set_active(therapist.user, False)  # also ends their sessions
    db.flush()
    record(db, actor, "deactivate", "therapist", therapist_id,
           detail=f"{len(cancelled)} bookings cancelled")
    return cancelled


# ------------------------------------------------------------ working hours


def check_hours(hours: Sequence[WeeklyHours]) -> None:
    """:raise AdminError: off the 5-minute grid, or overlapping on one day."""
    for h in hours:
        if any(t.minute % HOURS_GRID_MINUTES or t.second or t.microsecond
               for t in (h.start, h.end)):
            raise AdminError("Please use times on a 5-minute grid, e.g. 09:05.")
    ordered = sorted(hours, key=lambda h: (h.weekday, h.start))
    for before, after in pairwise(ordered):
        if before.weekday == after.weekday and after.start < before.end:
            raise AdminError("Working hours on the same day must not overlap.")


def _within_hours(booking: Booking, hours: Sequence[WeeklyHours],
                  tz: ZoneInfo) -> bool:
    day = booking.starts_at.astimezone(tz).date()
    return any(span.start <= booking.starts_at and booking.ends_at <= span.end
               for span in working_intervals(day, hours, tz))


def replace_hours(db: Session, actor: Actor, therapist_id: int,
                  hours: Sequence[WeeklyHours], handling: Handling | None,
                  settings: Settings, now: datetime) -> list[Booking]:
    """Set a therapist's weekly hours. Bookings outside the new hours are
    cancelled or, if the admin keeps them, stay valid as exceptions."""
    check_hours(hours)
    (therapist,) = _lock_therapists(db, therapist_id)
    outside = [b for b in _future_active(db, now, Booking.therapist_id == therapist_id)
               if not _within_hours(b, hours, settings.zone)]
    cancelled = _cancel(db, actor, _decide(outside, handling, may_keep=True),
                        handling, settings, now)
    therapist.hours.clear()
    db.flush()
    therapist.hours.extend(
        WorkingHours(therapist_id=therapist_id, weekday=h.weekday, start=h.start,
                     end=h.end) for h in hours)
    db.flush()
    record(db, actor, "update", "hours", therapist_id,
           detail=f"{len(cancelled)} bookings cancelled, "
                  f"{len(outside) - len(cancelled)} kept outside hours")
    return cancelled


# ------------------------------------------------------------ time off, closures


def local_to_utc(day: date, wall: time, tz: ZoneInfo) -> tuple[datetime, str | None]:
    """The instant a clinic clock shows ``wall`` on ``day``, and a note when
    that reading happens twice (the earlier is used).
    :raise AdminError: the clocks skip that reading."""
    instants = local_instants(datetime.combine(day, wall), tz)
    shown = f"{wall:%H:%M} on {day:%a %d %b %Y}"
    if not instants:
        raise AdminError(f"{shown} does not exist: the clocks go forward then. "
                         "Please choose a time after the change.")
    if len(instants) == 1:
        return instants[0], None
    first, second = (i.astimezone(tz) for i in instants)
    return instants[0], (
        f"{shown} happens twice because the clocks go back; we used the first "
        f"one ({first.tzname()}), not the second ({second.tzname()}).")


def add_time_off(db: Session, actor: Actor, therapist_id: int, span: Interval,
                 reason: str, handling: Handling | None, settings: Settings,
                 now: datetime) -> tuple[TimeOff, list[Booking]]:
    """Block a therapist for ``span``, cancelling the bookings in it once the
    admin has seen them. :raise DecisionNeeded:"""
    _lock_therapists(db, therapist_id)
    affected = _future_active(db, now, Booking.therapist_id == therapist_id,
                              *_during(span))
    cancelled = _cancel(db, actor, _decide(affected, handling, may_keep=False),
                        handling, settings, now)
    time_off = TimeOff(therapist_id=therapist_id, starts_at=span.start,
                       ends_at=span.end, reason=reason.strip(),
                       created_by_id=actor.user_id)
    db.add(time_off)
    db.flush()
    record(db, actor, "create", "time_off", time_off.id,
           detail=f"{len(cancelled)} bookings cancelled")
    return time_off, cancelled


def add_closure(db: Session, actor: Actor, span: Interval, reason: str,
                handling: Handling | None, settings: Settings, now: datetime
                ) -> tuple[Closure, list[Booking]]:
    """Close the whole clinic for ``span``. :raise DecisionNeeded:"""
    _lock_therapists(db)
    affected = _future_active(db, now, *_during(span))
    cancelled = _cancel(db, actor, _decide(affected, handling, may_keep=False),
                        handling, settings, now)
    closure = Closure(starts_at=span.start, ends_at=span.end, reason=reason.strip(),
                      created_by_id=actor.user_id)
    db.add(closure)
    db.flush()
    record(db, actor, "create", "closure", closure.id,
           detail=f"{len(cancelled)} bookings cancelled")
    return closure, cancelled


def delete_time_off(db: Session, actor: Actor, therapist_id: int,
                    time_off_id: int) -> None:
    """Remove time off; this only frees time, so no booking is affected."""
    time_off = db.get(TimeOff, time_off_id)
    if time_off is None or time_off.therapist_id != therapist_id:
        raise NotFound("That record does not exist.")
    db.delete(time_off)
    db.flush()
    record(db, actor, "delete", "time_off", time_off_id)


def delete_closure(db: Session, actor: Actor, closure_id: int) -> None:
    closure = db.get(Closure, closure_id)
    if closure is None:
        raise NotFound("That record does not exist.")
    db.delete(closure)
    db.flush()
    record(db, actor, "delete", "closure", closure_id)

