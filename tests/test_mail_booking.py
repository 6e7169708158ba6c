"""Booking mail through the outbox and a real SMTP server: confirmation,
reschedule and cancellation notices with their calendar files, and what
happens when the SMTP server is down."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.booking import notifications
from clinic.booking.models import Booking, BookingStatus
from clinic.db import new_session, utcnow
from clinic.mail.models import MailStatus, OutboxMessage
from clinic.mail.sender import backend_for, deliver_due
from clinic.web import commit
from tests.factories import make_booking, make_room, make_service, make_therapist
from tests.smtp import SmtpSink, _free_port
from tests.test_ics import parse_ics, utc

_names = itertools.count(1)


# ---------------------------------------------------------------- arranging


def arrange_booking(
    db: Session,
    make_user: Callable[..., User],
    *,
    starts_at: datetime,
    status: BookingStatus = BookingStatus.CONFIRMED,
    room: str | None = None,
) -> Booking:
    """A 60-minute booking written straight to the database (no rules) for a
    new client ("Chris Client...") with a new therapist."""
    client = make_user(Role.CLIENT, full_name=f"Chris Client{next(_names)}")
    service = make_service(db, name=f"Sciatica relief {next(_names)}", duration=60,
                           buffer=15)
    therapist = make_therapist(db, name="Tara Jones", services=[service])
    place = make_room(db, name=f"{room} {next(_names)}") if room else None
    return make_booking(db, client=client, therapist=therapist, service=service,
                        start=starts_at, status=status, room=place)


def ics_attachment(message: EmailMessage) -> tuple[EmailMessage, bytes]:
    [attachment] = list(message.iter_attachments())
    payload = attachment.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return attachment, payload  # type: ignore[return-value]


def queue_and_commit(app: Flask, booking_id: int, queue: Callable[..., None],
                     *args: Any) -> None:
    """Queue one booking mail the way a view does: then commit and send."""
    with app.test_request_context():
        db = new_session(app)
        booking = db.get(Booking, booking_id)
        queue(db, booking, *args)
        commit(db)
        db.close()


SPRING = datetime(2027, 3, 28, 9, 0, tzinfo=UTC)  # 10:00 BST, the DST day


# ---------------------------------------------------------------- mail


def test_confirmation_carries_a_valid_calendar_request(
    app: Flask, db: Session, make_user: Callable[..., User], smtp_sink: SmtpSink
) -> None:
    booking = arrange_booking(db, make_user, starts_at=SPRING, room="Room")
    queue_and_commit(app, booking.id, notifications.queue_confirmation)

    client = db.get(User, booking.client_id)
    [message] = smtp_sink.to(client.email)
    assert message["Subject"] == (
        f"Booked: {booking.service.name} on Sun 28 Mar, 10:00 BST")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Hello Chris," in body
    assert "When:      Sun 28 Mar 2027, 10:00 BST (60 minutes)" in body
    assert "Swedish massage" in body
    assert "call us on 020 7946 0000" in body
    assert "up to 24 hours" in body
    for clinical in ("screening", "caution", "red flag", "intake"):
        assert clinical not in body.lower()

    attachment, payload = ics_attachment(message)
    assert attachment.get_filename() == f"booking-{booking.id}.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    calendar = parse_ics(payload)
    assert calendar.get("METHOD") == "REQUEST"
    [event] = calendar.children
    assert utc(event.get("DTSTART")) == SPRING
    assert utc(event.get("DTEND")) == SPRING + timedelta(hours=1)
    assert event.get("UID") == f"booking-{booking.id}@clinic.test"
    assert event.get("STATUS") == "CONFIRMED"
    assert event.get("ATTENDEE") == f"mailto:{client.email}"
    row = db.scalar(select(OutboxMessage))
    assert row.status is MailStatus.SENT and row.attempts == 1


def test_reschedule_notice_names_both_times_and_moves_the_event(
    app: Flask, db: Session, make_user: Callable[..., User], smtp_sink: SmtpSink
) -> None:
    booking = arrange_booking(db, make_user, starts_at=SPRING + timedelta(days=2))
    queue_and_commit(app, booking.id, notifications.queue_reschedule_notice, SPRING)

    [message] = smtp_sink.to(db.get(User, booking.client_id).email)
    assert message["Subject"] == (
        f"Moved: your {booking.service.name} is now on Tue 30 Mar, 10:00 BST")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Was:       Sun 28 Mar 2027, 10:00 BST" in body
    assert "When:      Tue 30 Mar 2027, 10:00 BST (60 minutes)" in body
    attachment, payload = ics_attachment(message)
    assert attachment.get_param("method") == "REQUEST"
    event = parse_ics(payload).children[0]
    assert utc(event.get("DTSTART")) == SPRING + timedelta(days=2)


def _cancel(db: Session, booking: Booking, by: User, reason: str | None) -> None:
    db.execute(update(Booking).where(Booking.id == booking.id).values(
        status=BookingStatus.CANCELLED, cancelled_at=utcnow(),
        cancelled_by_id=by.id, cancel_reason=reason))


def test_staff_cancellation_gives_the_reason_and_a_cancel_calendar(
    app: Flask, db: Session, make_user: Callable[..., User], smtp_sink: SmtpSink
) -> None:
    booking = arrange_booking(db, make_user, starts_at=SPRING)
    _cancel(db, booking, make_user(Role.ADMIN), "Your therapist is unwell, sorry")
    queue_and_commit(app, booking.id, notifications.queue_cancellation_notice)

    [message] = smtp_sink.to(db.get(User, booking.client_id).email)
    assert message["Subject"] == (
        f"Cancelled: your {booking.service.name} on Sun 28 Mar, 10:00 BST")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "we have had to cancel your massage" in body
    assert "Reason:    Your therapist is unwell, sorry" in body
    attachment, payload = ics_attachment(message)
    assert attachment.get_param("method") == "CANCEL"
    calendar = parse_ics(payload)
    assert calendar.get("METHOD") == "CANCEL"
    assert calendar.children[0].get("STATUS") == "CANCELLED"
    assert calendar.children[0].get("UID") == f"booking-{booking.id}@clinic.test"


def test_a_client_cancelling_is_not_given_a_reason(
    app: Flask, db: Session, make_user: Callable[..., User], smtp_sink: SmtpSink
) -> None:
    booking = arrange_booking(db, make_user, starts_at=SPRING)
    client = db.get(User, booking.client_id)
    _cancel(db, booking, client, "changed my mind")
    queue_and_commit(app, booking.id, notifications.queue_cancellation_notice)

    body = smtp_sink.to(client.email)[0].get_body(
        preferencelist=("plain",)).get_content()
    assert "As you asked, your massage is cancelled." in body
    assert "Reason" not in body


def test_mail_is_not_sent_when_the_change_is_rolled_back(
    app: Flask, db: Session, make_user: Callable[..., User], smtp_sink: SmtpSink
) -> None:
    booking = arrange_booking(db, make_user, starts_at=SPRING)
    with app.test_request_context():
        session = new_session(app)
        notifications.queue_confirmation(session, session.get(Booking, booking.id))
        session.rollback()
        session.close()
    assert smtp_sink.messages == []
    assert db.scalar(select(OutboxMessage)) is None


# ---------------------------------------------------------------- failures


def _deliver(app: Flask) -> tuple[int, int]:
    return deliver_due(app.extensions["clinic.sessionmaker"],
                       backend_for(app.config), app.config)


def _make_due(db: Session) -> None:
    """Let the back-off pass: the retry is due now."""
    db.execute(update(OutboxMessage).values(
        next_attempt_at=utcnow() - timedelta(seconds=1)))


def test_a_failed_delivery_stays_pending_and_a_later_run_sends_it(
    app: Flask, db: Session, make_user: Callable[..., User], smtp_sink: SmtpSink
) -> None:
    booking = arrange_booking(db, make_user, starts_at=SPRING)
    app.config["MAIL_PORT"] = _free_port()  # nothing listens there
    queue_and_commit(app, booking.id, notifications.queue_confirmation)

    row = db.scalar(select(OutboxMessage))
    assert row.status is MailStatus.PENDING
    assert row.attempts == 1
    assert row.last_error.startswith("ConnectionRefusedError")
    assert row.next_attempt_at > utcnow()
    assert _deliver(app) == (0, 0)  # not due yet: back-off

    app.config["MAIL_PORT"] = smtp_sink.port
    _make_due(db)
    assert _deliver(app) == (1, 0)
    db.expire_all()
    row = db.scalar(select(OutboxMessage))
    assert (row.status, row.attempts, row.last_error) == (MailStatus.SENT, 2, None)
    assert len(smtp_sink.to(db.get(User, booking.client_id).email)) == 1


def test_delivery_gives_up_after_the_maximum_attempts(
    app: Flask, db: Session, make_user: Callable[..., User], smtp_sink: SmtpSink
) -> None:
    booking = arrange_booking(db, make_user, starts_at=SPRING)
    app.config.update(MAIL_PORT=_free_port(), MAIL_MAX_ATTEMPTS=3)
    queue_and_commit(app, booking.id, notifications.queue_confirmation)
    for _ in range(2):
        _make_due(db)
        assert _deliver(app) == (0, 1)

    db.expire_all()
    row = db.scalar(select(OutboxMessage))
    assert (row.status, row.attempts) == (MailStatus.FAILED, 3)
    assert row.last_error.startswith("ConnectionRefusedError")
    app.config["MAIL_PORT"] = smtp_sink.port
    _make_due(db)
    assert _deliver(app) == (0, 0)  # failed for good: never retried
    assert smtp_sink.messages == []
