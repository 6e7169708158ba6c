"""Small helpers the views share: the acting user, committing, sending."""

from __future__ import annotations

from flask import current_app, g, request
from flask_login import current_user
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.audit.services import Actor
from clinic.db import get_read_session
from clinic.mail.sender import backend_for, deliver_due
from clinic.mail.services import QUEUED_KEY
from clinic.settings.models import ClinicSettings
from clinic.settings.services import Settings, load_settings, settings_from


def client_ip() -> str:
    return request.remote_addr or "unknown"


def signed_in() -> User:
    """The logged-in user itself rather than Flask-Login's proxy, for code
    that reads it many times (every read through the proxy finds the user
    again). Only for views that require a login."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    return user


def actor() -> Actor:
    user = signed_in() if current_user.is_authenticated else None
    return Actor(user=user, ip=client_ip())


def settings() -> Settings:
    """The clinic's settings for this request (stored row over config),
    read once per request."""
    if "clinic_settings" not in g:
        g.clinic_settings = load_settings(get_read_session(), current_app.config)
    return g.clinic_settings


def keep_settings(row: ClinicSettings | None) -> None:
    """Serve the request's ``settings()`` from a row read alongside other
    data (the user loader reads it with the logged-in user)."""
    if "clinic_settings" not in g:
        g.clinic_settings = settings_from(row, current_app.config)


def commit(db: Session) -> None:
    """Commit the request's work once, then send the mail it queued.

    Sending happens after the commit so no mail ever describes a change that
    was rolled back. A failed send stays in the outbox for the cron sender.
    """
    queued = db.info.pop(QUEUED_KEY, [])
    db.commit()
    if queued and current_app.config["MAIL_SEND_ON_COMMIT"]:
        config = current_app.config
        factory = current_app.extensions["clinic.sessionmaker"]
        deliver_due(factory, backend_for(config), config,
                    only=queued)


def rollback(db: Session) -> None:
    db.info.pop(QUEUED_KEY, None)
    db.rollback()
