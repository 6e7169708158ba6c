"""Booking use cases: book, cancel, reschedule, mark a no-show.

Each function takes the session, the acting user, the clinic's settings and
``now``; it validates, flushes and never commits. Every check is repeated
inside the transaction that writes, after taking the therapist's lock: on
SQLite the writing session already holds the database's write lock (BEGIN
IMMEDIATE, ``clinic.db``); on PostgreSQL the therapist rows are locked with
SELECT ... FOR UPDATE, so a loser waits and then sees the winner's booking.
The overlap constraints (``booking_*_no_overlap``) are the last guard: their
violation becomes ``SlotTaken``, never an error page.

Reschedule keeps the booking's own screening: the safety answers were given
for this booking, and the therapist re-checks them on the day (spec §3.2).
It re-checks everything else, refuses when a newer screening blocks booking
or rules out the booked technique, and updates the row in place, so the
unique screening link stays and the overlap guards (which skip the row
itself) still protect it. ``rescheduled_from_id`` is therefore not used.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached

from clinic.accounts.models import Role, User
from clinic.audit.services import Actor, record
from clinic.booking import notifications, slots
from clinic.booking.availability import (
    Placing,
    free_therapists,
    lock_therapists,
    place,
)
from clinic.booking.errors import (
    AWAY,
    CLOSED,
    TAKEN,
    BookingError,
    BookingPolicyError,
    ScreeningUsed,
    SlotTaken,
    SlotUnavailable,
    cutoff_text,
    human,
    technique_name,
    too_late_message,
    unfit_message,
    write_guarded,
)
from clinic.booking.models import (
    ACTIVE_STATUSES,
    REASON_MAX,
    Booking,
    BookingStatus,
    Service,
    Therapist,
)
from clinic.booking.queries import (
    available_slots,
    eligible_therapists,
    nearby_free_slots,
)
from clinic.intake.models import Screening
from clinic.intake.services import (
    BookingGate,
    BookingNotAllowed,
    require_booking_gate,
)
from clinic.settings.services import Settings

# The refusals and their messages live in ``errors``; callers import them
# from here too.
__all__ = [
    "AWAY",
    "CLOSED",
    "TAKEN",
    "BookingError",
    "BookingNotAllowed",
    "BookingPolicyError",
    "ScreeningUsed",
    "SlotTaken",
    "SlotUnavailable",
    "available_slots",
    "book_session",
    "cancel_booking",
    "cutoff_text",
    "human",
    "mark_no_show",
    "nearby_free_slots",
    "reschedule_booking",
    "technique_name",
    "too_late_message",
    "unfit_message",
]


# --- shared checks ------------------------------------------------------------------


def _as_utc(start: datetime) -> datetime:
    if start.tzinfo is None or start.utcoffset() is None:
        raise BookingPolicyError("That time could not be read. Please choose again.")
    try:
        return start.astimezone(UTC)
    except OverflowError:
        raise BookingPolicyError("That time is out of range.") from None


# Confirmations, changes and reminders go by email: a client books online
# once the address is known to be theirs (staff booking for them may go ahead).
CONFIRM_EMAIL_FIRST = (
    "Please confirm your email address before you book: open the link we "
    "emailed you, or ask for a new one on your home page."
)


def _check_window(start: datetime, policy: slots.BookingPolicy, now: datetime) -> None:
    """Past, too soon or too far: refused before any calendar work (a time
    near year 9999 would overflow the day arithmetic)."""
    reason = None
    if start < now:
        reason = slots.Unfit.PAST
    elif start < now + policy.min_notice:
        reason = slots.Unfit.TOO_SOON
    elif start > now + policy.horizon:
        reason = slots.Unfit.BEYOND_HORIZON
    if reason is not None:
        raise SlotUnavailable(reason, unfit_message(reason, policy))


def _require_gate(
    db: Session, client_id: int, screening_id: int | None, now: datetime
) -> BookingGate:
    """The intake's gate, saying so when the answers were already used.

    :raise BookingNotAllowed: (ScreeningUsed for answers already used).
    """
    try:
        return require_booking_gate(db, client_id, screening_id, now)
    except BookingNotAllowed:
        used = screening_id is not None and db.scalar(
            select(Booking.id).where(Booking.screening_id == screening_id)
        )
        if used:
            raise ScreeningUsed(
                "Those safety answers were already used for another booking. "
                "Please answer the safety questions again for this one."
            ) from None
        raise


def _actor(user: User, ip: str | None) -> Actor:
    return Actor(user=user, ip=ip)


# --- use cases ------------------------------------------------------------------------


def book_session(
    db: Session,
    *,
    client: User,
    booked_by: User,
    service_id: int,
    technique: str,
    therapist_id: int | None,
    start: datetime,
    screening_id: int | None,
    settings: Settings,
    now: datetime,
    ip: str | None = None,
) -> Booking:
    """Book a session for ``client`` (by themselves or by staff on their behalf).

    ``therapist_id`` None means the first eligible therapist free then.
    :raise BookingNotAllowed: the screening gate is closed (or ScreeningUsed).
    :raise BookingPolicyError: unknown or inactive choices, wrong technique.
    :raise SlotUnavailable: the time does not fit. :raise SlotTaken: lost a race.
    """
    if client.role is not Role.CLIENT or not client.active:
        raise BookingPolicyError("Sessions can only be booked for a client.")
    if booked_by.id != client.id and not booked_by.is_staff:
        raise BookingPolicyError("You can only book sessions for yourself.")
    if booked_by.id == client.id and client.email_verified_at is None:
        raise BookingPolicyError(CONFIRM_EMAIL_FIRST)
    gate = _require_gate(db, client.id, screening_id, now)
    if technique not in gate.techniques:
        raise BookingPolicyError(
            f"{technique_name(technique)} is not suitable after your safety "
            "answers. Please choose one of the techniques offered."
        )
    start = _as_utc(start)
    _check_window(start, settings.policy, now)
    therapists, service = lock_therapists(db, service_id, technique, therapist_id)
    therapist, room_id = place(db, therapists, Placing(client.id, service, start),
                               settings=settings, now=now)
    booking = Booking(
        client_id=client.id,
        therapist_id=therapist.user_id,
        service_id=service.id,
        room_id=room_id,
        technique=technique,
        status=BookingStatus.CONFIRMED,
        screening_id=screening_id,
        price_pence=service.price_pence,
        created_by_id=booked_by.id,
        created_at=now,
        # Set, not left to defaults: nothing is read back after the INSERT.
        cancelled_at=None,
        cancelled_by_id=None,
        cancel_reason=None,
        rescheduled_from_id=None,
        **_times(service, start),
    )
    write_guarded(db, lambda: _insert(db, booking))
    record(db, _actor(booked_by, ip), "book", "booking", booking.id,
           subject_user_id=client.id)
    notifications.queue_confirmation(db, booking, settings=settings, client=client)
    return booking


_INSERT = insert(Booking.__table__)
_COLUMNS = tuple(column.key for column in Booking.__table__.columns
                 if column.key != "id")


def _insert(db: Session, booking: Booking) -> None:
    """Write a new booking with one plain INSERT and put it in the session as
    if loaded: the unit of work's flush of one object costs about three times
    the INSERT itself, on the busiest write. Columns left unset get their
    defaults, as from a flush, and are read back if used."""
    given = inspect(booking).dict
    values = {key: given[key] for key in _COLUMNS if key in given}
    (booking.id,) = db.execute(_INSERT, values).inserted_primary_key
    make_transient_to_detached(booking)
    db.add(booking)


def _times(service: Service, start: datetime) -> dict[str, datetime]:
    ends_at = start + timedelta(minutes=service.duration_minutes)
    return {
        "starts_at": start,
        "ends_at": ends_at,
        "blocks_until": ends_at + timedelta(minutes=service.buffer_minutes),
    }


def _require_manager(booking: Booking, by: User) -> None:
    """The booking's client, its therapist, or an admin."""
    if by.role is Role.ADMIN or by.id in (booking.client_id, booking.therapist_id):
        return
    raise BookingPolicyError("You cannot change this booking.")


def _lock(db: Session, booking: Booking) -> None:
    """Lock the row (PostgreSQL) and re-read it: a concurrent change goes
    first, and we see its result. Locked on its own, because the object may
    have been loaded with outer joins, which FOR UPDATE refuses."""
    db.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
    db.refresh(booking)


def _require_active(db: Session, booking: Booking) -> None:
    _lock(db, booking)
    if booking.status is BookingStatus.CANCELLED:
        raise BookingPolicyError("This booking is already cancelled.")
    if booking.status not in ACTIVE_STATUSES:
        raise BookingPolicyError("This booking can no longer be changed.")


def cancel_booking(
    db: Session,
    booking: Booking,
    *,
    by: User,
    reason: str,
    settings: Settings,
    now: datetime,
    enforce_cutoff: bool = True,
    ip: str | None = None,
) -> Booking:
    """Cancel. Clients only until the cut-off; staff anytime, with a reason.

    :raise BookingPolicyError: not allowed, too late, no reason, not active.
    """
    _require_manager(booking, by)
    _require_active(db, booking)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise BookingPolicyError(f"Please keep the reason to {REASON_MAX} characters.")
    if by.is_staff and not reason:
        raise BookingPolicyError("Please give a reason for cancelling.")
    if (enforce_cutoff or not by.is_staff) and not slots.can_cancel(
        booking.starts_at, now=now, policy=settings.policy
    ):
        raise BookingPolicyError(too_late_message(settings))
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = now
    booking.cancelled_by_id = by.id
    booking.cancel_reason = reason or None
    db.flush()
    record(db, _actor(by, ip), "cancel", "booking", booking.id,
           subject_user_id=booking.client_id)
    notifications.queue_cancellation_notice(db, booking, settings=settings)
    return booking


def reschedule_booking(
    db: Session,
    booking: Booking,
    *,
    by: User,
    start: datetime,
    therapist_id: int | None,
    settings: Settings,
    now: datetime,
    enforce_cutoff: bool = True,
    ip: str | None = None,
) -> Booking:
    """Move the booking to ``start`` (same service and technique), with the
    named therapist or, when None, the first eligible one free then.

    :raise BookingPolicyError / BookingNotAllowed / SlotUnavailable / SlotTaken:
    """
    _require_manager(booking, by)
    _require_active(db, booking)
    if (enforce_cutoff or not by.is_staff) and not slots.can_cancel(
        booking.starts_at, now=now, policy=settings.policy
    ):
        raise BookingPolicyError(too_late_message(settings))
    _require_still_suitable(db, booking)
    start = _as_utc(start)
    if start == booking.starts_at and therapist_id in (None, booking.therapist_id):
        raise BookingPolicyError("That is already the time of this booking.")
    if start == booking.starts_at and by.is_staff:
        settings = _for_handover(settings)
    _check_window(start, settings.policy, now)
    therapists, service = lock_therapists(db, booking.service_id, booking.technique,
                                          therapist_id)
    moved = Placing(booking.client_id, service, start, exclude_booking_id=booking.id)
    therapist, room_id = place(db, therapists, moved, settings=settings, now=now)
    old_start = booking.starts_at

    def move() -> None:
        for name, value in _times(service, start).items():
            setattr(booking, name, value)
        booking.therapist_id = therapist.user_id
        booking.room_id = room_id

    write_guarded(db, move)
    db.refresh(booking)  # relationships follow the new therapist and room
    record(db, _actor(by, ip), "reschedule", "booking", booking.id,
           subject_user_id=booking.client_id,
           detail=f"from {old_start.isoformat()} to {start.isoformat()}")
    notifications.queue_reschedule_notice(db, booking, old_start,
                                          settings=settings)
    return booking


def other_free_therapists(
    db: Session, booking: Booking, *, settings: Settings, now: datetime
) -> list[Therapist]:
    """The other therapists offering the session's service and technique who
    are free at its time: where staff can hand it over (``reschedule_booking``
    with the same start)."""
    others = [t for t in eligible_therapists(db, booking.service_id, booking.technique)
              if t.user_id != booking.therapist_id]
    if not others:
        return []
    handed_over = Placing(booking.client_id, booking.service, booking.starts_at,
                          exclude_booking_id=booking.id)
    return free_therapists(db, others, handed_over,
                           settings=_for_handover(settings), now=now)


def _for_handover(settings: Settings) -> Settings:
    """A session that keeps its time and only changes therapist is no new
    booking: the notice, horizon and slot step that shape what clients may
    book do not apply (a therapist off sick at 9 can hand over the 10:00).
    Working hours are on a 5-minute grid, so every booked start is on it."""
    return replace(settings, min_notice_minutes=0, horizon_days=HANDOVER_HORIZON_DAYS,
                   slot_step_minutes=5)


HANDOVER_HORIZON_DAYS = 3660


def _require_still_suitable(db: Session, booking: Booking) -> None:
    """Refuse when safety answers given after this booking block booking now,
    or rule out its technique."""
    newer = db.scalar(
        select(Screening)
        .where(Screening.client_id == booking.client_id,
               Screening.created_at > booking.created_at)
        .order_by(Screening.created_at.desc(), Screening.id.desc())
        .limit(1)
    )
    if newer is None:
        return
    if not newer.booking_allowed:
        raise BookingNotAllowed(
            "Your latest safety answers mean this session cannot be moved. "
            "Please call the clinic."
        )
    if booking.technique in newer.excluded_techniques:
        raise BookingNotAllowed(
            f"Your latest safety answers rule out {technique_name(booking.technique)}."
            " Please cancel this session and book again."
        )


def mark_no_show(
    db: Session, booking: Booking, *, by: User, now: datetime, ip: str | None = None
) -> Booking:
    """Record that the client did not come. Only the session's therapist or
    an admin, and only once the session has started.

    :raise BookingPolicyError:
    """
    if not (by.role is Role.ADMIN
            or (by.role is Role.THERAPIST and booking.therapist_id == by.id)):
        raise BookingPolicyError(
            "Only the session's therapist or an admin can record a no-show."
        )
    _lock(db, booking)
    if booking.status is not BookingStatus.CONFIRMED:
        raise BookingPolicyError("Only a confirmed session can be marked as a no-show.")
    if now < booking.starts_at:
        raise BookingPolicyError(
            "A session can be marked as a no-show only after its start time."
        )
    booking.status = BookingStatus.NO_SHOW
    db.flush()
    record(db, _actor(by, ip), "no_show", "booking", booking.id,
           subject_user_id=booking.client_id)
    return booking
