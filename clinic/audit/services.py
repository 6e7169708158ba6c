"""Recording audit events. Services call ``record``; it only adds a row."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.audit.models import DETAIL_MAX, AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is acting and from where; built once per request by the view."""

    user: User | None
    ip: str | None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


def record(
    db: Session,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: int | None = None,
    *,
    subject_user_id: int | None = None,
    allowed: bool = True,
    detail: str | None = None,
) -> AuditEvent:
    """Append one audit row. ``detail`` must never hold clinical content."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor_role=actor.user.role.value if actor.user is not None else None,
        action=action,
        record_type=record_type,
        record_id=record_id,
        subject_user_id=subject_user_id,
        allowed=allowed,
        ip=(actor.ip or "")[:45] or None,
        detail=detail[:DETAIL_MAX] if detail else None,
    )
    db.add(event)
    return event
