"""Read-side queries for the staff pages: each client's latest screening
(review queue, client list), and a client's record.

Like services, they take a session and never commit; they never write.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Exists, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, selectinload

from clinic.accounts.models import Role, User
from clinic.intake import screening as engine
from clinic.intake.models import Acknowledgement, Clearance, Screening


def first_screening_ids(db: Session, client_id: int) -> set[int]:
    """The first screening of each intake; any later one followed a clearance."""
    return set(
        db.scalars(
            select(func.min(Screening.id))
            .where(Screening.client_id == client_id)
            .group_by(Screening.intake_id)
        )
    )


class BookedOn(NamedTuple):
    """The session a screening was answered for."""

    starts_at: datetime
    cancelled: bool


def booked_screenings(db: Session, client_id: int) -> dict[int, BookedOn]:
    """{screening id: its session} for the client's screenings that a
    booking was made on: each still needs its own acknowledgement when it is
    a caution and the session is on, even after a newer screening for a later
    booking."""
    # booking depends on intake, not back
    from clinic.booking.models import Booking, BookingStatus

    rows = db.execute(
        select(Booking.screening_id, Booking.starts_at, Booking.status)
        .where(Booking.client_id == client_id, Booking.screening_id.is_not(None))
    )
    return {screening_id: BookedOn(starts_at, status is BookingStatus.CANCELLED)
            for screening_id, starts_at, status in rows}


def clearances_of(db: Session, client_id: int) -> list[Clearance]:
    """Every note recorded for the client, newest first (in force or not)."""
    return list(
        db.scalars(
            select(Clearance)
            .where(Clearance.client_id == client_id)
            .options(selectinload(Clearance.recorded_by))
            .order_by(Clearance.recorded_at.desc(), Clearance.id.desc())
        )
    )


class ClientStatus(NamedTuple):
    """A client with their latest screening (None before any intake)."""

    client: User
    screening: Screening | None
    acknowledgement: Acknowledgement | None

    @property
    def attention(self) -> str:
        """What staff must do: "urgent", "clearance", "acknowledge" or ""."""
        outcome = self.screening.outcome if self.screening is not None else ""
        if outcome == engine.Outcome.URGENT:
            return "urgent"
        if outcome == engine.Outcome.REFER:
            return "clearance"
        if outcome == engine.Outcome.CAUTION and self.acknowledgement is None:
            return "acknowledge"
        return ""


def _superseded() -> Exists:
    """The screening has a newer one of the same client. Checked per row
    through the client index, so a page pays for the screenings it shows
    rather than for ranking every screening the clinic ever made."""
    newer = aliased(Screening)
    return exists().where(
        newer.client_id == Screening.client_id,
        or_(
            newer.created_at > Screening.created_at,
            and_(newer.created_at == Screening.created_at, newer.id > Screening.id),
        ),
    )


# Every outcome but clear: the review queue's candidates.
_NEEDS_ATTENTION = tuple(o.value for o in engine.Outcome if o != engine.Outcome.CLEAR)
# Urgent alerts first, then clients awaiting clearance, then acknowledgements.
_QUEUE_ORDER = case(
    {engine.Outcome.URGENT.value: 0, engine.Outcome.REFER.value: 1},
    value=Screening.outcome,
    else_=2,
)


def review_queue(db: Session) -> list[ClientStatus]:
    """Clients whose latest screening is urgent, refer, or an unacknowledged
    caution, most pressing first: one query however many clients."""
    rows = db.execute(
        select(User, Screening, Acknowledgement)
        .select_from(Screening)
        .join(User, User.id == Screening.client_id)
        .outerjoin(Acknowledgement, Acknowledgement.screening_id == Screening.id)
        .where(
            Screening.outcome.in_(_NEEDS_ATTENTION),  # read through its index
            # A caution stays only until a therapist acknowledges it.
            or_(Screening.outcome != engine.Outcome.CAUTION.value,
                Acknowledgement.id.is_(None)),
            ~_superseded(),
        )
        .order_by(_QUEUE_ORDER, Screening.created_at.desc(), Screening.id.desc())
    )
    return [ClientStatus(*row) for row in rows]


class BookedCaution(NamedTuple):
    """A session booked on a caution nobody has acknowledged yet."""

    starts_at: datetime
    client: User
    screening: Screening


def booked_cautions(db: Session, now: datetime) -> list[BookedCaution]:
    """Sessions still to come that were booked on an unacknowledged caution
    which is no longer the client's latest screening (the latest ones are in
    the review queue already), soonest first."""
    from clinic.booking.models import (  # booking is above
        ACTIVE_STATUSES,
        Booking,
        ends_after,
    )

    rows = db.execute(
        select(Booking.starts_at, User, Screening)
        .join(Screening, Screening.id == Booking.screening_id)
        .join(User, User.id == Booking.client_id)
        .outerjoin(Acknowledgement, Acknowledgement.screening_id == Screening.id)
        .where(
            Booking.status.in_(ACTIVE_STATUSES),
            *ends_after(now),
            Screening.outcome == engine.Outcome.CAUTION.value,
            Acknowledgement.id.is_(None),
            _superseded(),
        )
        .order_by(Booking.starts_at, Booking.id)
    )
    return [BookedCaution(*row) for row in rows]


@dataclass(frozen=True)
class ClientPage:
    items: list[ClientStatus]
    total: int
    page: int
    pages: int


def client_overview(
    db: Session, search: str = "", page: int = 1, per_page: int = 25
) -> ClientPage:
    """Clients (name or email containing `search`) with their current status,
    by name. `page` is clamped to the pages there are."""
    matches = [User.role == Role.CLIENT]
    if search:
        matches.append(
            or_(
                User.full_name.icontains(search, autoescape=True),
                User.email.icontains(search, autoescape=True),
            )
        )
    total = db.scalar(select(func.count(User.id)).where(*matches)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    # The page's clients first, so only their screenings are looked at.
    shown = (
        select(User.id).where(*matches).order_by(User.full_name, User.id)
        .limit(per_page).offset((page - 1) * per_page).subquery()
    )
    rows = db.execute(
        select(User, Screening, Acknowledgement)
        .join(shown, shown.c.id == User.id)
        .outerjoin(Screening, and_(Screening.client_id == User.id, ~_superseded()))
        .outerjoin(Acknowledgement, Acknowledgement.screening_id == Screening.id)
        .order_by(User.full_name, User.id)
    )
    return ClientPage([ClientStatus(*row) for row in rows], total, page, pages)


def review_counts(db: Session) -> dict[str, int]:
    """How many clients the review queue holds, by what staff must do
    ("urgent", "clearance", "acknowledge"), for the therapist's home page."""
    counts = {"urgent": 0, "clearance": 0, "acknowledge": 0}
    for entry in review_queue(db):
        counts[entry.attention] += 1
    return counts
