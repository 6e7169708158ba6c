"""Intakes, their screenings, acknowledgements and clinician clearances.

An intake's answers never change: a new questionnaire (or the pre-booking
re-screen) is a new row. Each screening stores the whole result with its
ruleset version, so it can be audited after the rules change.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Enum, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.accounts.models import NAME_MAX, User
from clinic.db import Base, UTCDateTime, utcnow


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        length=20,
        name=name,
        values_callable=lambda members: [m.value for m in members],
    )


class IntakeKind(enum.StrEnum):
    FULL = "full"  # the whole questionnaire
    RESCREEN = "rescreen"  # safety questions re-asked before a booking


class Intake(Base):
    __tablename__ = "intake"
    __table_args__ = (Index("ix_intake_client_created", "client_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    kind: Mapped[IntakeKind] = mapped_column(_enum(IntakeKind, "intake_kind"))
    # For a re-screen: the full intake whose other answers it carries forward.
    based_on_id: Mapped[int | None] = mapped_column(
        ForeignKey("intake.id", ondelete="RESTRICT")
    )
    # The answers as screened (for a re-screen: merged with the base intake).
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    client: Mapped[User] = relationship(foreign_keys=[client_id])
    screenings: Mapped[list[Screening]] = relationship(
        back_populates="intake", order_by="Screening.id"
    )


class Screening(Base):
    """One run of the screening function over an intake (with the clearances
    in force then). A clearance recorded later adds a new screening."""

    __tablename__ = "screening"

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(
        ForeignKey("intake.id", ondelete="RESTRICT"), index=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT"), index=True
    )
    ruleset_version: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(20), index=True)
    booking_allowed: Mapped[bool] = mapped_column(Boolean)
    top_technique: Mapped[str | None] = mapped_column(String(20))
    extent_level: Mapped[int | None]
    # The spec's result object (§1.3) exactly as returned, plus what the app
    # adds (cleared rules, the suggestion's reason).
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    cleared_rules: Mapped[list[str]] = mapped_column(JSON, default=list)
    clearance_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    intake: Mapped[Intake] = relationship(back_populates="screenings")
    acknowledgement: Mapped[Acknowledgement | None] = relationship(
        back_populates="screening"
    )

    @property
    def fired_rules(self) -> list[str]:
        return list(self.result.get("fired_rules", []))

    @property
    def excluded_techniques(self) -> list[str]:
        return list(self.result.get("excluded_techniques", []))


class Acknowledgement(Base):
    """A therapist has reviewed a caution screening (spec §3.1)."""

    __tablename__ = "acknowledgement"

    id: Mapped[int] = mapped_column(primary_key=True)
    screening_id: Mapped[int] = mapped_column(
        ForeignKey("screening.id", ondelete="RESTRICT"), unique=True
    )
    therapist_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT")
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    screening: Mapped[Screening] = relationship(back_populates="acknowledgement")
    therapist: Mapped[User] = relationship()


class ReceivedVia(enum.StrEnum):
    LETTER = "letter"
    EMAIL = "email"
    VERBAL = "verbal"  # a call logged by staff

    @property
    def label(self) -> str:
        return {
            "letter": "Letter",
            "email": "Email",
            "verbal": "Phone call logged by staff",
        }[self.value]


class Clearance(Base):
    """A clinician's clearance note (spec §3.2)."""

    __tablename__ = "clearance"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT"), index=True
    )
    clinician_name: Mapped[str] = mapped_column(String(NAME_MAX))
    profession: Mapped[str] = mapped_column(String(60))
    note_date: Mapped[date] = mapped_column(Date)
    rule_ids: Mapped[list[str]] = mapped_column(JSON)
    restrictions: Mapped[str | None] = mapped_column(String(500))
    # None: each rule's own after-clearance exclusions apply.
    excluded_override: Mapped[list[str] | None] = mapped_column(JSON)
    urgent_assessed: Mapped[bool] = mapped_column(Boolean, default=False)
    received_via: Mapped[ReceivedVia] = mapped_column(
        _enum(ReceivedVia, "received_via")
    )
    recorded_by_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT")
    )
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    lapsed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lapsed_reason: Mapped[str | None] = mapped_column(String(200))

    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])

    def in_force(self, at: datetime) -> bool:
        return self.lapsed_at is None and at < self.valid_until
