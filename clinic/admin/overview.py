"""What the admin overview shows: counts, this day's and week's bookings,
screenings waiting for review and the latest audit events. Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.booking.models import Booking, BookingStatus, Room, Service, Therapist
from clinic.booking.slots import Interval, local_day_bounds
from clinic.intake.models import Acknowledgement, Screening

RECENT_EVENTS = 20
CAUTION = "caution"


@dataclass(frozen=True)
class PeriodCounts:
    booked: int  # every booking not cancelled (held, confirmed, done, no-show)
    cancelled: int
    no_shows: int


@dataclass(frozen=True)
class RecentEvent:
    at: datetime
    actor: str
    action: str
    record_type: str
    record_id: int | None
    allowed: bool


@dataclass(frozen=True)
class Overview:
    therapists: int
    clients: int
    admins: int
    services: int
    rooms: int
    today: PeriodCounts
    week: PeriodCounts
    pending_reviews: int
    recent: list[RecentEvent]


def _count(db: Session, query: object) -> int:
    return db.scalar(query) or 0  # type: ignore[call-overload]


def _period(db: Session, span: Interval) -> PeriodCounts:
    by_status = dict(db.execute(
        select(Booking.status, func.count())
        .where(Booking.starts_at >= span.start, Booking.starts_at < span.end)
        .group_by(Booking.status)
    ).all())
    cancelled = by_status.get(BookingStatus.CANCELLED, 0)
    return PeriodCounts(sum(by_status.values()) - cancelled, cancelled,
                        by_status.get(BookingStatus.NO_SHOW, 0))


def pending_reviews(db: Session) -> int:
    """Clients whose latest screening is a caution no therapist has
    acknowledged yet (the review queue)."""
    latest = (select(func.max(Screening.id).label("id"))
              .group_by(Screening.client_id).subquery())
    return _count(db, select(func.count()).select_from(Screening)
                  .join(latest, Screening.id == latest.c.id)
                  .outerjoin(Acknowledgement,
                             Acknowledgement.screening_id == Screening.id)
                  .where(Screening.outcome == CAUTION,
                         Acknowledgement.id.is_(None)))


def recent_events(db: Session, limit: int = RECENT_EVENTS) -> list[RecentEvent]:
    rows = db.execute(
        select(AuditEvent, User.full_name)
        .outerjoin(User, User.id == AuditEvent.actor_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    )
    return [
        RecentEvent(event.at, name or "System", event.action, event.record_type,
                    event.record_id, event.allowed)
        for event, name in rows
    ]


def overview(db: Session, tz: ZoneInfo, now: datetime) -> Overview:
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    week = Interval(local_day_bounds(monday, tz).start,
                    local_day_bounds(monday + timedelta(days=7), tz).start)
    roles = dict(db.execute(
        select(User.role, func.count()).where(User.active.is_(True))
        .group_by(User.role)).all())
    return Overview(
        therapists=_count(db, select(func.count()).select_from(Therapist)
                          .where(Therapist.active.is_(True))),
        clients=roles.get(Role.CLIENT, 0),
        admins=roles.get(Role.ADMIN, 0),
        services=_count(db, select(func.count()).select_from(Service)
                        .where(Service.active.is_(True))),
        rooms=_count(db, select(func.count()).select_from(Room)
                     .where(Room.active.is_(True))),
        today=_period(db, local_day_bounds(today, tz)),
        week=_period(db, week),
        pending_reviews=pending_reviews(db),
        recent=recent_events(db),
    )
