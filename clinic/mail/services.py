"""Queueing mail. Services call ``queue_mail``; nothing is sent until the
transaction that queued it has committed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import insert
from sqlalchemy.orm import Session

from clinic.mail.models import OutboxMessage

QUEUED_KEY = "clinic.queued_mail"  # the ids of the messages this session queued
_APPEND = insert(OutboxMessage.__table__)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    text: str


def queue_mail(
    db: Session,
    *,
    to: str,
    subject: str,
    body: str,
    attachment: Attachment | None = None,
    dedupe_key: str | None = None,
) -> int:
    """Write one message to the outbox and return its id.

    A plain INSERT, sent at once: nothing here reads the message back, so an
    ORM object (and the unit of work's flush of it) would only cost time on
    every booking. A duplicate ``dedupe_key`` raises IntegrityError here.
    """
    values: dict[str, Any] = {"to_addr": to, "subject": subject[:200],
                              "body_text": body, "dedupe_key": dedupe_key}
    if attachment is not None:
        values |= {"attachment_name": attachment.filename,
                   "attachment_type": attachment.content_type,
                   "attachment_text": attachment.text}
    (message_id,) = db.execute(_APPEND, values).inserted_primary_key
    # The web layer sends these right after its commit (``clinic.web.commit``);
    # the cron sender picks up anything that could not go out then.
    db.info.setdefault(QUEUED_KEY, []).append(message_id)
    return int(message_id)


def render_mail(template: str, **context: Any) -> str:
    """A mail body from ``templates/``: only the context given, no request's
    (mail is also rendered by CLI commands, and says nothing of who is
    logged in)."""
    return current_app.jinja_env.get_template(template).render(context)
