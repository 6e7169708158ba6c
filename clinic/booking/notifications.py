"""Mail about bookings, queued in the booking's own transaction.

Text comes from templates/booking/email/*.txt; the confirmation carries the
session as an .ics attachment.
"""

from __future__ import annotations

from datetime import datetime

from flask import render_template
from sqlalchemy.orm import Session

from clinic.booking.models import Booking
from clinic.mail.services import queue_mail


def queue_confirmation(db: Session, booking: Booking) -> None:
    _queue(db, booking, "confirmation", "Your massage is booked")


def queue_reschedule_notice(db: Session, booking: Booking, old_start: datetime) -> None:
    _queue(db, booking, "rescheduled", "Your massage has moved", old_start=old_start)


def queue_cancellation_notice(db: Session, booking: Booking) -> None:
    _queue(db, booking, "cancelled", "Your massage is cancelled")


def _queue(db: Session, booking: Booking, kind: str, subject: str, **extra: object) -> None:
    body = render_template(f"booking/email/{kind}.txt", booking=booking, **extra)
    queue_mail(db, to=booking.client.email, subject=subject, body=body)
