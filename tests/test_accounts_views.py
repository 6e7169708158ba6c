"""Registration, login, logout, password reset and role landing pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import LoginAttempt, PasswordResetToken, Role, User
from tests.conftest import PASSWORD

REGISTRATION = {
    "full_name": "Robin Reader",
    "email": "Robin@Example.com",
    "phone": "+44 7700 900456",
    "date_of_birth": "1990-05-17",
    "password": "a sturdy passphrase 7",
    "confirm": "a sturdy passphrase 7",
}


def test_register_creates_a_client_and_logs_in(
    client: FlaskClient, db: Session
) -> None:
    response = client.post("/register", data=REGISTRATION)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    user = db.scalar(select(User).where(User.email == "robin@example.com"))
    assert user is not None and user.role is Role.CLIENT
    assert user.password_hash.startswith("$argon2id$")
    assert client.get("/", follow_redirects=True).request.path == "/me"


def test_register_refuses_a_taken_email(client: FlaskClient, make_user) -> None:
    make_user(email="robin@example.com")
    page = client.post("/register", data=REGISTRATION).get_data(as_text=True)
    assert "An account with this email already exists" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "x" * 121, "at most 120 characters"),
        ("full_name", "Rob\x00in", "remove unusual characters"),
        ("email", "not-an-email", "valid email address"),
        ("email", "a" * 250 + "@example.com", "at most 254 characters"),
        ("phone", "call me", "digits, spaces"),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("date_of_birth", "17/05/1990", "Not a valid date value"),
        ("password", "short1", "at least 12 characters"),
        ("password", "onlyletterspassword", "Mix letters"),
        ("confirm", "something else 123", "not the same"),
    ],
)
def test_register_explains_bad_input(
    client: FlaskClient, db: Session, field: str, value: str, message: str
) -> None:
    response = client.post("/register", data={**REGISTRATION, field: value})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert db.scalar(select(func.count()).select_from(User)) == 0


def test_login_answers_the_same_for_unknown_email_and_wrong_password(
    client: FlaskClient, make_user
) -> None:
    user = make_user()
    wrong = client.post("/login", data={"email": user.email, "password": "nope-nope-1"})
    unknown = client.post(
        "/login", data={"email": "ghost@example.com", "password": "nope-nope-1"}
    )
    expected = "That email and password do not match an account."
    assert expected in wrong.get_data(as_text=True)
    assert expected in unknown.get_data(as_text=True)


def test_login_is_throttled_per_account(
    client: FlaskClient, make_user, db: Session
) -> None:
    user = make_user()
    for _ in range(5):
        client.post("/login", data={"email": user.email, "password": "wrong-pass-1"})
    page = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "Too many failed attempts" in page.get_data(as_text=True)
    assert page.status_code == 200  # not logged in
    failures = db.scalar(
        select(func.count()).select_from(LoginAttempt).where(
            LoginAttempt.succeeded.is_(False)
        )
    )
    assert failures == 5


def test_login_is_throttled_per_address(
    app: Flask, client: FlaskClient, make_user
) -> None:
    app.config["LOGIN_MAX_FAILURES_PER_ADDRESS"] = 3
    user = make_user()
    for n in range(3):
        client.post("/login", data={"email": f"x{n}@example.com", "password": "w-1"})
    page = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "Too many failed attempts" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/account/password", "/account/password"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_login_next_stays_on_site(
    client: FlaskClient, make_user, target: str, expected: str
) -> None:
    user = make_user()
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == expected


def test_logout_ends_every_session_of_the_user(
    app: Flask, make_user, login
) -> None:
    user = make_user()
    first = app.test_client()
    first.post("/login", data={"email": user.email, "password": PASSWORD})
    second = app.test_client()
    second.post("/login", data={"email": user.email, "password": PASSWORD})
    stolen_cookie = first.get_cookie("clinic_session", domain="clinic.test")
    assert stolen_cookie is not None
    first.post("/logout")
    assert second.get("/me").status_code == 302  # the other device is out too
    replay = app.test_client()
    replay.set_cookie("clinic_session", stolen_cookie.value, domain="clinic.test")
    assert replay.get("/me").status_code == 302


def _reset_link(smtp_sink, email: str) -> str:
    (message,) = smtp_sink.to(email)
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"http://clinic\.test(/password/reset/\S+)", body)
    assert match, body
    return match.group(1)


def test_password_reset_by_email_works_once(
    client: FlaskClient, make_user, smtp_sink, db: Session
) -> None:
    user = make_user()
    response = client.post("/password/forgot", data={"email": user.email.upper()})
    assert response.status_code == 302
    link = _reset_link(smtp_sink, user.email)
    new = {"password": "brand new secret 9", "confirm": "brand new secret 9"}
    assert client.post(link, data=new).status_code == 302
    again = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "invalid, has expired or has already been used" in again
    assert client.post(
        "/login", data={"email": user.email, "password": "brand new secret 9"}
    ).status_code == 302


def test_password_reset_link_expires(
    client: FlaskClient, make_user, smtp_sink, db: Session
) -> None:
    user = make_user()
    client.post("/password/forgot", data={"email": user.email})
    link = _reset_link(smtp_sink, user.email)
    token_row = db.scalar(select(PasswordResetToken))
    token_row.expires_at = token_row.created_at - timedelta(seconds=1)
    db.commit()
    page = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "has expired" in page


def test_password_reset_for_unknown_email_sends_nothing_and_says_the_same(
    client: FlaskClient, smtp_sink
) -> None:
    page = client.post(
        "/password/forgot", data={"email": "ghost@example.com"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "If that address has an account" in page
    assert smtp_sink.messages == []


def test_change_password_logs_out_other_devices(app: Flask, make_user) -> None:
    user = make_user()
    here, elsewhere = app.test_client(), app.test_client()
    for c in (here, elsewhere):
        c.post("/login", data={"email": user.email, "password": PASSWORD})
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "password": "another good one 5",
            "confirm": "another good one 5",
        },
    )
    assert response.status_code == 302
    assert here.get("/me").status_code == 200
    assert elsewhere.get("/me").status_code == 302


def test_change_password_needs_the_current_one(client: FlaskClient, make_user, login):
    login(make_user())
    page = client.post(
        "/account/password",
        data={"current_password": "wrong-one-1", "password": "another good one 5",
              "confirm": "another good one 5"},
    ).get_data(as_text=True)
    assert "That is not your current password." in page


@pytest.mark.parametrize(
    ("role", "home"),
    [(Role.CLIENT, "/me"), (Role.THERAPIST, "/therapist"), (Role.ADMIN, "/admin/")],
)
def test_each_role_lands_on_its_home(
    client: FlaskClient, make_user, login, role: Role, home: str
) -> None:
    login(make_user(role))
    assert client.get("/").headers["Location"] == home
    assert client.get(home).status_code == 200


@pytest.mark.parametrize(
    ("role", "forbidden"),
    [
        (Role.CLIENT, "/admin/"),
        (Role.CLIENT, "/therapist"),
        (Role.THERAPIST, "/admin/"),
        (Role.THERAPIST, "/me"),
        (Role.ADMIN, "/me"),
    ],
)
def test_a_role_gets_403_on_pages_of_another(
    client: FlaskClient, make_user, login, role: Role, forbidden: str
) -> None:
    login(make_user(role))
    response = client.get(forbidden)
    assert response.status_code == 403
    assert "You can&#39;t use this page" in response.get_data(as_text=True)


@pytest.mark.parametrize("page", ["/me", "/therapist", "/admin/"])
def test_anonymous_visitors_are_sent_to_login(client: FlaskClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_deactivated_user_is_logged_out(
    client: FlaskClient, make_user, login, db: Session
) -> None:
    from clinic.accounts.services import set_active

    user = make_user()
    login(user)
    set_active(db.get(User, user.id), False)
    db.commit()
    assert client.get("/me").status_code == 302
    page = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert page.status_code == 200  # not logged in
    assert ("Your account is closed. To open it again, please call the clinic on "
            "020 7946 0000.") in page.get_data(as_text=True)
    assert client.get("/me").status_code == 302
    wrong = client.post("/login", data={"email": user.email, "password": "nope-nope-1"})
    assert "do not match an account" in wrong.get_data(as_text=True)


def test_a_switched_off_therapist_is_told_to_ask_the_admin(
    client: FlaskClient, make_user, db: Session, smtp_sink
) -> None:
    from clinic.accounts.services import set_active

    therapist = make_user(Role.THERAPIST)
    set_active(db.get(User, therapist.id), False)
    db.commit()
    page = client.post("/login", data={"email": therapist.email, "password": PASSWORD})
    assert "Your account is switched off. Please ask the clinic&#39;s admin" in (
        page.get_data(as_text=True))
    attempt = db.scalar(
        select(LoginAttempt).where(LoginAttempt.email == therapist.email))
    assert attempt is not None and not attempt.succeeded

    client.post("/password/forgot", data={"email": therapist.email})
    (mail,) = smtp_sink.to(therapist.email)
    assert mail["Subject"] == "About resetting your clinic password"
    assert "Your account is switched off, so it has no password to reset" in (
        mail.get_content())
    assert db.scalar(select(func.count()).select_from(PasswordResetToken)) == 0
