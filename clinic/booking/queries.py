"""Read-side booking queries: who can be booked, what is busy, what is free.

Availability for a range is loaded with one query per table (working hours,
bookings, time off, closures, rooms), whatever the number of therapists, and
handed to the pure ``slots`` module. The booking service loads the same
``Calendar`` for its re-check, so an offered time passes the check and a
refused one is never offered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, or_, select
from sqlalchemy.orm import Session, joinedload

from clinic.accounts.models import User
from clinic.booking import slots
from clinic.booking.models import (
    ACTIVE_STATUSES,
    Booking,
    Closure,
    Room,
    Service,
    Therapist,
    TherapistTechnique,
    TimeOff,
    WorkingHours,
    therapist_service,
)

# Bookings and absences are loaded this far beyond the days asked for, so a
# session that started the evening before, or a buffer running past midnight,
# still counts.
_MARGIN = timedelta(days=1)
NEARBY_DAYS = 7
NEARBY_COUNT = 6


class BookingSettings(Protocol):
    """What availability needs from the clinic's settings."""

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def policy(self) -> slots.BookingPolicy: ...


@dataclass(frozen=True)
class Offer:
    """A free time with the therapist it was found for."""

    slot: slots.Slot
    therapist_id: int
    therapist_name: str

    @property
    def start(self) -> datetime:
        return self.slot.start


@dataclass(frozen=True)
class Calendar:
    """Everything that blocks time in a range, grouped for the slot module."""

    hours: dict[int, list[slots.WeeklyHours]]
    bookings: list[Row[tuple[int, int, int | None, int, datetime, datetime, datetime]]]
    time_off: dict[int, list[slots.Interval]]
    closures: list[slots.Interval]
    room_ids: list[int] = field(default_factory=list)

    def therapist_busy(self, therapist_id: int) -> list[slots.Interval]:
        """Bookings stretched by their buffers, time off and closures."""
        held = [
            slots.Interval(b.starts_at, b.blocks_until)
            for b in self.bookings
            if b.therapist_id == therapist_id
        ]
        return held + self.time_off.get(therapist_id, []) + self.closures

    def client_busy(self, client_id: int | None) -> list[slots.Interval]:
        return [
            slots.Interval(b.starts_at, b.ends_at)
            for b in self.bookings
            if client_id is not None and b.client_id == client_id
        ]

    def rooms(self) -> dict[int, list[slots.Interval]] | None:
        """Each active room's busy periods, in id order; None without rooms."""
        if not self.room_ids:
            return None
        busy: dict[int, list[slots.Interval]] = {room: [] for room in self.room_ids}
        for b in self.bookings:
            if b.room_id in busy:
                busy[b.room_id].append(slots.Interval(b.starts_at, b.blocks_until))
        return busy


# --- who can be booked ---------------------------------------------------------


def eligible_therapists_query(
    service_id: int, technique: str
) -> Select[tuple[Therapist]]:
    """Active therapists (and users) offering both the service and technique."""
    return (
        select(Therapist)
        .join(User, User.id == Therapist.user_id)
        .join(therapist_service, therapist_service.c.therapist_id == Therapist.user_id)
        .join(TherapistTechnique, TherapistTechnique.therapist_id == Therapist.user_id)
        .where(
            Therapist.active.is_(True),
            User.active.is_(True),
            therapist_service.c.service_id == service_id,
            TherapistTechnique.technique == technique,
        )
        .order_by(Therapist.user_id)
    )


def eligible_therapists(
    db: Session, service_id: int, technique: str, therapist_id: int | None = None
) -> list[Therapist]:
    query = eligible_therapists_query(service_id, technique).options(
        joinedload(Therapist.user)
    )
    if therapist_id is not None:
        query = query.where(Therapist.user_id == therapist_id)
    return list(db.scalars(query).unique())


def bookable_services(db: Session) -> list[Service]:
    """Active services that at least one active therapist offers."""
    offered = (
        select(therapist_service.c.service_id)
        .join(Therapist, Therapist.user_id == therapist_service.c.therapist_id)
        .join(User, User.id == Therapist.user_id)
        .where(Therapist.active.is_(True), User.active.is_(True))
    )
    return list(
        db.scalars(
            select(Service)
            .where(Service.active.is_(True), Service.id.in_(offered))
            .order_by(Service.name)
        )
    )


def active_therapists(db: Session) -> list[Therapist]:
    return list(
        db.scalars(
            select(Therapist)
            .join(User, User.id == Therapist.user_id)
            .where(Therapist.active.is_(True), User.active.is_(True))
            .options(joinedload(Therapist.user))
            .order_by(User.full_name, Therapist.user_id)
        )
    )


# --- what is busy ----------------------------------------------------------------


def day_span(zone: ZoneInfo, start_day: date, days: int) -> slots.Interval:
    """The UTC span of ``days`` local dates from ``start_day``, plus a margin."""
    first = slots.local_day_bounds(start_day, zone)
    last = slots.local_day_bounds(start_day + timedelta(days=days - 1), zone)
    return slots.Interval(first.start - _MARGIN, last.end + _MARGIN)


def load_calendar(
    db: Session,
    therapist_ids: Sequence[int],
    span: slots.Interval,
    *,
    exclude_booking_id: int | None = None,
) -> Calendar:
    """Hours, active bookings, time off, closures and rooms: one query each."""
    ids = list(therapist_ids)
    hours: dict[int, list[slots.WeeklyHours]] = {i: [] for i in ids}
    rows = db.scalars(select(WorkingHours).where(WorkingHours.therapist_id.in_(ids)))
    for row in rows:
        weekly = slots.WeeklyHours(row.weekday, row.start, row.end)
        hours[row.therapist_id].append(weekly)
    bookings = list(
        db.execute(
            select(
                Booking.id, Booking.therapist_id, Booking.room_id, Booking.client_id,
                Booking.starts_at, Booking.ends_at, Booking.blocks_until,
            ).where(
                Booking.status.in_(ACTIVE_STATUSES),
                Booking.starts_at < span.end,
                Booking.blocks_until > span.start,
                Booking.id != (exclude_booking_id or 0),
            )
        )
    )
    time_off: dict[int, list[slots.Interval]] = {}
    for off in db.scalars(
        select(TimeOff).where(
            TimeOff.therapist_id.in_(ids),
            TimeOff.starts_at < span.end,
            TimeOff.ends_at > span.start,
        )
    ):
        time_off.setdefault(off.therapist_id, []).append(
            slots.Interval(off.starts_at, off.ends_at)
        )
    closed = select(Closure).where(
        Closure.starts_at < span.end, Closure.ends_at > span.start
    )
    closures = [slots.Interval(c.starts_at, c.ends_at) for c in db.scalars(closed)]
    rooms = select(Room.id).where(Room.active.is_(True)).order_by(Room.id)
    room_ids = list(db.scalars(rooms))
    return Calendar(hours, bookings, time_off, closures, room_ids)


# --- what is free ----------------------------------------------------------------


def today(settings: BookingSettings, now: datetime) -> date:
    return now.astimezone(settings.zone).date()


def last_bookable_day(settings: BookingSettings, now: datetime) -> date:
    return (now + settings.policy.horizon).astimezone(settings.zone).date()


def available_slots(
    db: Session,
    *,
    client_id: int | None,
    service: Service,
    technique: str,
    therapist_id: int | None,
    start_day: date,
    days: int,
    settings: BookingSettings,
    now: datetime,
    exclude_booking_id: int | None = None,
) -> list[Offer]:
    """Free times on ``days`` local dates from ``start_day``, sorted by start.

    For one therapist, or (``therapist_id`` None) every eligible therapist,
    with each start offered once, for the first therapist free then. Days
    before today or beyond the booking horizon are skipped.
    """
    start_day = max(start_day, today(settings, now))
    days = min(days, (last_bookable_day(settings, now) - start_day).days + 1)
    therapists = eligible_therapists(db, service.id, technique, therapist_id)
    if days <= 0 or not therapists:
        return []
    calendar = load_calendar(
        db,
        [t.user_id for t in therapists],
        day_span(settings.zone, start_day, days),
        exclude_booking_id=exclude_booking_id,
    )
    offers: dict[datetime, Offer] = {}
    for therapist in therapists:
        for slot in slots.free_slots(
            tz=settings.zone,
            start_day=start_day,
            days=days,
            hours=calendar.hours[therapist.user_id],
            busy=calendar.therapist_busy(therapist.user_id),
            duration=timedelta(minutes=service.duration_minutes),
            buffer_after=timedelta(minutes=service.buffer_minutes),
            policy=settings.policy,
            now=now,
            client_busy=calendar.client_busy(client_id),
            rooms=calendar.rooms(),
        ):
            offers.setdefault(
                slot.start, Offer(slot, therapist.user_id, therapist.user.full_name)
            )
    return sorted(offers.values(), key=lambda offer: offer.start)


def nearby_free_slots(
    db: Session,
    *,
    client_id: int | None,
    service: Service,
    technique: str,
    therapist_id: int | None,
    around: datetime,
    settings: BookingSettings,
    now: datetime,
    count: int = NEARBY_COUNT,
    exclude_booking_id: int | None = None,
) -> list[Offer]:
    """The ``count`` free times closest to ``around`` (that day and the next
    week), in time order: what to offer someone who just lost that time."""
    offers = available_slots(
        db,
        client_id=client_id,
        service=service,
        technique=technique,
        therapist_id=therapist_id,
        start_day=around.astimezone(settings.zone).date(),
        days=NEARBY_DAYS,
        settings=settings,
        now=now,
        exclude_booking_id=exclude_booking_id,
    )
    closest = sorted(offers, key=lambda offer: abs(offer.start - around))[:count]
    return sorted(closest, key=lambda offer: offer.start)


def by_day(offers: Iterable[Offer]) -> list[tuple[date, list[Offer]]]:
    """Offers grouped by their local date, in order."""
    return [
        (day, list(group))
        for day, group in groupby(offers, key=lambda o: o.slot.local_start.date())
    ]


# --- a client's bookings ------------------------------------------------------------


def _with_details(query: Select[tuple[Booking]]) -> Select[tuple[Booking]]:
    return query.options(
        joinedload(Booking.service),
        joinedload(Booking.room),
        joinedload(Booking.therapist).joinedload(Therapist.user),
    )


def client_bookings(
    db: Session, client_id: int, now: datetime, *, past_limit: int = 50
) -> tuple[list[Booking], list[Booking]]:
    """(upcoming active sessions, soonest first; everything else, newest first)."""
    upcoming = db.scalars(
        _with_details(select(Booking)).where(
            Booking.client_id == client_id,
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.ends_at > now,
        ).order_by(Booking.starts_at)
    )
    others = db.scalars(
        _with_details(select(Booking)).where(
            Booking.client_id == client_id,
            or_(Booking.status.not_in(ACTIVE_STATUSES), Booking.ends_at <= now),
        ).order_by(Booking.starts_at.desc()).limit(past_limit)
    )
    return list(upcoming), list(others)


def client_booking(db: Session, client_id: int, booking_id: int) -> Booking | None:
    """The client's own booking, or None (also for anyone else's)."""
    return db.scalar(
        _with_details(select(Booking)).where(
            Booking.id == booking_id, Booking.client_id == client_id
        )
    )
