"""A client closes their own account; an admin reopens it.

Closing ends the client's use of the clinic online, not their record: every
session still to come is cancelled (each with its notice and calendar
cancellation, so the client's calendar empties), the login stops working on
every device, open password links die, and the health record stays, because
clinical records must be kept; staff still read it. A session inside the
cancellation cut-off, or under way, cannot be cancelled online, so neither
can the account be closed: the client is asked to call.

It lives with bookings because what happens to them is most of the work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from flask import url_for
from sqlalchemy.orm import Session

from clinic.accounts import services as accounts
from clinic.accounts.confirmation import queue_account_notice
from clinic.accounts.models import Role, User
from clinic.audit.services import Actor, record
from clinic.booking import slots
from clinic.booking.errors import cutoff_text
from clinic.booking.models import Booking
from clinic.booking.queries import upcoming_bookings
from clinic.booking.services import cancel_booking
from clinic.settings.services import Settings
from clinic.templating import format_local

CLOSED_REASON = "The client closed their account."
CLOSED_SUBJECT = "Your account is closed"
REOPENED_SUBJECT = "Your account is open again"


class CannotClose(Exception):
    """The account cannot be closed online now; the message says why."""


def too_soon(bookings: Sequence[Booking], settings: Settings,
             now: datetime) -> Booking | None:
    """The first session that can no longer be cancelled online, if any."""
    return next((b for b in bookings
                 if not slots.can_cancel(b.starts_at, now=now, policy=settings.policy)),
                None)


def close_account(db: Session, client: User, *, settings: Settings, now: datetime,
                  ip: str | None = None) -> list[Booking]:
    """Cancel the client's sessions to come and close the login; return the
    cancelled sessions.

    :raise CannotClose: not a client's open account, or a session is too near.
    """
    # First, so that a booking for them being made now is either among the
    # sessions read below or sees the account closed (intake's booking gate).
    accounts.lock_account(db, client)
    if client.role is not Role.CLIENT or not client.active:
        raise CannotClose("Only an open client account can be closed here.")
    upcoming = upcoming_bookings(db, client.id, now)
    near = too_soon(upcoming, settings, now)
    if near is not None:
        raise CannotClose(
            f"Your {near.service.name} on {format_local(near.starts_at)} is less "
            f"than {cutoff_text(settings)} away, so it cannot be cancelled online. "
            f"Please call the clinic on {settings.clinic_phone}, or close your "
            "account after that session.")
    for booking in upcoming:
        cancel_booking(db, booking, by=client, reason=CLOSED_REASON,
                       settings=settings, now=now, ip=ip)
    accounts.close_login(db, client, now)
    record(db, Actor(client, ip), "close_account", "account", client.id,
           subject_user_id=client.id, detail=_cancelled_text(len(upcoming)))
    queue_account_notice(db, settings, client, "account_closed.txt", CLOSED_SUBJECT,
                         cancelled=upcoming)
    return upcoming


def reopen_account(db: Session, client: User, *, by: User, settings: Settings,
                   ip: str | None = None) -> None:
    """An admin opens a closed client account again (the client asked, by
    phone or in person); the old password works again.

    :raise CannotClose: not a closed client account.
    """
    if client.role is not Role.CLIENT or client.active:
        raise CannotClose("Only a closed client account can be reopened.")
    accounts.set_active(client, True)
    record(db, Actor(by, ip), "reopen_account", "account", client.id,
           subject_user_id=client.id)
    queue_account_notice(
        db, settings, client, "account_reopened.txt", REOPENED_SUBJECT,
        login_url=url_for("accounts.login", _external=True),
        reset_url=url_for("accounts.forgot_password", _external=True))


def _cancelled_text(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'} cancelled"

