"""Mail about bookings, queued in the booking's own transaction.

Text comes from templates/booking/email/*.txt and renders without a request
(the reminder is queued by a CLI command). Each mail carries the session as
an .ics attachment, so the client's calendar adds, moves or removes the
event. No health data goes into mail or calendar files: the client's
screening is never mentioned, only the service, technique, time and place.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app, has_request_context, url_for
from sqlalchemy.orm import Session
from werkzeug.routing import BuildError

from clinic.accounts.models import User
from clinic.booking import ics
from clinic.booking.models import Booking
from clinic.mail.services import Attachment, queue_mail, render_mail
from clinic.settings.services import Settings, load_settings

SHORT_WHEN = "%a %d %b, %H:%M"


def queue_confirmation(
    db: Session, booking: Booking, *, settings: Settings | None = None,
    client: User | None = None,
) -> None:
    """``settings`` and ``client`` (the booking's client) save loading them
    again when the caller has them."""
    _queue(db, booking, "confirmation", "Booked: {service} on {when}",
           method="REQUEST", settings=settings, client=client)


def queue_reschedule_notice(
    db: Session, booking: Booking, old_start: datetime, *,
    settings: Settings | None = None,
) -> None:
    _queue(db, booking, "rescheduled", "Moved: your {service} is now on {when}",
           method="REQUEST", settings=settings, old_start=old_start)


def queue_cancellation_notice(
    db: Session, booking: Booking, *, settings: Settings | None = None
) -> None:
    _queue(db, booking, "cancelled", "Cancelled: your {service} on {when}",
           method="CANCEL", settings=settings,
           staff_cancelled=_staff_cancelled(booking))


def queue_reminder(
    db: Session,
    booking: Booking,
    *,
    dedupe_key: str,
    settings: Settings | None = None,
) -> int:
    """Queue the reminder before a session and return the message's id;
    ``dedupe_key`` makes it once-only."""
    settings = settings or load_settings(db, current_app.config)
    context = _context(booking, settings, booking.client)
    return queue_mail(
        db,
        to=booking.client.email,
        subject=_subject("Reminder: your {service} on {when}", booking, settings),
        body=render_mail("booking/email/reminder.txt", **context),
        dedupe_key=dedupe_key,
    )


def _queue(
    db: Session, booking: Booking, kind: str, subject: str, *, method: str,
    settings: Settings | None, client: User | None = None, **extra: Any,
) -> None:
    settings = settings or load_settings(db, current_app.config)
    client = client or booking.client
    context = {**_context(booking, settings, client), **extra}
    queue_mail(
        db,
        to=client.email,
        subject=_subject(subject, booking, settings),
        body=render_mail(f"booking/email/{kind}.txt", **context),
        attachment=calendar_attachment(booking, settings, method=method,
                                       client=client),
    )


def _staff_cancelled(booking: Booking) -> bool:
    return (booking.cancelled_by_id is not None
            and booking.cancelled_by_id != booking.client_id)


def _subject(template: str, booking: Booking, settings: Settings) -> str:
    start = booking.starts_at.astimezone(settings.zone)
    when = f"{start.strftime(SHORT_WHEN)} {start.tzname()}"
    return template.format(service=booking.service.name, when=when)


def _context(booking: Booking, settings: Settings, client: User) -> dict[str, Any]:
    minutes = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
    return {
        "booking": booking,
        "first_name": client.full_name.split()[0],
        "therapist": booking.therapist.user.full_name,
        "technique": ics.technique_label(booking.technique),
        "minutes": minutes,
        "clinic_name": settings.clinic_name,
        "clinic_phone": settings.clinic_phone,
        "cutoff_hours": settings.cancel_cutoff_hours,
        "manage_url": _manage_url(),
    }


def _manage_url() -> str | None:
    """A link to the client's bookings, when one can be built: the CLI has
    no request, and without SERVER_NAME no host to put in a link."""
    app = current_app
    if "booking.my_bookings" not in app.view_functions:
        return None
    if not has_request_context() and not app.config.get("SERVER_NAME"):
        return None
    try:
        return url_for("booking.my_bookings", _external=True)
    except (BuildError, RuntimeError):
        return None


# ---------------------------------------------------------------- calendar


def calendar_clinic(settings: Settings) -> ics.Clinic:
    config = current_app.config
    host = (config.get("SERVER_NAME") or "clinic").split(":")[0]
    return ics.Clinic(
        name=settings.clinic_name,
        host=host,
        organizer_email=ics.organizer_address(config["MAIL_SENDER"]),
    )


def calendar_attachment(
    booking: Booking, settings: Settings, *, method: str, client: User | None = None
) -> Attachment:
    text = ics.booking_ics(
        booking,
        zone=settings.zone,
        method=method,
        clinic=calendar_clinic(settings),
        client=client,
    )
    return Attachment(
        filename=f"booking-{booking.id}.ics",
        content_type=f"text/calendar; method={method}",
        text=text,
    )

