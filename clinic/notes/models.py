"""Session notes (spec §7.1) and their addenda.

A note is a draft until its author signs it; then the database refuses any
UPDATE or DELETE of it (a trigger, see the migration). Corrections are dated
addenda that sit under the original, and addenda are append-only too.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clinic.accounts.models import User
from clinic.db import Base, UTCDateTime, utcnow

SECTION_MAX = 5000  # characters per free-text section, checked by the form
AREA_MAX = 500


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        native_enum=False,
        length=20,
        name=name,
        values_callable=lambda members: [m.value for m in members],
    )


class Pressure(enum.StrEnum):
    LIGHT = "light"
    MODERATE = "moderate"
    FIRM = "firm"


class Response(enum.StrEnum):
    """How the client felt 24-48 hours after the previous session."""

    BETTER = "better"
    SAME = "same"
    WORSE = "worse"


class NoteStatus(enum.StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class SessionNote(Base):
    __tablename__ = "session_note"
    __table_args__ = (
        CheckConstraint("nprs_before BETWEEN 0 AND 10", name="nprs_before_range"),
        CheckConstraint("nprs_after BETWEEN 0 AND 10", name="nprs_after_range"),
        CheckConstraint("extent_level BETWEEN 0 AND 5", name="extent_level_range"),
        CheckConstraint(
            "(status = 'signed') = (signed_at IS NOT NULL)", name="signed_has_time"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(
        ForeignKey("booking.id", ondelete="RESTRICT"), unique=True
    )
    client_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    status: Mapped[NoteStatus] = mapped_column(
        _enum(NoteStatus, "note_status"), default=NoteStatus.DRAFT
    )
    subjective: Mapped[str] = mapped_column(Text, default="")
    objective: Mapped[str] = mapped_column(Text, default="")
    assessment: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    techniques_used: Mapped[list[str]] = mapped_column(JSON, default=list)
    pressure: Mapped[Pressure | None] = mapped_column(_enum(Pressure, "pressure"))
    areas_treated: Mapped[str] = mapped_column(String(AREA_MAX), default="")
    areas_avoided: Mapped[str] = mapped_column(String(AREA_MAX), default="")
    nprs_before: Mapped[int | None]
    nprs_after: Mapped[int | None]
    extent_level: Mapped[int | None]
    extent_trend: Mapped[str | None] = mapped_column(String(20))
    home_care: Mapped[str] = mapped_column(Text, default="")
    advisories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Recorded at this visit about the previous session (spec §7.1).
    previous_response: Mapped[Response | None] = mapped_column(
        _enum(Response, "response")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(foreign_keys=[author_id])
    addenda: Mapped[list[NoteAddendum]] = relationship(
        back_populates="note", order_by="NoteAddendum.id"
    )

    @property
    def is_signed(self) -> bool:
        return self.status is NoteStatus.SIGNED


class NoteAddendum(Base):
    __tablename__ = "note_addendum"

    id: Mapped[int] = mapped_column(primary_key=True)
    note_id: Mapped[int] = mapped_column(
        ForeignKey("session_note.id", ondelete="RESTRICT"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    note: Mapped[SessionNote] = relationship(back_populates="addenda")
    author: Mapped[User] = relationship()
