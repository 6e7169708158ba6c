"""Read-side booking queries: who can be booked, what is free, a client's
bookings.

Free times come from ``availability.load_calendar`` (one query, whatever
the number of therapists) handed to the pure ``slots`` module. The booking
service re-checks with the same ``Calendar``, so an offered time passes the
check and a refused one is never offered.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import groupby

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, joinedload

from clinic.accounts.models import User
from clinic.booking import slots
from clinic.booking.availability import (
    BookingSettings,
    Calendar,
    day_span,
    eligible,
    eligible_therapists_query,
    load_calendar,
)
from clinic.booking.models import (
    ACTIVE_STATUSES,
    Booking,
    Service,
    Therapist,
    ends_after,
    therapist_service,
)

# These moved to ``availability``; they stay importable from here.
__all__ = ["BookingSettings", "Calendar", "day_span", "eligible_therapists_query",
           "load_calendar"]

NEARBY_DAYS = 7
NEARBY_COUNT = 6


@dataclass(frozen=True)
class Offer:
    """A free time with the therapist it was found for."""

    slot: slots.Slot
    therapist_id: int
    therapist_name: str

    @property
    def start(self) -> datetime:
        return self.slot.start


# --- who can be booked ---------------------------------------------------------


def eligible_therapists(
    db: Session, service_id: int, technique: str, therapist_id: int | None = None
) -> list[Therapist]:
    query = eligible_therapists_query().options(joinedload(Therapist.user))
    if therapist_id is not None:
        query = query.where(Therapist.user_id == therapist_id)
    return list(db.scalars(query, eligible(service_id, technique)).unique())


def eligible_therapist_names(
    db: Session, service_id: int, technique: str, therapist_id: int | None = None
) -> dict[int, str]:
    """Like ``eligible_therapists``, as {user id: full name} in id order."""
    query = eligible_therapists_query().with_only_columns(
        Therapist.user_id, User.full_name)
    if therapist_id is not None:
        query = query.where(Therapist.user_id == therapist_id)
    rows = db.execute(query, eligible(service_id, technique))
    return {row.user_id: row.full_name for row in rows}


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
    if days <= 0:
        return []
    names = eligible_therapist_names(db, service.id, technique, therapist_id)
    if not names:
        return []
    calendar = load_calendar(db, list(names), day_span(settings.zone, start_day, days),
                             client_id=client_id,
                             exclude_booking_id=exclude_booking_id)
    client_busy, rooms = calendar.client_busy(client_id), calendar.rooms()
    duration = timedelta(minutes=service.duration_minutes)
    buffer = timedelta(minutes=service.buffer_minutes)
    offers: dict[datetime, Offer] = {}
    for who, name in names.items():
        for slot in slots.free_slots(
            tz=settings.zone, start_day=start_day, days=days,
            hours=calendar.hours[who],
            busy=calendar.therapist_busy(who), duration=duration,
            buffer_after=buffer, policy=settings.policy, now=now,
            client_busy=client_busy, rooms=rooms,
        ):
            if slot.start not in offers:  # the first therapist free then
                offers[slot.start] = Offer(slot, who, name)
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


def upcoming_bookings(db: Session, client_id: int, now: datetime) -> list[Booking]:
    """The client's active sessions that have not ended, soonest first."""
    return list(db.scalars(
        _with_details(select(Booking)).where(
            Booking.client_id == client_id,
            Booking.status.in_(ACTIVE_STATUSES),
            *ends_after(now),
        ).order_by(Booking.starts_at)
    ))


def client_bookings(
    db: Session, client_id: int, now: datetime, *, past_limit: int = 50
) -> tuple[list[Booking], list[Booking]]:
    """(upcoming active sessions, soonest first; everything else, newest first)."""
    upcoming = upcoming_bookings(db, client_id, now)
    others = db.scalars(
        _with_details(select(Booking)).where(
            Booking.client_id == client_id,
            or_(Booking.status.not_in(ACTIVE_STATUSES), Booking.ends_at <= now),
        ).order_by(Booking.starts_at.desc()).limit(past_limit)
    )
    return upcoming, list(others)


def client_booking(db: Session, client_id: int, booking_id: int) -> Booking | None:
    """The client's own booking, or None (also for anyone else's)."""
    return db.scalar(
        _with_details(select(Booking)).where(
            Booking.id == booking_id, Booking.client_id == client_id
        )
    )
