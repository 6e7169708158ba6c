"""Queueing mail. Services call ``queue_mail``; nothing is sent until the
transaction that queued it has committed."""

from __future__ import annotations

from dataclasses import dataclass

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
    db.flush()
    # The web layer sends these right after its commit (``clinic.web.commit``);
    # the cron sender picks up anything that could not go out then.
    db.info.setdefault(QUEUED_KEY, []).append(message.id)
    return message
