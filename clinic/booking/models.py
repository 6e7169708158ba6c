"""Services, therapists' schedules, rooms and bookings.

No double booking is guaranteed by the database itself. On PostgreSQL,
exclusion constraints over half-open ``[start, end)`` ranges refuse any
overlapping active booking of the same therapist, room or client. On SQLite,
triggers created by the migration refuse the same, and writers take the
lock before they check (``clinic.db``), so the check and insert cannot race.
"""

from __future__ import annotations

import enum
from datetime import datetime, time, timedelta

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ColumnElement,
    Enum,
    ForeignKey,
    Index,
    String,
    Table,
    Time,
    func,
    literal_column,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.accounts.models import User
from clinic.db import Base, UTCDateTime, utcnow

TECHNIQUE_MAX = 20
REASON_MAX = 200


class BookingStatus(enum.StrEnum):
    PENDING = "pending"  # held while a client confirms; occupies the slot
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    COMPLETED = "completed"
    NO_SHOW = "no_show"

    @property
    def label(self) -> str:
        return self.value.replace("_", "-").capitalize()


# Statuses that occupy time: the constraints below count these as busy.
ACTIVE_STATUSES = (BookingStatus.PENDING, BookingStatus.CONFIRMED)
ACTIVE_SQL = "status IN ('pending', 'confirmed')"


therapist_service = Table(
    "therapist_service",
    Base.metadata,
    Column(
        "therapist_id",
        ForeignKey("therapist.user_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True
    ),
)


DURATION_MINUTES = (5, 480)
BUFFER_MINUTES = (0, 120)
# No booking holds its therapist (session and buffer) longer than the longest
# service can: a booking overlapping a time started at most this long before
# it, which bounds the overlap reads' index range. The database refuses longer
# holds (migration 0005), so a row written outside the app cannot hide.
LONGEST_HOLD = timedelta(minutes=DURATION_MINUTES[1] + BUFFER_MINUTES[1])


class Service(Base):
    __tablename__ = "service"
    __table_args__ = (
        CheckConstraint("duration_minutes BETWEEN {} AND {}".format(*DURATION_MINUTES),
                        name="duration_range"),
        CheckConstraint("buffer_minutes BETWEEN {} AND {}".format(*BUFFER_MINUTES),
                        name="buffer_range"),
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(1000), default="")
    duration_minutes: Mapped[int]
    price_pence: Mapped[int]
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Therapist(Base):
    """The therapist side of a user: what they offer and when they work."""

    __tablename__ = "therapist"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    bio: Mapped[str] = mapped_column(String(1000), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Secret part of the private calendar feed URL; regenerating it revokes
    # every old subscription.
    calendar_token: Mapped[str | None] = mapped_column(String(64), unique=True)

    user: Mapped[User] = relationship()
    services: Mapped[list[Service]] = relationship(secondary=therapist_service)
    techniques: Mapped[list[TherapistTechnique]] = relationship(
        cascade="all, delete-orphan"
    )
    hours: Mapped[list[WorkingHours]] = relationship(
        cascade="all, delete-orphan",
        order_by="(WorkingHours.weekday, WorkingHours.start)",
    )

    @property
    def technique_keys(self) -> set[str]:
        return {t.technique for t in self.techniques}


class TherapistTechnique(Base):
    __tablename__ = "therapist_technique"

    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist.user_id", ondelete="CASCADE"), primary_key=True
    )
    technique: Mapped[str] = mapped_column(String(TECHNIQUE_MAX), primary_key=True)


class Room(Base):
    __tablename__ = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class WorkingHours(Base):
    """A weekly interval in the clinic's local wall-clock time."""

    __tablename__ = "working_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint('start < "end"', name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist.user_id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]  # 0 = Monday
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)


class TimeOff(Base):
    __tablename__ = "time_off"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist.user_id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    created_by_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT")
    )


class Closure(Base):
    """The whole clinic is closed (holiday, training day)."""

    __tablename__ = "closure"
    __table_args__ = (CheckConstraint("starts_at < ends_at", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(String(REASON_MAX), default="")
    created_by_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT")
    )


def _tstzrange(start: str, end: str) -> object:
    return func.tstzrange(literal_column(start), literal_column(end), "[)")


class Booking(Base):
    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint("starts_at < ends_at", name="start_before_end"),
        CheckConstraint("ends_at <= blocks_until", name="buffer_after_end"),
        # SQLite, which has no interval type, has triggers for this instead.
        CheckConstraint(
            "blocks_until <= starts_at + interval "
            f"'{LONGEST_HOLD // timedelta(minutes=1)} minutes'",
            name="longest_hold",
        ).ddl_if(dialect="postgresql"),
        Index("ix_booking_therapist_starts", "therapist_id", "starts_at"),
        Index("ix_booking_client_starts", "client_id", "starts_at"),
        Index("ix_booking_starts", "starts_at"),
        # The therapist and the room are busy until the buffer ends; the
        # client only until the session ends. Half-open ranges let
        # back-to-back sessions touch (pitfalls.md).
        ExcludeConstraint(
            (literal_column("therapist_id"), "="),
            (_tstzrange("starts_at", "blocks_until"), "&&"),
            where=literal_column(ACTIVE_SQL),
            name="booking_therapist_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
        ExcludeConstraint(
            (literal_column("room_id"), "="),
            (_tstzrange("starts_at", "blocks_until"), "&&"),
            where=literal_column(f"room_id IS NOT NULL AND {ACTIVE_SQL}"),
            name="booking_room_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
        ExcludeConstraint(
            (literal_column("client_id"), "="),
            (_tstzrange("starts_at", "ends_at"), "&&"),
            where=literal_column(ACTIVE_SQL),
            name="booking_client_no_overlap",
            using="gist",
        ).ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("therapist.user_id", ondelete="RESTRICT")
    )
    service_id: Mapped[int] = mapped_column(
        ForeignKey("service.id", ondelete="RESTRICT")
    )
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("room.id", ondelete="RESTRICT")
    )
    technique: Mapped[str] = mapped_column(String(TECHNIQUE_MAX))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocks_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[BookingStatus] = mapped_column(
        Enum(
            BookingStatus,
            native_enum=False,
            length=20,
            name="booking_status",
            values_callable=lambda statuses: [s.value for s in statuses],
        ),
        default=BookingStatus.CONFIRMED,
    )
    # The pre-booking screening that allowed this booking; valid for it only.
    screening_id: Mapped[int | None] = mapped_column(
        ForeignKey("screening.id", ondelete="RESTRICT"), unique=True
    )
    price_pence: Mapped[int]
    created_by_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT")
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(REASON_MAX))
    rescheduled_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("booking.id", ondelete="RESTRICT")
    )

    client: Mapped[User] = relationship(foreign_keys=[client_id])
    therapist: Mapped[Therapist] = relationship()
    service: Mapped[Service] = relationship()
    room: Mapped[Room | None] = relationship()

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


def ends_after(moment: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """Conditions for bookings whose session ends after ``moment``.

    The second follows from the first, as no booking lasts longer than
    LONGEST_HOLD, and it lets the database read the ``starts_at`` index from
    there instead of every past booking (a booking's status is not indexed).
    """
    return Booking.ends_at > moment, Booking.starts_at > moment - LONGEST_HOLD
