"""Who can take a session, what blocks time, and where a session fits.

A ``Calendar`` holds everything that blocks time in a range (working hours,
rooms, bookings, absences), loaded with one query whatever the number of
therapists, and grouped once by therapist, client and room.
The free-times page and the booking service's re-check read the same
``Calendar`` through ``slots``, so an offered time passes the check and a
refused one is never offered. ``lock_therapists`` and ``place`` are the
booking service's half: lock the eligible therapists, then fit the session.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    Time,
    bindparam,
    cast,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, contains_eager

from clinic.accounts.models import User
from clinic.booking import slots
from clinic.booking.errors import (
    AWAY,
    CLOSED,
    BookingPolicyError,
    SlotUnavailable,
    technique_name,
    unfit_message,
)
from clinic.booking.models import (
    ACTIVE_STATUSES,
    LONGEST_HOLD,
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
from clinic.db import UTCDateTime

# Bookings and absences are loaded this far beyond the days asked for, so a
# session that started the evening before, or a buffer running past midnight,
# still counts.
_MARGIN = timedelta(days=1)

Intervals = dict[int, list[slots.Interval]]


class BookingSettings(Protocol):
    """What availability needs from the clinic's settings."""

    @property
    def zone(self) -> ZoneInfo: ...

    @property
    def policy(self) -> slots.BookingPolicy: ...


@dataclass(frozen=True)
class Calendar:
    """Everything that blocks time in a range, grouped for the slot module."""

    hours: dict[int, list[slots.WeeklyHours]]
    held: Intervals  # therapist id: bookings stretched by their buffers
    by_client: Intervals  # client id: bookings, without buffers
    time_off: Intervals
    closures: list[slots.Interval]
    room_busy: Intervals | None  # active room id: bookings; None: no rooms

    def therapist_busy(self, therapist_id: int) -> list[slots.Interval]:
        """Bookings stretched by their buffers, time off and closures."""
        return (self.held.get(therapist_id, []) + self.time_off.get(therapist_id, [])
                + self.closures)

    def client_busy(self, client_id: int | None) -> list[slots.Interval]:
        return [] if client_id is None else self.by_client.get(client_id, [])

    def rooms(self) -> Intervals | None:
        """Each active room's busy periods, in id order; None without rooms."""
        return self.room_busy


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
    client_id: int | None = None,
    exclude_booking_id: int | None = None,
) -> Calendar:
    """Hours, rooms, active bookings and absences touching ``span``.

    Only the bookings that can block someone are read: the therapists', the
    client's (``client_id``), and any in a room. Everything comes back in one
    round trip (``_CALENDAR``), straight from the session's connection (the
    same transaction): the ORM's per-statement work would buy nothing, and on
    PostgreSQL each statement saved is a round trip saved.
    """
    ids = list(therapist_ids)
    db.flush()  # what the session's autoflush would have done
    rows = db.connection().execute(_CALENDAR, {
        "ids": ids, "client_id": client_id, "span_start": span.start,
        "span_end": span.end, "earliest_start": span.start - LONGEST_HOLD,
        "exclude_id": exclude_booking_id or 0,
    })
    hours: dict[int, list[slots.WeeklyHours]] = {i: [] for i in ids}
    held: Intervals = {}
    by_client: Intervals = {}
    time_off: Intervals = {}
    closures: list[slots.Interval] = []
    room_ids: list[int] = []
    room_bookings: list[tuple[int, slots.Interval]] = []
    for kind, who, room, client, starts, ends, blocks, weekday, opens, closes in rows:
        if kind == _BOOKING:
            busy = slots.Interval(starts, blocks)
            held.setdefault(who, []).append(busy)
            if client == client_id:
                by_client.setdefault(client, []).append(slots.Interval(starts, ends))
            if room is not None:
                room_bookings.append((room, busy))
        elif kind == _HOURS:
            hours[who].append(slots.WeeklyHours(weekday, opens, closes))
        elif kind == _AWAY:
            time_off.setdefault(who, []).append(slots.Interval(starts, ends))
        elif kind == _CLOSED:
            closures.append(slots.Interval(starts, ends))
        elif kind == _ROOM:
            room_ids.append(who)
    return Calendar(hours, held, by_client, time_off, closures,
                    _room_busy(sorted(room_ids), room_bookings))


def _room_busy(room_ids: list[int], bookings: list[tuple[int, slots.Interval]]
               ) -> Intervals | None:
    """Each active room's bookings, in room id order; None without rooms."""
    if not room_ids:
        return None
    busy: Intervals = {room: [] for room in room_ids}
    for room, interval in bookings:
        if room in busy:  # a booking in a room since deactivated blocks nothing
            busy[room].append(interval)
    return busy


# The calendar's one statement, built once with bound parameters (building and
# hashing a statement costs more than running it on SQLite). Each row is tagged
# with its kind and fills the columns that kind has; the first SELECT types
# every column (PostgreSQL resolves a union's column types from the left, and
# the result is processed with the first SELECT's types).
_BOOKING, _ROOM, _HOURS, _AWAY, _CLOSED = range(5)


def _kind(kind: int) -> ColumnElement[int]:
    return literal_column(str(kind), Integer)


def _none(type_: Any) -> ColumnElement[Any]:
    # Typed, for PostgreSQL's union and for the result's type processing.
    return cast(null(), type_)


def _calendar_query() -> CompoundSelect:
    ids = bindparam("ids", expanding=True)
    span_start, span_end = bindparam("span_start"), bindparam("span_end")
    no_time = (_none(UTCDateTime()),) * 3
    no_hours = (_none(Integer()), _none(Time()), _none(Time()))
    return union_all(
        select(
            _kind(_BOOKING), Booking.therapist_id, Booking.room_id,
            Booking.client_id, Booking.starts_at, Booking.ends_at,
            Booking.blocks_until, *no_hours,
        ).where(
            or_(Booking.therapist_id.in_(ids),
                Booking.client_id == bindparam("client_id"),
                Booking.room_id.is_not(None)),
            Booking.status.in_(ACTIVE_STATUSES),
            Booking.starts_at < span_end,
            Booking.starts_at > bindparam("earliest_start"),  # an index range
            Booking.blocks_until > span_start,
            Booking.id != bindparam("exclude_id"),
        ),
        select(_kind(_ROOM), Room.id, null(), null(), *no_time, *no_hours).where(
            Room.active.is_(True)),
        select(
            _kind(_HOURS), WorkingHours.therapist_id, null(), null(), *no_time,
            WorkingHours.weekday, WorkingHours.start, WorkingHours.end,
        ).where(WorkingHours.therapist_id.in_(ids)),
        select(
            _kind(_AWAY), TimeOff.therapist_id, null(), null(), TimeOff.starts_at,
            TimeOff.ends_at, null(), *no_hours,
        ).where(
            TimeOff.therapist_id.in_(ids),
            TimeOff.starts_at < span_end,
            TimeOff.ends_at > span_start,
        ),
        select(
            _kind(_CLOSED), null(), null(), null(), Closure.starts_at,
            Closure.ends_at, null(), *no_hours,
        ).where(Closure.starts_at < span_end, Closure.ends_at > span_start),
    )


_CALENDAR = _calendar_query()


# --- who can take it ---------------------------------------------------------------


@cache
def eligible_therapists_query() -> Select[tuple[Therapist]]:
    """Active therapists (and users) offering both the service and technique:
    run it with ``eligible(service_id, technique)`` as its parameters."""
    return (
        select(Therapist)
        .join(User, User.id == Therapist.user_id)
        .join(therapist_service, therapist_service.c.therapist_id == Therapist.user_id)
        .join(TherapistTechnique, TherapistTechnique.therapist_id == Therapist.user_id)
        .where(
            Therapist.active.is_(True),
            User.active.is_(True),
            therapist_service.c.service_id == bindparam("service_id"),
            TherapistTechnique.technique == bindparam("technique"),
        )
        .order_by(Therapist.user_id)
    )


def eligible(service_id: int, technique: str) -> dict[str, object]:
    """The parameters of ``eligible_therapists_query``."""
    return {"service_id": service_id, "technique": technique}


@cache
def _locking_query(named: bool) -> Select[tuple[Therapist, Service]]:
    # The user comes from the join already made (no outer join, which FOR
    # UPDATE refuses): the confirmation names the therapist. The service
    # comes along, so the booking reads it in the same round trip.
    query = (
        eligible_therapists_query()
        .join(Service, Service.id == therapist_service.c.service_id)
        .where(Service.active.is_(True))
        .add_columns(Service)
        .options(contains_eager(Therapist.user))
    )
    if named:
        query = query.where(Therapist.user_id == bindparam("therapist_id"))
    return query.with_for_update(of=Therapist).execution_options(
        populate_existing=True
    )


SERVICE_UNAVAILABLE = "That service is not available to book."


def lock_therapists(
    db: Session, service_id: int, technique: str, therapist_id: int | None
) -> tuple[list[Therapist], Service]:
    """The therapists who could take the session, locked (PostgreSQL) in id
    order so concurrent bookers queue on them instead of racing, and the
    service, read with them.

    :raise BookingPolicyError: the service is not bookable, or nobody (or not
        the one named) offers it.
    """
    rows = db.execute(
        _locking_query(therapist_id is not None),
        {**eligible(service_id, technique), "therapist_id": therapist_id},
    ).all()
    if rows:
        return [therapist for therapist, _ in rows], rows[0][1]
    service = db.get(Service, service_id)
    if service is None or not service.active:
        raise BookingPolicyError(SERVICE_UNAVAILABLE)
    if therapist_id is not None:
        explain_named_therapist(db, service, technique, therapist_id)
    raise BookingPolicyError(
        f"No therapist offers {service.name} with {technique_name(technique)} "
        "at the moment."
    )


def explain_named_therapist(
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


# --- where a session fits ---------------------------------------------------------

# Which refusal to report when no therapist fits ("any therapist").
_REASON_ORDER = (
    slots.Unfit.CLIENT_BUSY,
    slots.Unfit.NO_ROOM,
    slots.Unfit.THERAPIST_BUSY,
    slots.Unfit.OFF_STEP,
    slots.Unfit.OUTSIDE_HOURS,
)


@dataclass(frozen=True)
class Placing:
    """The session being placed: for whom, which service, starting when, and
    the booking it replaces when one is being moved (it blocks nothing)."""

    client_id: int
    service: Service
    start: datetime
    exclude_booking_id: int | None = None

    @property
    def held(self) -> slots.Interval:
        """The time it keeps the therapist and room: the session and buffer."""
        minutes = self.service.duration_minutes + self.service.buffer_minutes
        return slots.Interval(self.start, self.start + timedelta(minutes=minutes))


def place(
    db: Session, therapists: list[Therapist], session: Placing, *,
    settings: BookingSettings, now: datetime,
) -> tuple[Therapist, int | None]:
    """The first therapist (and room) the session fits, freshly loaded.

    ``slots.check_fits`` only compares the session's own time (start to end
    plus buffer) with busy periods, so only what overlaps it is loaded.
    :raise SlotUnavailable: it fits nobody.
    """
    calendar, fits = _fitting(db, therapists, session, settings, now)
    reasons: list[slots.Unfit] = []
    for therapist, reason in fits:
        if reason is None:
            rooms = calendar.rooms()
            room = None if rooms is None else slots.free_rooms(rooms, session.held)[0]
            return therapist, room
        reasons.append(reason)
    raise _refusal(calendar, therapists, reasons, session.held, settings.policy)


def free_therapists(
    db: Session, therapists: list[Therapist], session: Placing, *,
    settings: BookingSettings, now: datetime,
) -> list[Therapist]:
    """Every one of ``therapists`` the session fits (``place`` takes the
    first): whom an admin can hand a session to."""
    _, fits = _fitting(db, therapists, session, settings, now)
    return [therapist for therapist, reason in fits if reason is None]


def _fitting(
    db: Session, therapists: list[Therapist], session: Placing,
    settings: BookingSettings, now: datetime,
) -> tuple[Calendar, Iterator[tuple[Therapist, slots.Unfit | None]]]:
    """The calendar around the session, and each therapist with why it does
    not fit them (None: it fits), worked out as the caller asks."""
    calendar = load_calendar(db, [t.user_id for t in therapists], session.held,
                             client_id=session.client_id,
                             exclude_booking_id=session.exclude_booking_id)
    fits = ((t, _unfit(calendar, t, session, settings, now)) for t in therapists)
    return calendar, fits


def _unfit(
    calendar: Calendar, therapist: Therapist, session: Placing,
    settings: BookingSettings, now: datetime,
) -> slots.Unfit | None:
    service = session.service
    return slots.check_fits(
        tz=settings.zone, start=session.start, hours=calendar.hours[therapist.user_id],
        busy=calendar.therapist_busy(therapist.user_id),
        duration=timedelta(minutes=service.duration_minutes),
        buffer_after=timedelta(minutes=service.buffer_minutes),
        policy=settings.policy, now=now,
        client_busy=calendar.client_busy(session.client_id), rooms=calendar.rooms(),
    )


def _refusal(
    calendar: Calendar,
    therapists: list[Therapist],
    reasons: list[slots.Unfit],
    held: slots.Interval,
    policy: slots.BookingPolicy,
) -> SlotUnavailable:
    reason = min(reasons, key=lambda r: _REASON_ORDER.index(r)
                 if r in _REASON_ORDER else len(_REASON_ORDER))
    message = _busy_message(calendar, therapists, reason, held, policy)
    taken = reason in (slots.Unfit.THERAPIST_BUSY, slots.Unfit.NO_ROOM) and (
        message not in (CLOSED, AWAY)
    )
    return SlotUnavailable(reason, message, taken=taken)


def _busy_message(
    calendar: Calendar,
    therapists: list[Therapist],
    reason: slots.Unfit,
    held: slots.Interval,
    policy: slots.BookingPolicy,
) -> str:
    """Say whether a busy therapist is booked, away, or the clinic closed."""
    if reason is not slots.Unfit.THERAPIST_BUSY:
        return unfit_message(reason, policy)
    if any(held.overlaps(closure) for closure in calendar.closures):
        return CLOSED
    if len(therapists) == 1 and any(
        held.overlaps(off) for off in calendar.time_off.get(therapists[0].user_id, [])
    ):
        return AWAY
    return unfit_message(reason, policy)
