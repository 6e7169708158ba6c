"""Recording audit events (services call ``record``; it only adds a row) and
reading them back for admins: filters, pages and a CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Select, func, insert, or_, select
from sqlalchemy.orm import Session, aliased

from clinic.accounts.models import User
from clinic.audit.models import DETAIL_MAX, AuditEvent

_APPEND = insert(AuditEvent.__table__)


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
) -> int:
    """Append one audit row and return its id. ``detail`` must never hold
    clinical content.

    A plain INSERT, sent at once: the trail is append-only and nothing reads
    the row back in the same transaction, so an ORM object would only add the
    unit of work's cost to every audited request.
    """
    result = db.execute(_APPEND, {
        "actor_id": actor.user_id,
        "actor_role": actor.user.role.value if actor.user is not None else None,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "subject_user_id": subject_user_id,
        "allowed": allowed,
        "ip": (actor.ip or "")[:45] or None,
        "detail": detail[:DETAIL_MAX] if detail else None,
    })
    return int(result.inserted_primary_key[0])


# ---------------------------------------------------------------- reading the trail


@dataclass(frozen=True)
class AuditFilter:
    """What an admin narrows the trail to. Empty values filter nothing."""

    user: str = ""  # the acting user: part of a name or email, or an id
    client: str = ""  # whose record it is (a client, or staff for account events)
    record_type: str = ""
    action: str = ""
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    allowed: bool | None = None


ActingUser = aliased(User, name="actor_user")
Subject = aliased(User, name="subject_user")


def _person(alias: Any, column: Any, text: str) -> Any:
    text = text.strip()
    if text.isdigit() and len(text) < 10:
        return column == int(text)
    return or_(alias.full_name.icontains(text, autoescape=True),
               alias.email.icontains(text, autoescape=True))


def _conditions(wanted: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    if wanted.user.strip():
        conditions.append(_person(ActingUser, AuditEvent.actor_id, wanted.user))
    if wanted.client.strip():
        conditions.append(_person(Subject, AuditEvent.subject_user_id, wanted.client))
    if wanted.record_type:
        conditions.append(AuditEvent.record_type == wanted.record_type)
    if wanted.action:
        conditions.append(AuditEvent.action == wanted.action)
    if wanted.since is not None:
        conditions.append(AuditEvent.at >= wanted.since)
    if wanted.until is not None:
        conditions.append(AuditEvent.at < wanted.until)
    if wanted.allowed is not None:
        conditions.append(AuditEvent.allowed.is_(wanted.allowed))
    return conditions


def events_query(wanted: AuditFilter) -> Select[tuple[AuditEvent, User, User]]:
    """Matching events, newest first, each with its actor and subject."""
    return (
        select(AuditEvent, ActingUser, Subject)
        .outerjoin(ActingUser, ActingUser.id == AuditEvent.actor_id)
        .outerjoin(Subject, Subject.id == AuditEvent.subject_user_id)
        .where(*_conditions(wanted))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    actor: User | None
    subject: User | None


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    pages: int


def page_of_events(
    db: Session, wanted: AuditFilter, page: int = 1, per_page: int = 50
) -> AuditPage:
    """One page of the filtered trail; ``page`` is clamped to the pages there are."""
    counted = (
        select(func.count(AuditEvent.id))
        .outerjoin(ActingUser, ActingUser.id == AuditEvent.actor_id)
        .outerjoin(Subject, Subject.id == AuditEvent.subject_user_id)
        .where(*_conditions(wanted))
    )
    total = db.scalar(counted) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    shown = events_query(wanted).limit(per_page).offset((page - 1) * per_page)
    rows = db.execute(shown)
    return AuditPage([AuditRow(*row) for row in rows], total, page, pages)


def distinct_values(db: Session, column: Any) -> list[str]:
    """The values a column takes in the trail (for filter choices)."""
    return sorted(v for v in db.scalars(select(column).distinct()) if v)


# ---------------------------------------------------------------- CSV export

CSV_HEADER = (
    "id", "time_utc", "time_local", "user_id", "user_email", "user_role", "action",
    "record_type", "record_id", "subject_user_id", "subject_email", "allowed", "ip",
    "detail",
)
# A spreadsheet runs a cell that starts with one of these as a formula
# (OWASP "CSV injection"); a leading apostrophe makes it plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(_FORMULA_STARTS) else text


def _csv_line(row: Sequence[object]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([csv_safe(value) for value in row])
    return buffer.getvalue()


def csv_lines(db: Session, wanted: AuditFilter, zone: tzinfo) -> Iterator[str]:
    """The filtered trail as CSV lines (header first), read in batches so a
    long trail streams without being held in memory."""
    yield _csv_line(CSV_HEADER)
    result = db.execute(events_query(wanted).execution_options(yield_per=500))
    for event, actor, subject in result:
        yield _csv_line((
            event.id, event.at.isoformat(), event.at.astimezone(zone).isoformat(),
            event.actor_id, actor.email if actor else None, event.actor_role,
            event.action, event.record_type, event.record_id, event.subject_user_id,
            subject.email if subject else None, "yes" if event.allowed else "no",
            event.ip, event.detail,
        ))
