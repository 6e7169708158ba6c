"""Clients confirm their email address (the link mailed at registration)
before booking online; the link opens a page with a button, works for three
days, and a new one can be asked for a few times an hour."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import clock
from clinic.accounts import services
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.booking.errors import BookingPolicyError
from tests import factories
from tests.smtp import SmtpSink
from tests.test_accounts_views import REGISTRATION

NOW = datetime(2027, 3, 24, 10, tzinfo=UTC)
world, session, book = factories.world, factories.session, factories.book


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    def move(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    move(NOW)
    return move


def confirm_path(smtp_sink: SmtpSink, email: str) -> str:
    return mailed_path(smtp_sink, email, "Please confirm your email address",
                       "/email/confirm/")


def mailed_path(smtp_sink: SmtpSink, email: str, subject: str, route: str) -> str:
    """The path of the link under ``route`` in the last mail to ``email``."""
    *_, message = smtp_sink.to(email)
    assert message["Subject"] == subject
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(rf"http://clinic\.test({route}\S+)", body)
    assert match, body
    return match.group(1)


def registered(client: FlaskClient, db: Session) -> User:
    assert client.post("/register", data=REGISTRATION).status_code == 302
    user = db.scalar(select(User).where(User.email == "robin@example.com"))
    assert user is not None
    return user


def text(response: object) -> str:
    """The page's words as a reader sees them: no tags, entities decoded."""
    page = response.get_data(as_text=True)  # type: ignore[attr-defined]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_registering_mails_a_link_that_confirms_the_address(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    user = registered(client, db)
    assert user.email_verified_at is None
    home = text(client.get("/me"))
    assert "link: please confirm your address before you book" in home
    assert "Please confirm your email address" in home
    path = confirm_path(smtp_sink, user.email)

    page = client.get(path)  # a mail scanner's visit changes nothing
    assert "Confirm my email address" in text(page)
    db.expire_all()
    assert db.get(User, user.id).email_verified_at is None

    response = client.post(path)
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    db.expire_all()
    assert db.get(User, user.id).email_verified_at == NOW
    [event] = db.scalars(select(AuditEvent).where(AuditEvent.action == "confirm_email"))
    assert (event.record_id, event.subject_user_id) == (user.id, user.id)
    home = text(client.get("/me"))
    assert "Thank you: your email address is confirmed." in home
    assert "Please confirm your email address" not in home
    assert client.post(path).status_code == 302  # twice changes nothing
    db.expire_all()
    assert db.get(User, user.id).email_verified_at == NOW


def test_the_link_works_without_logging_in(
    app: Flask, client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    user = registered(client, db)
    stranger = app.test_client()
    assert stranger.post(confirm_path(smtp_sink, user.email)).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).email_verified_at is not None


@pytest.mark.parametrize("spoil", ["tampered", "expired", "address changed",
                                   "deactivated", "nonsense"])
def test_a_bad_link_explains_and_changes_nothing(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink,
    fixed_clock: Callable[[datetime], None], spoil: str,
) -> None:
    user = registered(client, db)
    path = confirm_path(smtp_sink, user.email)
    if spoil == "tampered":
        path = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    elif spoil == "expired":
        fixed_clock(NOW + services.EMAIL_LINK_MAX_AGE + timedelta(seconds=1))
    elif spoil == "address changed":
        user.email = "someone.else@example.com"
        db.commit()
    elif spoil == "deactivated":
        user.active = False
        db.commit()
    else:
        path = "/email/confirm/" + "x" * 300
    response = client.post(path)
    assert response.status_code == 200
    assert "This confirmation link is invalid or has expired." in text(response)
    db.expire_all()
    assert db.get(User, user.id).email_verified_at is None


def test_booking_waits_for_the_address(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    user = registered(client, db)
    for response in (client.get("/booking/"), client.get("/booking/times"),
                     client.post("/booking/confirm", data={})):
        assert response.status_code == 200
        page = text(response)
        assert "Confirm your email address first" in page
        assert "Email me a new link" in page
    client.post(confirm_path(smtp_sink, user.email))
    assert "Confirm your email address first" not in text(client.get("/booking/"))


def test_the_service_refuses_an_unconfirmed_client_but_not_staff_for_them(
    book: factories.Book, session: Session, db: Session, world: factories.World,
) -> None:
    world.client.email_verified_at = None
    db.commit()
    with pytest.raises(BookingPolicyError, match="confirm your email address"):
        book()
    session.rollback()
    admin = factories.make_person(db, Role.ADMIN)
    made = book(booked_by=session.get(User, admin.id))
    assert made.created_by_id == admin.id


def test_asking_for_a_new_link_is_limited(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    user = registered(client, db)  # one link sent
    for _ in range(2):
        page = text(client.post("/email/confirm/new-link", follow_redirects=True))
        assert f"We have emailed a new link to {user.email}." in page
    page = text(client.post("/email/confirm/new-link", follow_redirects=True))
    assert "We have sent you several links in the last hour." in page
    assert len(smtp_sink.to(user.email)) == 3
    client.post(confirm_path(smtp_sink, user.email))  # the newest link works
    page = text(client.post("/email/confirm/new-link", follow_redirects=True))
    assert "Your email address is already confirmed." in page
    assert client.post("/logout").status_code == 302
    assert client.post("/email/confirm/new-link").status_code == 302  # to login
    assert len(smtp_sink.to(user.email)) == 3


def test_a_password_reset_link_confirms_the_address_too(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    smtp_sink: SmtpSink,
) -> None:
    user = make_user(email_verified_at=None)
    client.post("/password/forgot", data={"email": user.email})
    *_, message = smtp_sink.to(user.email)
    body = message.get_body(preferencelist=("plain",)).get_content()
    path = re.search(r"http://clinic\.test(/password/reset/\S+)", body).group(1)
    new = {"password": "brand new secret 9", "confirm": "brand new secret 9"}
    assert client.post(path, data=new).status_code == 302
    db.expire_all()
    assert db.get(User, user.id).email_verified_at is not None


def test_staff_see_whether_a_client_confirmed_their_address(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    unconfirmed = make_user(email_verified_at=None)
    confirmed = make_user()
    login(make_user(Role.THERAPIST))
    def page(user: User) -> str:
        return text(client.get(f"/intake/clients/{user.id}"))

    assert "(not confirmed yet)" in page(unconfirmed)
    assert "(not confirmed yet)" not in page(confirmed)
