"""Booking refusals, the sentences shown for them, and the write that turns
a database guard's refusal into one.

Every exception here carries a message that is safe to show to the person
asking; ``clinic.booking.services`` re-exports them, so callers import them
from there or from here alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from clinic.booking import slots
from clinic.intake.services import BookingNotAllowed
from clinic.intake.vocabulary import TECHNIQUE_NAMES
from clinic.settings.services import Settings

TAKEN = "That time was just taken."
CLOSED = "The clinic is closed at that time. Please choose one of the times shown."
AWAY = "The therapist is away at that time. Please choose one of the times shown."


class BookingError(Exception):
    """A refusal whose message is safe to show to the person asking."""


class SlotTaken(BookingError):
    """Someone else's booking got there first (a database guard refused ours).

    The guard's error ends the transaction: the caller rolls back, as views
    do after any domain exception."""

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


# --- the database guards ---------------------------------------------------------


def write_guarded(db: Session, change: Callable[[], object]) -> None:
    """Make ``change`` and flush it; a guard refusing the row is SlotTaken.

    No SAVEPOINT (two round trips on PostgreSQL): a refused write ends the
    whole transaction. A refused flush does that itself; a refused plain
    INSERT would leave it open on SQLite, so it is rolled back here. Nothing
    written before the guard may be kept, and nothing is: the changes before
    it in these use cases are all part of the same booking.
    """
    try:
        change()
        db.flush()
    except DBAPIError as exc:
        db.rollback()
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
