"""The append-only audit trail of clinical records and account security.

Rows say who did what to which record, when, from where and whether it was
allowed. They never hold anything from the record's content. Database
triggers (see the migration) refuse UPDATE and DELETE on every database.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinic.db import Base, UTCDateTime, utcnow

ACTION_MAX = 40
RECORD_TYPE_MAX = 40
DETAIL_MAX = 200


class AuditEvent(Base):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_subject_at", "subject_user_id", "at"),
        Index("ix_audit_event_record", "record_type", "record_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT"), index=True
    )
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(ACTION_MAX))
    record_type: Mapped[str] = mapped_column(String(RECORD_TYPE_MAX))
    record_id: Mapped[int | None]
    # The client whose record this is, so a client's whole trail is one query.
    subject_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="RESTRICT")
    )
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[str | None] = mapped_column(String(DETAIL_MAX))
