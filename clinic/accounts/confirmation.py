"""Emails about an account: the ones that confirm an address (a client's at
registration, anyone's new one when they change it) and how often they may
be sent, and notices that name the clinic and its phone number."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic import clock
from clinic.accounts import services
from clinic.accounts.models import User
from clinic.db import get_read_session, get_session, utcnow
from clinic.mail.models import OutboxMessage
from clinic.mail.services import queue_mail, render_mail
from clinic.settings.services import Settings
from clinic.web import settings

SUBJECT = "Please confirm your email address"
CHANGE_SUBJECT = "Please confirm your new email address"
CHANGE_NOTICE_SUBJECT = "A change of your email address was asked for"
CHANGED_BY_CLINIC_SUBJECT = "The clinic changed your email address"
LINKS_PER_HOUR = 3


def queue_confirmation_mail(user: User) -> None:
    """Mail ``user`` a link that confirms their address (the caller commits)."""
    token = services.email_link_token(user, current_app.secret_key, clock.now())
    body = render_mail(
        "accounts/email/confirm_email.txt", user=user,
        link=url_for("accounts.confirm_email", token=token, _external=True),
        days=services.EMAIL_LINK_MAX_AGE.days, clinic_name=settings().clinic_name)
    queue_mail(get_session(), to=user.email, subject=SUBJECT, body=body)


def queue_email_change_mails(user: User, new_email: str) -> None:
    """The link to the new address, and a notice to the old one: if the
    change was not theirs, changing the password cancels it."""
    token = services.email_change_token(user, new_email, current_app.secret_key,
                                        clock.now())
    clinic = settings()
    common = {"user": user, "new_email": new_email, "clinic_name": clinic.clinic_name,
              "clinic_phone": clinic.clinic_phone}
    db = get_session()
    queue_mail(db, to=new_email, subject=CHANGE_SUBJECT, body=render_mail(
        "accounts/email/change_email.txt", **common,
        link=url_for("accounts.change_email", token=token, _external=True),
        days=services.EMAIL_LINK_MAX_AGE.days))
    queue_mail(db, to=user.email, subject=CHANGE_NOTICE_SUBJECT, body=render_mail(
        "accounts/email/email_change_asked.txt", **common,
        password_url=url_for("accounts.change_password", _external=True)))


def queue_account_notice(db: Session, clinic: Settings, user: User, template: str,
                         subject: str, *, to: str | None = None,
                         **context: object) -> None:
    """Queue a notice about ``user``'s account (to their address unless
    ``to``): ``accounts/email/<template>`` gets the user and the clinic's
    name and phone, for whoever must call. The caller commits."""
    queue_mail(db, to=to or user.email, subject=subject, body=render_mail(
        f"accounts/email/{template}", user=user, clinic_name=clinic.clinic_name,
        clinic_phone=clinic.clinic_phone, **context))


def queue_changed_by_clinic_notice(user: User, old_email: str) -> None:
    """Tell the old inbox that staff moved the account to a new address."""
    queue_account_notice(get_session(), settings(), user,
                         "email_changed_by_clinic.txt", CHANGED_BY_CLINIC_SUBJECT,
                         to=old_email)


def queue_moved_by_staff_mails(user: User, old_email: str) -> None:
    """Staff moved ``user`` to a new address: the new inbox gets the link
    that confirms it, the old one a notice."""
    queue_confirmation_mail(user)
    queue_changed_by_clinic_notice(user, old_email)


def links_sent_lately(address: str, subject: str = SUBJECT) -> int:
    """Mails with ``subject`` queued to ``address`` in the last hour (the
    outbox stamps messages with the real time)."""
    since = utcnow() - timedelta(hours=1)
    return get_read_session().scalar(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.to_addr == address, OutboxMessage.subject == subject,
            OutboxMessage.created_at > since)) or 0
