"""Queueing mail. Services call ``queue_mail``; nothing is sent until the
transaction that queued it has committed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from clinic.mail.models import OutboxMessage

QUEUED_KEY = "clinic.queued_mail"


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
) -> OutboxMessage:
    message = OutboxMessage(
        to_addr=to,
        subject=subject[:200],
        body_text=body,
        dedupe_key=dedupe_key,
    )
    if attachment is not None:
        message.attachment_name = attachment.filename
        message.attachment_type = attachment.content_type
        message.attachment_text = attachment.text
    db.add(message)
    # The web layer sends these right after its commit (``clinic.web.commit``),
    # which also gives them their ids; the cron sender picks up anything that
    # could not go out then.
    db.info.setdefault(QUEUED_KEY, []).append(message)
    return message


def render_mail(template: str, **context: Any) -> str:
    """A mail body from ``templates/``: only the context given, no request's
    (mail is also rendered by CLI commands, and says nothing of who is
    logged in)."""
    return current_app.jinja_env.get_template(template).render(context)
