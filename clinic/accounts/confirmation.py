"""The email that confirms a client's address, and how often it may be sent."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import func, select

from clinic import clock
from clinic.accounts import services
from clinic.accounts.models import User
from clinic.db import get_read_session, get_session, utcnow
from clinic.mail.models import OutboxMessage
from clinic.mail.services import queue_mail, render_mail
from clinic.web import settings

SUBJECT = "Please confirm your email address"
LINKS_PER_HOUR = 3


def queue_confirmation_mail(user: User) -> None:
    """Mail ``user`` a link that confirms their address (the caller commits)."""
    token = services.email_link_token(user, current_app.secret_key, clock.now())
    body = render_mail(
        "accounts/email/confirm_email.txt", user=user,
        link=url_for("accounts.confirm_email", token=token, _external=True),
        days=services.EMAIL_LINK_MAX_AGE.days, clinic_name=settings().clinic_name)
    queue_mail(get_session(), to=user.email, subject=SUBJECT, body=body)


def links_sent_lately(address: str) -> int:
    """Confirmation mails queued to ``address`` in the last hour (the outbox
    stamps messages with the real time)."""
    since = utcnow() - timedelta(hours=1)
    return get_read_session().scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.to_addr == address, OutboxMessage.subject == SUBJECT,
            OutboxMessage.created_at > since)) or 0
