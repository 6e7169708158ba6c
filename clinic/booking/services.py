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

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.audit.services import Actor, record
from clinic.booking import notifications, slots
from clinic.booking.models import (
    ACTIVE_STATUSES,
    REASON_MAX,
    Booking,
    BookingStatus,
    Service,
    Therapist,
)
from clinic.booking.queries import (
    BookingSettings,
    Calendar,
    available_slots,
    day_span,
    eligible_therapists_query,
    load_calendar,
    nearby_free_slots,
)
from clinic.intake.models import Screening
from clinic.intake.services import (
    BookingGate,
    BookingNotAllowed,
    require_booking_gate,
)
from clinic.intake.vocabulary import TECHNIQUE_NAMES
from clinic.settings.services import Settings

__all__ = [
    "BookingError",
    "BookingNotAllowed",
    "BookingPolicyError",
    "ScreeningUsed",
    "SlotTaken",
    "SlotUnavailable",
    "available_slots",
    "book_session",
    "cancel_booking",
    "mark_no_show",
    "nearby_free_slots",
    "reschedule_booking",
]

TAKEN = "That time was just taken."


class BookingError(Exception):
    """A refusal whose message is safe to show to the person asking."""


class SlotTaken(BookingError):
    """Someone else's booking got there first (a database guard refused ours)."""

    def __init__(self, message: str = TAKEN) -> None:
        super().__init__(message)


class SlotUnavailable(BookingError):
    """The time cannot be booked; ``reason`` says why."""

    def __init__(
        self, reason: slots.Unfit, message: str, *, taken: bool = False
    ) -> None:
        super().__init__(message)
        self.reason = reason
        # Busy with another booking: what a client who lost a race sees.
        self.taken = taken


class BookingPolicyError(BookingError):
    """Not allowed for another reason: unknown or inactive choices, cut-off."""


class ScreeningUsed(BookingNotAllowed):
    """The safety answers named were already used for another booking."""


# --- messages ----------------------------------------------------------------------


def human(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    for size, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes >= size and minutes % size == 0:
            count = minutes // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{minutes} minutes"


def unfit_message(reason: slots.Unfit, policy: slots.BookingPolicy) -> str:
    """One friendly sentence (or two) for each reason a time cannot be booked."""
    choose = "Please choose one of the times shown."
    return {
        slots.Unfit.NONEXISTENT_TIME: "That time does not exist that day because "
        "the clocks change. " + choose,
        slots.Unfit.PAST: "That time has already passed. Please choose a later time.",
        slots.Unfit.TOO_SOON: "Sessions must be booked at least "
        f"{human(policy.min_notice)} ahead. Please choose a later time.",
        slots.Unfit.BEYOND_HORIZON: "Sessions can be booked up to "
        f"{human(policy.horizon)} ahead. Please choose an earlier time.",
        slots.Unfit.OUTSIDE_HOURS: "The therapist is not working at that time. "
        + choose,
        slots.Unfit.OFF_STEP: "Sessions start every "
        f"{human(policy.slot_step)}. " + choose,
        slots.Unfit.THERAPIST_BUSY: "That time is already taken. " + choose,
        slots.Unfit.CLIENT_BUSY: "You already have a session booked at that time.",
        slots.Unfit.NO_ROOM: "All our treatment rooms are in use at that time. "
        + choose,
    }[reason]


CLOSED = "The clinic is closed at that time. Please choose one of the times shown."
AWAY = "The therapist is away at that time. Please choose one of the times shown."


def technique_name(key: str) -> str:
    return TECHNIQUE_NAMES.get(key, key)


def cutoff_text(settings: Settings) -> str:
    hours = settings.cancel_cutoff_hours
    return f"{hours} hour{'' if hours == 1 else 's'}"


def too_late_message(settings: Settings) -> str:
    return (
        f"It is less than {cutoff_text(settings)} before the session, so it can "
        "no longer be changed online. Please call the clinic on "
        f"{settings.clinic_phone}."
    )


# --- shared checks ------------------------------------------------------------------


def _as_utc(start: datetime) -> datetime:
    if start.tzinfo is None or start.utcoffset() is None:
        raise BookingPolicyError("That time could not be read. Please choose again.")
    try:
        return start.astimezone(UTC)
    except OverflowError:
        raise BookingPolicyError("That time is out of range.") from None


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


def _bookable_service(db: Session, service_id: int) -> Service:
    service = db.get(Service, service_id)
    if service is None or not service.active:
        raise BookingPolicyError("That service is not available to book.")
    return service


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


def _lock_therapists(
    db: Session, service: Service, technique: str, therapist_id: int | None
) -> list[Therapist]:
    """The therapists who could take the session, locked (PostgreSQL) in id
    order so concurrent bookers queue on them instead of racing.

    :raise BookingPolicyError: nobody (or not the one named) offers it.
    """
    query = eligible_therapists_query(service.id, technique)
    if therapist_id is not None:
        query = query.where(Therapist.user_id == therapist_id)
    query = query.with_for_update(of=Therapist).execution_options(
        populate_existing=True
    )
    found = list(db.scalars(query))
    if found:
        return found
    if therapist_id is not None:
        _explain_named_therapist(db, service, technique, therapist_id)
    raise BookingPolicyError(
        f"No therapist offers {service.name} with {technique_name(technique)} "
        "at the moment."
    )


def _explain_named_therapist(
    db: Session, service: Service, technique: str, therapist_id: int
) -> None:
    """Say why the therapist named cannot take this session."""
    therapist = db.get(Therapist, therapist_id)
    if therapist is None or not therapist.active or not therapist.user.active:
        raise BookingPolicyError("That therapist is not taking bookings.")
    name = therapist.user.full_name
    if technique not in therapist.technique_keys:
        raise BookingPolicyError(f"{name} does not offer {technique_name(technique)}.")
    if service not in therapist.services:
        raise BookingPolicyError(f"{name} does not offer {service.name}.")


def _fit(
    calendar: Calendar,
    therapist: Therapist,
    *,
    client_id: int,
    service: Service,
    start: datetime,
    settings: BookingSettings,
    now: datetime,
) -> slots.Unfit | int | None:
    """Why the session does not fit this therapist, else its room (or None)."""
    duration = timedelta(minutes=service.duration_minutes)
    buffer = timedelta(minutes=service.buffer_minutes)
    rooms = calendar.rooms()
    reason = slots.check_fits(
        tz=settings.zone,
        start=start,
        hours=calendar.hours[therapist.user_id],
        busy=calendar.therapist_busy(therapist.user_id),
        duration=duration,
        buffer_after=buffer,
        policy=settings.policy,
        now=now,
        client_busy=calendar.client_busy(client_id),
        rooms=rooms,
    )
    if reason is not None or rooms is None:
        return reason
    return slots.free_rooms(rooms, slots.Interval(start, start + duration + buffer))[0]


# Which refusal to report when no therapist fits ("any therapist").
_REASON_ORDER = (
    slots.Unfit.CLIENT_BUSY,
    slots.Unfit.NO_ROOM,
    slots.Unfit.THERAPIST_BUSY,
    slots.Unfit.OFF_STEP,
    slots.Unfit.OUTSIDE_HOURS,
)


def _place(
    db: Session,
    therapists: list[Therapist],
    *,
    client_id: int,
    service: Service,
    start: datetime,
    settings: BookingSettings,
    now: datetime,
    exclude_booking_id: int | None = None,
) -> tuple[Therapist, int | None]:
    """The first therapist (and room) the session fits, freshly loaded.

    :raise SlotUnavailable: it fits nobody.
    """
    local_day = start.astimezone(settings.zone).date()
    calendar = load_calendar(
        db,
        [t.user_id for t in therapists],
        day_span(settings.zone, local_day, 1),
        exclude_booking_id=exclude_booking_id,
    )
    reasons: list[slots.Unfit] = []
    for therapist in therapists:
        placed = _fit(calendar, therapist, client_id=client_id, service=service,
                      start=start, settings=settings, now=now)
        if not isinstance(placed, slots.Unfit):
            return therapist, placed
        reasons.append(placed)
    reason = min(reasons, key=lambda r: _REASON_ORDER.index(r)
                 if r in _REASON_ORDER else len(_REASON_ORDER))
    message = _busy_message(calendar, therapists, reason, start, service,
                            settings.policy)
    taken = reason in (slots.Unfit.THERAPIST_BUSY, slots.Unfit.NO_ROOM) and (
        message not in (CLOSED, AWAY)
    )
    raise SlotUnavailable(reason, message, taken=taken)


def _busy_message(
    calendar: Calendar,
    therapists: list[Therapist],
    reason: slots.Unfit,
    start: datetime,
    service: Service,
    policy: slots.BookingPolicy,
) -> str:
    """Say whether a busy therapist is booked, away, or the clinic closed."""
    if reason is not slots.Unfit.THERAPIST_BUSY:
        return unfit_message(reason, policy)
    held = slots.Interval(
        start,
        start + timedelta(minutes=service.duration_minutes + service.buffer_minutes),
    )
    if any(held.overlaps(closure) for closure in calendar.closures):
        return CLOSED
    if len(therapists) == 1 and any(
        held.overlaps(off) for off in calendar.time_off.get(therapists[0].user_id, [])
    ):
        return AWAY
    return unfit_message(reason, policy)


def _write_guarded(db: Session, change: Callable[[], object]) -> None:
    """Make ``change`` and flush it inside a SAVEPOINT (``begin_nested``
    flushes earlier changes first, so they stay out of it): when a guard
    refuses the row, only this is undone and the caller hears SlotTaken."""
    try:
        with db.begin_nested():
            change()
            db.flush()
    except DBAPIError as exc:
        if _lost_race(exc):
            raise SlotTaken() from exc
        raise


def _lost_race(exc: DBAPIError) -> bool:
    state = getattr(exc.orig, "sqlstate", None)
    text = str(exc.orig)
    if isinstance(exc, IntegrityError):
        return (
            state == "23P01"  # exclusion_violation: an overlap guard
            or "_no_overlap" in text  # the SQLite triggers
            or "screening_id" in text  # the same answers used twice at once
        )
    # Two PostgreSQL guards waiting on each other: one side is cancelled.
    return state in {"40P01", "40001"}


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
    gate = _require_gate(db, client.id, screening_id, now)
    if technique not in gate.techniques:
        raise BookingPolicyError(
            f"{technique_name(technique)} is not suitable after your safety "
            "answers. Please choose one of the techniques offered."
        )
    service = _bookable_service(db, service_id)
    start = _as_utc(start)
    _check_window(start, settings.policy, now)
    therapists = _lock_therapists(db, service, technique, therapist_id)
    therapist, room_id = _place(db, therapists, client_id=client.id, service=service,
                                start=start, settings=settings, now=now)
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
        **_times(service, start),
    )
    _write_guarded(db, lambda: db.add(booking))
    record(db, _actor(booked_by, ip), "book", "booking", booking.id,
           subject_user_id=client.id)
    notifications.queue_confirmation(db, booking)
    return booking


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
    notifications.queue_cancellation_notice(db, booking)
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
    service = _bookable_service(db, booking.service_id)
    start = _as_utc(start)
    if start == booking.starts_at and therapist_id in (None, booking.therapist_id):
        raise BookingPolicyError("That is already the time of this booking.")
    _check_window(start, settings.policy, now)
    therapists = _lock_therapists(db, service, booking.technique, therapist_id)
    therapist, room_id = _place(db, therapists, client_id=booking.client_id,
                                service=service, start=start, settings=settings,
                                now=now, exclude_booking_id=booking.id)
    old_start = booking.starts_at

    def move() -> None:
        for name, value in _times(service, start).items():
            setattr(booking, name, value)
        booking.therapist_id = therapist.user_id
        booking.room_id = room_id

    _write_guarded(db, move)
    db.refresh(booking)  # relationships follow the new therapist and room
    record(db, _actor(by, ip), "reschedule", "booking", booking.id,
           subject_user_id=booking.client_id,
           detail=f"from {old_start.isoformat()} to {start.isoformat()}")
    notifications.queue_reschedule_notice(db, booking, old_start)
    return booking


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
