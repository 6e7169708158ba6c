"""Delivering the outbox.

Each message is claimed with a conditional UPDATE before it is sent, so two
senders (two cron runs, two machines) never deliver the same message twice.
A failed attempt is retried with back-off until ``MAIL_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import smtplib
import sys
from collections.abc import Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from clinic.db import utcnow
from clinic.mail.models import MailStatus, OutboxMessage

LEASE = timedelta(minutes=5)


class MailBackend(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class ConsoleBackend:
    """Development: print each message instead of sending it."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: EmailMessage) -> None:
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        print(
            f"---- mail to {message['To']}: {message['Subject']}\n{text}----",
            file=self.stream,
            flush=True,
        )


class SmtpBackend:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    def send(self, message: EmailMessage) -> None:
        cfg = self.config
        with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
            if cfg["MAIL_USE_STARTTLS"]:
                smtp.starttls()
            if cfg["MAIL_USERNAME"]:
                smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"] or "")
            smtp.send_message(message)


def backend_for(config: dict[str, Any]) -> MailBackend:
    if config["MAIL_BACKEND"] == "console":
        return ConsoleBackend()
    if config["MAIL_BACKEND"] == "smtp":
        return SmtpBackend(config)
    raise ValueError(f"unknown MAIL_BACKEND {config['MAIL_BACKEND']!r}")


def build_email(row: OutboxMessage, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_addr
    message["Subject"] = row.subject
    message["Message-ID"] = f"<outbox-{row.id}-{row.created_at:%Y%m%d%H%M%S}@clinic>"
    message.set_content(row.body_text)
    if row.attachment_text is not None:
        _maintype, _, subtype = (row.attachment_type or "text/plain").partition("/")
        subtype, _, params = subtype.partition(";")
        message.add_attachment(
            row.attachment_text,
            subtype=subtype.strip(),
            filename=row.attachment_name,
            params=_parse_params(params),
        )
    return message


def _parse_params(params: str) -> dict[str, str]:
    pairs = (p.split("=", 1) for p in params.split(";") if "=" in p)
    return {k.strip(): v.strip() for k, v in pairs}


def _claim(db: Session, message_id: int, now: datetime) -> bool:
    result = db.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            or_(
                OutboxMessage.status == MailStatus.PENDING,
                (OutboxMessage.status == MailStatus.SENDING)
                & (OutboxMessage.lease_until < now),
            ),
        )
        .values(status=MailStatus.SENDING, lease_until=now + LEASE)
    )
    db.commit()
    return result.rowcount == 1  # type: ignore[attr-defined]


def _due_ids(db: Session, now: datetime, only: Iterable[int] | None) -> list[int]:
    query = select(OutboxMessage.id).where(
        or_(
            (OutboxMessage.status == MailStatus.PENDING)
            & (OutboxMessage.next_attempt_at <= now),
            (OutboxMessage.status == MailStatus.SENDING)
            & (OutboxMessage.lease_until < now),
        )
    )
    if only is not None:
        query = query.where(OutboxMessage.id.in_(list(only)))
    ids = list(db.scalars(query.order_by(OutboxMessage.id)))
    db.commit()
    return ids


def deliver_due(
    factory: sessionmaker[Session],
    backend: MailBackend,
    config: dict[str, Any],
    only: Iterable[int] | None = None,
) -> tuple[int, int]:
    """Send every due message (or only the given ones). Returns (sent, failed)."""
    sent = failed = 0
    with factory() as db:
        for message_id in _due_ids(db, utcnow(), only):
            if not _claim(db, message_id, utcnow()):
                continue  # another sender has it
            if _send_one(db, message_id, backend, config):
                sent += 1
            else:
                failed += 1
    return sent, failed


def _send_one(
    db: Session, message_id: int, backend: MailBackend, config: dict[str, Any]
) -> bool:
    row = db.get(OutboxMessage, message_id)
    assert row is not None
    row.attempts += 1
    try:
        backend.send(build_email(row, config["MAIL_SENDER"]))
    except (OSError, smtplib.SMTPException) as exc:
        _record_failure(row, exc, config["MAIL_MAX_ATTEMPTS"])
        db.commit()
        return False
    row.status = MailStatus.SENT
    row.sent_at = utcnow()
    row.lease_until = None
    row.last_error = None
    db.commit()
    return True


def _record_failure(row: OutboxMessage, exc: Exception, max_attempts: int) -> None:
    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
    row.lease_until = None
    if row.attempts >= max_attempts:
        row.status = MailStatus.FAILED
        return
    row.status = MailStatus.PENDING
    # Exponential back-off: 1, 2, 4, 8 ... minutes.
    row.next_attempt_at = utcnow() + timedelta(minutes=2 ** (row.attempts - 1))
