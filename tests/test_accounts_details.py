"""People keep their own details up to date, move their account to a new
email address (confirmed from the new inbox), and admins confirm a client's
address by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import clock
from clinic.accounts import services
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from tests.conftest import PASSWORD
from tests.smtp import SmtpSink
from tests.test_accounts_email import mailed_path, text

NOW = datetime(2027, 3, 24, 10, tzinfo=UTC)
NEW = "robin.new@example.com"
DETAILS = {"full_name": "Robin Q. Reader", "phone": "+44 7700 900999",
           "date_of_birth": "1990-05-17"}


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    def move(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    move(NOW)
    return move


@pytest.fixture
def me(make_user: Callable[..., User], login: Callable[[User], None]) -> User:
    user = make_user(email="robin@example.com", full_name="Robin Reader")
    login(user)
    return user


def events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def fresh(db: Session, user: User) -> User:
    db.expire_all()
    found = db.get(User, user.id)
    assert found is not None
    return found


def link_path(smtp_sink: SmtpSink, address: str) -> str:
    return mailed_path(smtp_sink, address, "Please confirm your new email address",
                       "/email/change/")


def ask_change(client: FlaskClient, email: str = NEW, password: str = PASSWORD) -> str:
    return text(client.post("/account/email", data={
        "email": email, "current_password": password}, follow_redirects=True))


# ---------------------------------------------------------------- details


def test_the_account_page_shows_the_details_and_is_in_the_menu(
    client: FlaskClient, me: User
) -> None:
    page = client.get("/account").get_data(as_text=True)
    assert 'value="Robin Reader"' in page and 'value="07700 900123"' in page
    assert 'value="1985-01-01"' in page
    assert "You log in with" in text(client.get("/account"))
    assert 'href="/account">Account</a>' in client.get("/me").get_data(as_text=True)


def test_a_client_saves_new_details_and_the_change_is_audited(
    client: FlaskClient, db: Session, me: User
) -> None:
    page = text(client.post("/account", data=DETAILS, follow_redirects=True))
    assert "Your details are saved." in page
    user = fresh(db, me)
    assert (user.full_name, user.phone, user.date_of_birth) == (
        "Robin Q. Reader", "+44 7700 900999", date(1990, 5, 17))
    [event] = events(db, "update_details")
    assert (event.record_id, event.subject_user_id, event.detail) == (
        me.id, me.id, "full_name, phone, date_of_birth")
    page = text(client.post("/account", data=DETAILS, follow_redirects=True))
    assert "Nothing was changed." in page
    assert len(events(db, "update_details")) == 1


def test_staff_have_no_date_of_birth_and_may_leave_the_phone_empty(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    therapist = make_user(Role.THERAPIST)
    login(therapist)
    assert "date_of_birth" not in client.get("/account").get_data(as_text=True)
    client.post("/account", data={"full_name": "Sam Stone", "phone": "",
                                  "date_of_birth": "2001-01-01"})
    user = fresh(db, therapist)
    assert (user.full_name, user.phone, user.date_of_birth) == ("Sam Stone", None, None)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("full_name", "", "Please enter your name."),
        ("full_name", "x" * 121, "at most 120 characters"),
        ("full_name", "Rob\x00in", "remove unusual characters"),
        ("phone", "", "Please enter a phone number"),
        ("phone", "call me", "digits, spaces"),
        ("phone", "1" * 41, "at most 40 characters"),
        ("date_of_birth", "2999-01-01", "cannot be in the future"),
        ("date_of_birth", "1800-01-01", "check the year of birth"),
        ("date_of_birth", "17/05/1990", "Not a valid date value"),
    ],
)
def test_bad_details_are_explained_and_nothing_is_saved(
    client: FlaskClient, db: Session, me: User, field: str, value: str, message: str
) -> None:
    response = client.post("/account", data={**DETAILS, field: value})
    assert response.status_code == 200
    assert message in text(response)
    assert fresh(db, me).full_name == "Robin Reader"
    assert events(db, "update_details") == []


def test_the_account_pages_need_a_login(client: FlaskClient) -> None:
    for response in (client.get("/account"), client.post("/account", data=DETAILS),
                     client.post("/account/email", data={"email": NEW})):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


# ---------------------------------------------------------------- a new address


def test_a_new_address_is_used_once_its_link_is_opened(
    client: FlaskClient, db: Session, me: User, smtp_sink: SmtpSink
) -> None:
    page = ask_change(client)
    assert f"We have emailed a link to {NEW}." in page
    assert "until then we keep writing to robin@example.com" in page
    [notice] = smtp_sink.to("robin@example.com")
    assert notice["Subject"] == "A change of your email address was asked for"
    assert "change your password now" in notice.get_body().get_content()
    assert fresh(db, me).email == "robin@example.com"
    path = link_path(smtp_sink, NEW)

    assert "Use my new email address" in text(client.get(path))  # GET: no change
    assert fresh(db, me).email == "robin@example.com"
    page = text(client.post(path, follow_redirects=True))
    assert f"Your email address is now {NEW}." in page
    user = fresh(db, me)
    assert (user.email, user.email_verified_at) == (NEW, NOW)
    [event] = events(db, "change_email")
    assert event.detail == "from robin@example.com"
    assert len(events(db, "ask_email_change")) == 1

    assert client.post("/logout").status_code == 302
    assert client.post("/login", data={"email": NEW, "password": PASSWORD}
                       ).status_code == 302
    again = client.post(path)  # a used link explains itself
    assert "invalid, has expired or was already used" in text(again)


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        (NEW, "not my password 1", "That is not your current password."),
        ("robin@example.com", PASSWORD, "That is already your email address."),
        ("ROBIN@example.com ", PASSWORD, "That is already your email address."),
        ("taken@example.com", PASSWORD, "Another account uses that email address."),
        ("not-an-email", PASSWORD, "valid email address"),
        ("a" * 250 + "@example.com", PASSWORD, "at most 254 characters"),
        (NEW, "", "Please enter your current password."),
    ],
)
def test_a_refused_change_is_explained_and_mails_nobody(
    client: FlaskClient, db: Session, me: User, make_user: Callable[..., User],
    smtp_sink: SmtpSink, email: str, password: str, message: str,
) -> None:
    make_user(email="taken@example.com")
    smtp_sink.clear()
    assert message in ask_change(client, email, password)
    assert smtp_sink.messages == []
    assert events(db, "ask_email_change") == []


@pytest.mark.parametrize("spoil", ["tampered", "expired", "password changed",
                                   "taken meanwhile", "deactivated"])
def test_a_spoilt_link_explains_and_changes_nothing(
    client: FlaskClient, db: Session, me: User, make_user: Callable[..., User],
    smtp_sink: SmtpSink, fixed_clock: Callable[[datetime], None], spoil: str,
) -> None:
    ask_change(client)
    path = link_path(smtp_sink, NEW)
    expected = "invalid, has expired or was already used"
    if spoil == "tampered":
        path = path[:-3] + ("abc" if not path.endswith("abc") else "xyz")
    elif spoil == "expired":
        fixed_clock(NOW + services.EMAIL_LINK_MAX_AGE + timedelta(seconds=1))
    elif spoil == "password changed":
        client.post("/account/password", data={
            "current_password": PASSWORD, "password": "another secret 42",
            "confirm": "another secret 42"})
    elif spoil == "taken meanwhile":
        make_user(email=NEW)
        expected = "Another account uses that email address."
    else:
        fresh(db, me).active = False
        db.commit()
    response = client.post(path)
    assert response.status_code == 200
    assert expected in text(response)
    assert fresh(db, me).email == "robin@example.com"
    assert events(db, "change_email") == []


def test_links_to_one_address_are_limited(
    client: FlaskClient, me: User, smtp_sink: SmtpSink
) -> None:
    for _ in range(3):
        assert f"We have emailed a link to {NEW}." in ask_change(client)
    assert "several links to that address in the last hour" in ask_change(client)
    assert len(smtp_sink.to(NEW)) == 3


def test_changing_the_address_ends_the_old_addresss_confirmation_link(
    app: Flask, client: FlaskClient, db: Session, me: User, smtp_sink: SmtpSink
) -> None:
    old_link = services.email_link_token(me, app.secret_key, NOW)
    ask_change(client)
    client.post(link_path(smtp_sink, NEW))
    assert "invalid or has expired" in text(client.post(f"/email/confirm/{old_link}"))


def test_moving_the_address_ends_password_links_sent_to_the_old_one(
    app: Flask, client: FlaskClient, db: Session, me: User, smtp_sink: SmtpSink
) -> None:
    waiting = services.issue_reset_token(db, me, timedelta(hours=1))
    db.commit()
    assert client.get(f"/password/reset/{waiting}").status_code == 200
    ask_change(client)
    client.post(link_path(smtp_sink, NEW))
    assert "invalid, has expired or has already been used" in text(
        client.get(f"/password/reset/{waiting}", follow_redirects=True))


# ---------------------------------------------------------------- staff confirm


def test_an_admin_marks_a_clients_address_confirmed(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    unconfirmed = make_user(email_verified_at=None)
    login(make_user(Role.ADMIN))
    assert "Mark as confirmed" in text(client.get(f"/intake/clients/{unconfirmed.id}"))
    page = text(client.post(f"/clients/{unconfirmed.id}/email/confirmed",
                            follow_redirects=True))
    assert f"{unconfirmed.email} is marked as confirmed." in page
    assert "(not confirmed yet)" not in page
    assert fresh(db, unconfirmed).email_verified_at == NOW
    [event] = events(db, "confirm_email")
    assert (event.subject_user_id, event.detail) == (unconfirmed.id, "by staff")


def test_only_admins_confirm_and_only_clients_addresses(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    unconfirmed = make_user(email_verified_at=None)
    therapist = make_user(Role.THERAPIST)
    login(therapist)
    assert "Mark as confirmed" not in text(
        client.get(f"/intake/clients/{unconfirmed.id}"))
    assert client.post(f"/clients/{unconfirmed.id}/email/confirmed").status_code == 403
    client.post("/logout")
    login(make_user(Role.ADMIN))
    assert client.post(f"/clients/{therapist.id}/email/confirmed").status_code == 404
    assert client.post("/clients/99999/email/confirmed").status_code == 404
    assert fresh(db, unconfirmed).email_verified_at is None


# ---------------------------------------------------------------- staff correct


CONTACT = {"full_name": "Robin Reader", "email": "robin@example.com",
           "phone": "07700 900123", "date_of_birth": "1985-01-01"}


@pytest.fixture
def admin_and_client(
    make_user: Callable[..., User], login: Callable[[User], None]
) -> User:
    client_user = make_user(email="robin@example.com", full_name="Robin Reader")
    login(make_user(Role.ADMIN))
    return client_user


def test_an_admin_corrects_a_clients_phone(
    client: FlaskClient, db: Session, admin_and_client: User
) -> None:
    record_page = f"/intake/clients/{admin_and_client.id}"
    assert "Correct these details" in text(client.get(record_page))
    form = client.get(f"/clients/{admin_and_client.id}/details").get_data(as_text=True)
    assert 'value="robin@example.com"' in form
    response = client.post(f"/clients/{admin_and_client.id}/details",
                           data={**CONTACT, "phone": "01632 960001"})
    assert response.headers["Location"] == record_page
    assert fresh(db, admin_and_client).phone == "01632 960001"
    [event] = events(db, "update_details")
    assert (event.subject_user_id, event.detail) == (
        admin_and_client.id, "phone (by staff)")
    page = text(client.post(f"/clients/{admin_and_client.id}/details", data={
        **CONTACT, "phone": "01632 960001"}, follow_redirects=True))
    assert "Nothing was changed." in page


def test_an_admin_moves_a_client_to_a_new_address_which_they_confirm(
    client: FlaskClient, db: Session, admin_and_client: User, smtp_sink: SmtpSink
) -> None:
    client.post(f"/clients/{admin_and_client.id}/details",
                data={**CONTACT, "email": " Robin.New@Example.com"})
    user = fresh(db, admin_and_client)
    assert (user.email, user.email_verified_at) == (NEW, None)
    [notice] = smtp_sink.to("robin@example.com")
    assert notice["Subject"] == "The clinic changed your email address"
    [link] = smtp_sink.to(NEW)
    assert link["Subject"] == "Please confirm your email address"
    [event] = events(db, "update_details")
    assert event.detail == "email (by staff)"


def test_an_admin_cannot_give_a_client_another_accounts_address(
    client: FlaskClient, db: Session, admin_and_client: User,
    make_user: Callable[..., User],
) -> None:
    make_user(email="taken@example.com")
    response = client.post(f"/clients/{admin_and_client.id}/details", data={
        **CONTACT, "email": "taken@example.com", "phone": "01632 960001"})
    assert response.status_code == 200
    assert "Another account uses that email address." in text(response)
    user = fresh(db, admin_and_client)
    assert (user.email, user.phone) == ("robin@example.com", "07700 900123")
    assert events(db, "update_details") == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "", "Please enter the client's email address."),
    ("full_name", "", "Please enter the client's name."),
    ("email", "no", "valid email address"),
    ("phone", "", "Please enter a phone number"),
    ("date_of_birth", "2999-01-01", "cannot be in the future"),
])
def test_an_admins_bad_input_is_explained(
    client: FlaskClient, admin_and_client: User, field: str, value: str, message: str
) -> None:
    response = client.post(f"/clients/{admin_and_client.id}/details",
                           data={**CONTACT, field: value})
    assert response.status_code == 200 and message in text(response)


def test_only_admins_correct_only_clients(
    client: FlaskClient, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    a_client, therapist = make_user(), make_user(Role.THERAPIST)
    login(therapist)
    record_page = text(client.get(f"/intake/clients/{a_client.id}"))
    assert "Correct these details" not in record_page
    assert client.get(f"/clients/{a_client.id}/details").status_code == 403
    client.post("/logout")
    login(make_user(Role.ADMIN))
    assert client.get(f"/clients/{therapist.id}/details").status_code == 404
    assert client.post(f"/clients/{therapist.id}/details", data=CONTACT
                       ).status_code == 404


def test_guessing_the_password_here_is_throttled_like_logging_in(
    client: FlaskClient, db: Session, me: User, smtp_sink: SmtpSink
) -> None:
    """Five wrong passwords (the login limit) on the account pages, then even
    the right one waits: a stolen session cannot guess its way to the
    password or move the account to another inbox."""
    wrong = {"current_password": "a wrong guess 1", "password": "brand new secret 9",
             "confirm": "brand new secret 9"}
    for _ in range(3):
        assert "That is not your current password." in ask_change(
            client, password="a wrong guess 1")
    for _ in range(2):
        page = text(client.post("/account/password", data=wrong))
        assert "That is not your current password." in page
    assert "Too many wrong passwords" in ask_change(client)
    right = {**wrong, "current_password": PASSWORD}
    assert "Too many wrong passwords" in text(client.post("/account/password",
                                                          data=right))
    assert smtp_sink.to(NEW) == []
    assert fresh(db, me).email == "robin@example.com"
