"""A client closes their own account; an admin opens it again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import clock
from clinic.accounts import services as accounts
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.booking.closing import CLOSED_REASON
from clinic.booking.models import Booking, BookingStatus
from clinic.db import new_session
from tests import factories
from tests.conftest import PASSWORD
from tests.factories import NOW, WED_10, World, make_booking
from tests.smtp import SmtpSink
from tests.test_accounts_details import fresh
from tests.test_accounts_email import text

world = factories.world

Login = Callable[[User], None]
LATER = WED_10 + timedelta(days=7)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def booked(db: Session, world: World, start: object, **kw: object) -> Booking:
    return make_booking(db, client=world.client, therapist=world.therapist,
                        service=world.service, start=start, **kw)  # type: ignore[arg-type]


def status(db: Session, booking: Booking) -> BookingStatus:
    db.expire_all()
    stored = db.get(Booking, booking.id)
    assert stored is not None
    return stored.status


def actions(db: Session, subject: User) -> list[str]:
    return list(db.scalars(select(AuditEvent.action).where(
        AuditEvent.subject_user_id == subject.id).order_by(AuditEvent.id)))


def subjects(smtp_sink: SmtpSink, address: str) -> list[str]:
    return [m["Subject"].split(":")[0] for m in smtp_sink.to(address)]


def test_closing_cancels_the_sessions_to_come_and_ends_the_login(
    client: FlaskClient, db: Session, world: World, login: Login,
    smtp_sink: SmtpSink,
) -> None:
    soon, later = booked(db, world, WED_10), booked(db, world, LATER)
    past = booked(db, world, NOW - timedelta(days=7))
    login(world.client)
    page = text(client.get("/account/close"))
    assert "Back massage on Wed 24 Mar 2027, 10:00 GMT" in page
    assert "Close my account and cancel these sessions" in page

    response = client.post("/account/close", data={"current_password": PASSWORD})

    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not fresh(db, world.client).active
    assert [status(db, b) for b in (soon, later, past)] == [
        BookingStatus.CANCELLED, BookingStatus.CANCELLED, BookingStatus.CONFIRMED]
    assert db.get(Booking, soon.id).cancel_reason == CLOSED_REASON  # type: ignore[union-attr]
    assert actions(db, world.client)[-3:] == ["cancel", "cancel", "close_account"]
    closed = db.scalar(select(AuditEvent).where(AuditEvent.action == "close_account"))
    assert closed is not None and closed.detail == "2 sessions cancelled"
    assert subjects(smtp_sink, world.client.email) == [
        "Cancelled", "Cancelled", "Your account is closed"]
    closed_mail = smtp_sink.to(world.client.email)[-1].get_content().replace(
        "\r\n", "\n")
    assert "We keep your health record" in closed_mail
    assert ("sessions to come (each has its own email, so your calendar\ncan remove "
            "it):\n- Back massage on Wed 24 Mar 2027, 10:00 GMT\n- Back massage on "
            "Wed 31 Mar 2027, 11:00 BST\n\nWe keep") in closed_mail
    # The cookie no longer works, and neither does the password.
    assert client.get("/account").status_code == 302
    refused = client.post("/login", data={"email": world.client.email,
                                          "password": PASSWORD})
    assert refused.status_code == 200
    assert ("Your account is closed. To open it again, please call the clinic on "
            "020 7946 0000.") in text(refused)
    # A reset asked for now explains by email instead of sending a link.
    client.post("/password/forgot", data={"email": world.client.email})
    reset_mail = smtp_sink.to(world.client.email)[-1]
    assert reset_mail["Subject"] == "About resetting your clinic password"
    assert "/password/reset/" not in reset_mail.get_content()
    assert "Your account is closed, so it has no password to reset" in (
        reset_mail.get_content())


def test_a_wrong_password_closes_nothing(
    client: FlaskClient, db: Session, world: World, login: Login
) -> None:
    session = booked(db, world, WED_10)
    login(world.client)
    response = client.post("/account/close", data={"current_password": "not-it"})
    assert response.status_code == 200
    assert "That is not your current password." in text(response)
    assert fresh(db, world.client).active
    assert status(db, session) is BookingStatus.CONFIRMED
    assert "close_account" not in actions(db, world.client)


def test_a_session_inside_the_cutoff_keeps_the_account_open(
    client: FlaskClient, db: Session, world: World, login: Login
) -> None:
    tomorrow = booked(db, world, NOW + timedelta(hours=20))
    login(world.client)
    page = text(client.get("/account/close"))
    assert "is too near to cancel online" in page
    assert "Current password" not in page

    response = client.post("/account/close", data={"current_password": PASSWORD},
                           follow_redirects=True)

    assert ("is less than 24 hours away, so it cannot be cancelled online. Please "
            "call the clinic on 020 7946 0000") in text(response)
    assert fresh(db, world.client).active
    assert status(db, tomorrow) is BookingStatus.CONFIRMED


def test_only_clients_close_their_account_here(
    client: FlaskClient, make_user: Callable[..., User], login: Login, db: Session
) -> None:
    therapist = make_user(Role.THERAPIST)
    login(therapist)
    assert client.get("/account/close").status_code == 403
    assert client.post("/account/close",
                       data={"current_password": PASSWORD}).status_code == 403
    assert fresh(db, therapist).active


def test_an_admin_opens_a_closed_account_again(
    app: Flask, client: FlaskClient, db: Session, world: World, login: Login,
    make_user: Callable[..., User], smtp_sink: SmtpSink,
) -> None:
    with app.app_context():
        writer = new_session(app)
        me = writer.get(User, world.client.id)
        assert me is not None
        link = accounts.issue_reset_token(writer, me, timedelta(hours=1))
        writer.commit()
        writer.close()
    login(world.client)
    client.post("/account/close", data={"current_password": PASSWORD})
    admin = make_user(Role.ADMIN)
    login(admin)
    record = text(client.get(f"/intake/clients/{world.client.id}"))
    assert "This account is closed" in record

    response = client.post(f"/clients/{world.client.id}/reopen")

    assert response.headers["Location"] == f"/intake/clients/{world.client.id}"
    assert fresh(db, world.client).active
    assert actions(db, world.client)[-1] == "reopen_account"
    assert subjects(smtp_sink, world.client.email)[-1] == "Your account is open again"
    # The password works again; the link mailed before closing does not.
    client.post("/logout")
    spent = client.get(f"/password/reset/{link}", follow_redirects=True)
    assert "has already been used" in text(spent)
    login(world.client)


def test_reopening_is_for_admins_and_closed_client_accounts(
    client: FlaskClient, db: Session, world: World, login: Login,
    make_user: Callable[..., User],
) -> None:
    login(make_user(Role.THERAPIST))
    assert client.post(f"/clients/{world.client.id}/reopen").status_code == 403
    client.post("/logout")
    admin = make_user(Role.ADMIN)
    login(admin)
    open_already = client.post(f"/clients/{world.client.id}/reopen",
                               follow_redirects=True)
    assert "Only a closed client account can be reopened." in text(open_already)
    assert client.post(f"/clients/{admin.id}/reopen").status_code == 404
    assert client.post("/clients/999999/reopen").status_code == 404
