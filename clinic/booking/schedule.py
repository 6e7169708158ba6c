"""Staff schedules, read side: days and weeks in the clinic's zone, the
sessions in them with everything a schedule page shows, and the therapist's
private calendar feed token.

Sessions load in a constant number of queries however many there are:
bookings with their client, service, room and therapist joined in, then
the screenings they were booked on, with their acknowledgements.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from clinic.accounts.models import User
from clinic.booking.models import ACTIVE_STATUSES, Booking, BookingStatus, Therapist
from clinic.intake.models import Screening

FEED_PAST = timedelta(days=30)
# Sessions in the feed: booked ones and those that took place.
FEED_STATUSES = (*ACTIVE_STATUSES, BookingStatus.COMPLETED)
TOKEN_BYTES = 32  # secrets.token_urlsafe(32): 43 characters, 256 bits
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{43,64}")


# ---------------------------------------------------------------- days and weeks


@dataclass(frozen=True)
class Span:
    """``days`` local dates from ``first``, as a half-open UTC range.

    Bounds are local midnights, so a week holding a DST change lasts 167 or
    169 real hours.
    """

    first: date
    days: int
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        return _midnight(self.first + timedelta(days=self.days), self.zone)

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)

    def shifted(self, periods: int) -> Span:
        return Span(self.first + timedelta(days=self.days * periods), self.days,
                    self.zone)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # No zone moves its clocks at midnight into a gap today; if one did,
    # zoneinfo would give the instant just after the jump, which is right.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def week_of(day: date, zone: ZoneInfo) -> Span:
    """The Monday-to-Sunday week holding ``day``."""
    return Span(day - timedelta(days=day.weekday()), 7, zone)


def day_of(day: date, zone: ZoneInfo) -> Span:
    return Span(day, 1, zone)


def local_today(now: datetime, zone: ZoneInfo) -> date:
    return now.astimezone(zone).date()


# ---------------------------------------------------------------- sessions


class ScreeningStatus(enum.StrEnum):
    CLEAR = "clear"
    CAUTION_PENDING = "caution_pending"
    CAUTION_ACKNOWLEDGED = "caution_acknowledged"
    CAUTION = "caution"  # on a cancelled session: nothing to acknowledge
    OTHER = "other"  # an outcome a booking is not normally made on
    NONE = "none"  # no screening linked (booked before screening was kept)

    @property
    def label(self) -> str:
        return {
            "clear": "Clear",
            "caution_pending": "Caution: awaiting acknowledgement",
            "caution_acknowledged": "Caution: acknowledged",
            "caution": "Caution",
            "other": "See screening",
            "none": "No screening linked",
        }[self.value]

    @property
    def badge(self) -> str:
        return {
            "clear": "badge-clear",
            "caution_pending": "badge-caution",
            "caution_acknowledged": "badge-acknowledged",
            "caution": "badge-caution",
            "other": "badge-refer",
            "none": "badge-none",
        }[self.value]


def screening_status(booking: Booking, screening: Screening | None) -> ScreeningStatus:
    """What the session's screening asks of the therapist: a caution awaits
    acknowledgement unless done, or the session was cancelled."""
    if screening is None:
        return ScreeningStatus.NONE
    if screening.outcome == "clear":
        return ScreeningStatus.CLEAR
    if screening.outcome == "caution":
        if screening.acknowledgement is not None:
            return ScreeningStatus.CAUTION_ACKNOWLEDGED
        if booking.status is BookingStatus.CANCELLED:
            return ScreeningStatus.CAUTION
        return ScreeningStatus.CAUTION_PENDING
    return ScreeningStatus.OTHER


@dataclass(frozen=True)
class ScheduleEntry:
    """One session as a schedule shows it."""

    booking: Booking
    screening: ScreeningStatus
    zone: ZoneInfo

    @property
    def local_start(self) -> datetime:
        return self.booking.starts_at.astimezone(self.zone)

    @property
    def local_end(self) -> datetime:
        return self.booking.ends_at.astimezone(self.zone)

    @property
    def day(self) -> date:
        return self.local_start.date()

    def can_mark_no_show(self, now: datetime) -> bool:
        booking = self.booking
        return booking.status is BookingStatus.CONFIRMED and booking.starts_at <= now

    def can_cancel(self, now: datetime) -> bool:
        return self.booking.is_active and self.booking.starts_at > now


def _details() -> tuple[object, ...]:
    return (
        joinedload(Booking.client),
        joinedload(Booking.service),
        joinedload(Booking.room),
        joinedload(Booking.therapist).joinedload(Therapist.user),
    )


def load_sessions(
    db: Session,
    span: Span,
    *,
    therapist_id: int | None = None,
    statuses: Collection[BookingStatus] | None = None,
) -> list[ScheduleEntry]:
    """Sessions starting within ``span``, in time order: two queries, three
    when any has a screening."""
    query = (
        select(Booking)
        .options(*_details())
        .where(Booking.starts_at >= span.start, Booking.starts_at < span.end)
        .order_by(Booking.starts_at, Booking.id)
    )
    if therapist_id is not None:
        query = query.where(Booking.therapist_id == therapist_id)
    if statuses is not None:
        query = query.where(Booking.status.in_(list(statuses)))
    bookings = list(db.scalars(query).unique())
    screenings = _screenings(db, [b.screening_id for b in bookings])
    return [
        ScheduleEntry(b, screening_status(b, screenings.get(b.screening_id or 0)),
                      span.zone)
        for b in bookings
    ]


def _screenings(db: Session, ids: Iterable[int | None]) -> dict[int, Screening]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = db.scalars(
        select(Screening)
        .options(selectinload(Screening.acknowledgement))
        .where(Screening.id.in_(wanted))
    )
    return {s.id: s for s in rows}


def by_day(
    sessions: Sequence[ScheduleEntry], span: Span
) -> list[tuple[date, list[ScheduleEntry]]]:
    """Every date of the span (empty ones too) with its sessions."""
    days: dict[date, list[ScheduleEntry]] = {day: [] for day in span.dates}
    for session in sessions:
        days.setdefault(session.day, []).append(session)
    return list(days.items())


def by_therapist(
    sessions: Sequence[ScheduleEntry], therapists: Sequence[Therapist]
) -> list[tuple[Therapist, list[ScheduleEntry]]]:
    """Each therapist listed (even those with no sessions) with their sessions."""
    groups: dict[int, list[ScheduleEntry]] = {t.user_id: [] for t in therapists}
    for session in sessions:
        groups.setdefault(session.booking.therapist_id, []).append(session)
    known = {t.user_id: t for t in therapists}
    for session in sessions:  # sessions of a therapist no longer listed
        known.setdefault(session.booking.therapist_id, session.booking.therapist)
    return [(known[tid], items) for tid, items in groups.items()]


def staff_therapists(db: Session) -> list[Therapist]:
    """Every therapist with a profile, active ones first, by name."""
    return list(db.scalars(
        select(Therapist)
        .join(User, User.id == Therapist.user_id)
        .options(joinedload(Therapist.user))
        .order_by(Therapist.active.desc(), User.full_name, Therapist.user_id)
    ))


def today_for(
    db: Session, therapist_id: int, *, now: datetime, zone: ZoneInfo
) -> list[ScheduleEntry]:
    """The therapist's sessions today (for their home page)."""
    span = day_of(local_today(now, zone), zone)
    return load_sessions(db, span, therapist_id=therapist_id)


def next_after_today(
    db: Session, therapist_id: int, *, now: datetime, zone: ZoneInfo
) -> Booking | None:
    """The therapist's first session after today (their home page shows it
    when today has none)."""
    tomorrow = day_of(local_today(now, zone), zone).end
    return db.scalar(
        select(Booking)
        .options(joinedload(Booking.client), joinedload(Booking.service))
        .where(Booking.therapist_id == therapist_id,
               Booking.status.in_(ACTIVE_STATUSES), Booking.starts_at >= tomorrow)
        .order_by(Booking.starts_at, Booking.id)
        .limit(1)
    )


def count_by_status(sessions: Iterable[ScheduleEntry]) -> dict[BookingStatus, int]:
    counts = {status: 0 for status in BookingStatus}
    for session in sessions:
        counts[session.booking.status] += 1
    return counts


# ---------------------------------------------------------------- feed


def new_calendar_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def regenerate_calendar_token(db: Session, therapist: Therapist) -> str:
    """Give the therapist a new secret feed URL; the old one stops working
    with the commit. Flushes; the caller audits and commits."""
    therapist.calendar_token = new_calendar_token()
    db.flush()
    return therapist.calendar_token


def therapist_by_token(db: Session, token: str) -> Therapist | None:
    """The active therapist whose feed this is, else None.

    The lookup goes through the unique index, so its time does not depend on
    how much of a guess matches a real token; malformed tokens never reach
    the database.
    """
    if not _TOKEN_SHAPE.fullmatch(token):
        return None
    therapist = db.scalar(
        select(Therapist)
        .options(joinedload(Therapist.user))
        .where(Therapist.calendar_token == token)
    )
    if therapist is None or not therapist.active or not therapist.user.active:
        return None
    return therapist


def feed_bookings(
    db: Session, therapist_id: int, *, now: datetime, horizon: timedelta
) -> list[Booking]:
    """The therapist's sessions from 30 days ago to the booking horizon."""
    return list(db.scalars(
        select(Booking)
        .options(*_details())
        .where(
            Booking.therapist_id == therapist_id,
            Booking.status.in_(FEED_STATUSES),
            Booking.starts_at >= now - FEED_PAST,
            Booking.starts_at < now + horizon,
        )
        .order_by(Booking.starts_at, Booking.id)
    ).unique())
