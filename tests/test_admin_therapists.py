"""Admins add therapists and admins (invited by email, never self-registered),
edit profiles, correct staff login addresses, and deactivate a therapist only
after deciding what happens to their booked sessions."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.booking.models import BookingStatus, Therapist
from tests.conftest import PASSWORD
from tests.factories import make_booking, make_client, make_service, make_therapist
from tests.smtp import SmtpSink
from tests.test_accounts_details import fresh
from tests.test_admin_support import (
    NOW,
    audit_rows,
    fix_clock,
    log_in_admin,
    page,
    reread,
    therapist_with_booking,
)

TUESDAY_10 = NOW + timedelta(days=1, hours=1)  # Tue 23 Mar 2027, 10:00 GMT


@pytest.fixture(autouse=True)
def admin(monkeypatch: pytest.MonkeyPatch, make_user: Callable[..., User],
          login: Callable[[User], None]) -> User:
    fix_clock(monkeypatch)
    return log_in_admin(make_user, login)


def _link(smtp_sink: SmtpSink, email: str) -> str:
    (message,) = smtp_sink.to(email)
    body = message.get_body(preferencelist=("plain",)).get_content()
    match = re.search(r"http://clinic\.test(/password/reset/\S+)", body)
    assert match, body
    return match.group(1)


def _therapist_form(db: Session, **changes: object) -> dict[str, object]:
    back = make_service(db, name="Back massage")
    hip = make_service(db, name="Hip massage")
    return {"full_name": "Robin Rivers", "email": "Robin@Example.com",
            "phone": "020 7946 0199", "bio": "Ten years of remedial massage.",
            "services": [str(back.id), str(hip.id)],
            "techniques": ["swedish", "trigger_point"], **changes}


# ---------------------------------------------------------------- adding staff


def test_admin_adds_a_therapist_who_chooses_a_password_by_the_emailed_link(
    app: Flask, client: FlaskClient, db: Session, smtp_sink: SmtpSink, admin: User
) -> None:
    response = client.post("/admin/therapists/new", data=_therapist_form(db))
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.email == "robin@example.com"))
    assert user is not None and user.role is Role.THERAPIST and user.active
    therapist = db.get(Therapist, user.id)
    assert therapist is not None and therapist.active
    assert therapist.bio == "Ten years of remedial massage."
    assert sorted(s.name for s in therapist.services) == ["Back massage",
                                                          "Hip massage"]
    assert therapist.technique_keys == {"swedish", "trigger_point"}
    assert [(e.action, e.record_type) for e in
            audit_rows(db, "account") + audit_rows(db, "therapist")] == [
        ("invite", "account"), ("create", "therapist")]

    # Nobody can log in before the invited person chooses a password.
    newcomer = app.test_client()
    refused = newcomer.post("/login", data={"email": user.email, "password": ""})
    assert refused.status_code == 200
    link = _link(smtp_sink, "robin@example.com")
    assert newcomer.get(link).status_code == 200
    chosen = newcomer.post(link, data={"password": "my own passphrase 9",
                                       "confirm": "my own passphrase 9"})
    assert chosen.status_code == 302
    logged_in = newcomer.post("/login", data={"email": "robin@example.com",
                                              "password": "my own passphrase 9"})
    assert logged_in.status_code == 302


def test_a_taken_email_is_refused_and_nothing_is_created(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    smtp_sink: SmtpSink
) -> None:
    make_user(email="robin@example.com")
    users = db.scalar(select(func.count()).select_from(User))
    response = client.post("/admin/therapists/new", data=_therapist_form(db))
    assert response.status_code == 200
    assert "An account with this email already exists." in page(response)
    assert 'id="email-error"' in page(response)
    assert db.scalar(select(func.count()).select_from(User)) == users
    assert db.scalar(select(func.count()).select_from(Therapist)) == 0
    assert smtp_sink.to("robin@example.com") == []


@pytest.mark.parametrize(("field", "value", "message"), [
    ("full_name", "Rob\x00in", "Please remove unusual characters."),
    ("full_name", "", "Please enter a name."),
    ("email", "robin-at-example", "Please enter a valid email address"),
    ("phone", "ring me", "Please use digits, spaces"),
    ("bio", "b" * 1001, "Please use at most 1000 characters."),
    ("services", ["999999"], "Please choose from the list."),
    ("services", ["abc"], "Please choose from the list."),
    ("techniques", ["reiki"], "Please choose from the list."),
])
def test_bad_therapist_input_is_explained(
    client: FlaskClient, db: Session, field: str, value: object, message: str
) -> None:
    response = client.post("/admin/therapists/new",
                           data=_therapist_form(db, **{field: value}))
    assert response.status_code == 200
    assert message in page(response)
    assert db.scalar(select(func.count()).select_from(Therapist)) == 0


def test_admin_adds_another_admin_by_invitation(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    response = client.post("/admin/admins/new", data={
        "full_name": "Bea Boss", "email": "bea@example.com", "phone": ""})
    assert response.status_code == 302
    user = db.scalar(select(User).where(User.email == "bea@example.com"))
    assert user is not None and user.role is Role.ADMIN
    assert _link(smtp_sink, "bea@example.com").startswith("/password/reset/")
    assert db.get(Therapist, user.id) is None


def test_a_staff_member_can_be_sent_a_new_link(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    assert client.post(f"/admin/staff/{therapist.user_id}/invite"
                       ).status_code == 302
    assert _link(smtp_sink, therapist.user.email).startswith("/password/reset/")
    client_user = make_client(db)
    assert client.post(f"/admin/staff/{client_user.id}/invite").status_code == 404


# ---------------------------------------------------------------- profiles


def test_admin_edits_a_profile(client: FlaskClient, db: Session,
                               smtp_sink: SmtpSink) -> None:
    old, new = make_service(db, name="Old service"), make_service(db, name="New one")
    therapist = make_therapist(db, name="Tara Jones", services=[old],
                               techniques=["swedish"])
    email = therapist.user.email
    form = page(client.get(f"/admin/therapists/{therapist.user_id}"))
    assert 'value="Tara Jones"' in form and f'value="{email}"' in form
    response = client.post(f"/admin/therapists/{therapist.user_id}", data={
        "full_name": "Tara Jones-Smith", "phone": "", "bio": "Deep tissue expert.",
        "services": [str(new.id)], "techniques": ["deep_tissue", "swedish"],
        "email": email.upper()})
    assert response.status_code == 302
    db.expire_all()
    saved = db.get(Therapist, therapist.user_id)
    assert saved is not None
    assert (saved.user.full_name, saved.user.phone, saved.bio) == (
        "Tara Jones-Smith", None, "Deep tissue expert.")
    assert saved.user.email == email
    assert [s.name for s in saved.services] == ["New one"]
    assert saved.technique_keys == {"deep_tissue", "swedish"}
    assert [e.action for e in audit_rows(db, "therapist")] == ["update"]
    assert audit_rows(db, "account") == [] and smtp_sink.messages == []


def _body(smtp_sink: SmtpSink, address: str) -> str:
    (message,) = smtp_sink.to(address)
    return " ".join(message.get_body(preferencelist=("plain",)).get_content().split())


def test_a_mistyped_therapist_address_is_corrected_and_the_invitation_follows(
    app: Flask, client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    form = _therapist_form(db, email="robin@exmaple.com")
    client.post("/admin/therapists/new", data=form)
    first_link = _link(smtp_sink, "robin@exmaple.com")
    user = db.scalar(select(User).where(User.email == "robin@exmaple.com"))
    assert user is not None
    smtp_sink.clear()
    response = client.post(f"/admin/therapists/{user.id}", data={
        **form, "email": "robin@example.com"}, follow_redirects=True)
    assert ("A new link to choose a password is on its way to robin@example.com."
            in page(response))
    assert fresh(db, user).email == "robin@example.com"
    notice = _body(smtp_sink, "robin@exmaple.com")
    assert "changed the email address of your staff account to robin@example.com" \
        in notice
    # The invitation that went astray no longer opens the account.
    stranger = app.test_client()
    assert "invalid, has expired" in page(stranger.get(first_link,
                                                      follow_redirects=True))
    assert stranger.get(_link(smtp_sink, "robin@example.com")).status_code == 200
    assert [(e.action, e.detail) for e in audit_rows(db, "account")][-2:] == [
        ("update_details", "email (by staff)"), ("invite", None)]


def test_a_therapist_who_has_logged_in_confirms_the_corrected_address(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    therapist.user.last_login_at = NOW
    db.commit()
    old = therapist.user.email
    form = {"full_name": "Tara Jones", "phone": "", "bio": "",
            "techniques": ["swedish"], "email": "tara.jones@example.com"}
    response = client.post(f"/admin/therapists/{therapist.user_id}", data=form,
                           follow_redirects=True)
    assert "We have emailed tara.jones@example.com a link to confirm it." \
        in page(response)
    user = fresh(db, therapist.user)
    assert (user.email, user.email_verified_at) == ("tara.jones@example.com", None)
    link = _body(smtp_sink, "tara.jones@example.com")
    assert "email address of your staff account" in link and "/email/confirm/" in link
    assert "If this is wrong, please call the clinic" in _body(smtp_sink, old)


def test_a_therapist_cannot_be_given_another_accounts_address(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    smtp_sink: SmtpSink
) -> None:
    make_user(email="taken@example.com")
    therapist = make_therapist(db, name="Tara Jones")
    response = client.post(f"/admin/therapists/{therapist.user_id}", data={
        "full_name": "Renamed", "phone": "", "bio": "", "techniques": ["swedish"],
        "email": "taken@example.com"})
    assert response.status_code == 200
    assert "Another account uses that email address." in page(response)
    assert 'id="email-error"' in page(response)
    saved = fresh(db, therapist.user)
    assert (saved.full_name, saved.email) == ("Tara Jones", therapist.user.email)
    assert audit_rows(db, "therapist") == [] and smtp_sink.messages == []


def test_an_admin_corrects_another_admins_details(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    smtp_sink: SmtpSink, admin: User
) -> None:
    other = make_user(Role.ADMIN, email="bea@example.com", full_name="Bea Boss")
    listing = page(client.get("/admin/therapists"))
    assert f'href="/admin/admins/{other.id}"' in listing
    assert f'href="/admin/admins/{admin.id}"' not in listing
    form = page(client.get(f"/admin/admins/{other.id}"))
    assert 'value="bea@example.com"' in form and "Save the details" in form
    same = {"full_name": "Bea Boss", "email": "bea@example.com",
            "phone": other.phone or ""}
    unchanged = client.post(f"/admin/admins/{other.id}", data=same,
                            follow_redirects=True)
    assert "Nothing was changed." in page(unchanged)
    response = client.post(f"/admin/admins/{other.id}", data={
        **same, "full_name": "Beatrice Boss", "email": "beatrice@example.com"},
        follow_redirects=True)
    assert "details are saved." in page(response)
    saved = fresh(db, other)
    assert (saved.full_name, saved.email) == ("Beatrice Boss", "beatrice@example.com")
    assert [e.detail for e in audit_rows(db, "account")
            if e.action == "update_details"] == ["full_name, email (by staff)"]
    assert "staff account" in _body(smtp_sink, "bea@example.com")


def test_the_admin_details_page_is_for_other_admins_only(
    client: FlaskClient, db: Session, admin: User
) -> None:
    own = client.get(f"/admin/admins/{admin.id}", follow_redirects=True)
    assert "Change your own details on your Account page." in page(own)
    assert client.get(f"/admin/admins/{make_client(db).id}").status_code == 404
    therapist = make_therapist(db)
    assert client.get(f"/admin/admins/{therapist.user_id}").status_code == 404
    assert client.post("/admin/admins/999", data={}).status_code == 404


@pytest.mark.parametrize("url", [
    "/admin/therapists/999", "/admin/therapists/999/deactivate",
    "/admin/therapists/999/hours", "/admin/therapists/999/time-off",
])
def test_unknown_therapists_are_not_found(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


def test_a_client_is_not_a_therapist(client: FlaskClient, db: Session) -> None:
    someone = make_client(db)
    assert client.get(f"/admin/therapists/{someone.id}").status_code == 404


# ---------------------------------------------------------------- deactivation


def test_deactivating_a_therapist_without_bookings_ends_their_login(
    app: Flask, client: FlaskClient, db: Session, admin: User
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    their_browser = app.test_client()
    their_browser.post("/login", data={"email": therapist.user.email,
                                       "password": PASSWORD})
    assert their_browser.get("/therapist").status_code == 200

    url = f"/admin/therapists/{therapist.user_id}/deactivate"
    assert "has no upcoming booked sessions" in page(client.get(url))
    assert client.post(url, data={"seen": ""}).status_code == 302

    db.expire_all()
    saved = db.get(Therapist, therapist.user_id)
    assert saved is not None and not saved.active and not saved.user.active
    assert their_browser.get("/therapist").status_code == 302  # logged out
    (event,) = audit_rows(db, "therapist", "deactivate")
    assert (event.record_id, event.detail) == (therapist.user_id,
                                               "0 bookings cancelled")


def test_deactivation_lists_future_bookings_and_cancels_nothing_unasked(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    service = booking.service
    past = make_booking(db, client=make_client(db, full_name="Past Person"),
                        therapist=therapist, service=service,
                        start=NOW - timedelta(days=1))
    gone = make_booking(db, client=make_client(db, full_name="Gone Person"),
                        therapist=therapist, service=service,
                        start=TUESDAY_10 + timedelta(hours=3),
                        status=BookingStatus.CANCELLED)
    url = f"/admin/therapists/{therapist.user_id}/deactivate"
    listing = page(client.get(url))
    assert "Chris Client" in listing and "Tue 23 Mar 2027, 10:00 GMT" in listing
    assert "Past Person" not in listing and "Gone Person" not in listing
    assert f'name="seen" type="hidden" value="{booking.id}"' in listing

    # Submitting without a reason changes nothing.
    response = client.post(url, data={"seen": str(booking.id),
                                      "decision": "cancel", "cancel_reason": ""})
    assert response.status_code == 200
    assert ('id="cancel_reason-error">Please give a reason for cancelling. </p>'
            in page(response))
    assert reread(db, booking).status is BookingStatus.CONFIRMED
    assert reread(db, past).status is BookingStatus.CONFIRMED
    assert reread(db, gone).status is BookingStatus.CANCELLED
    assert db.get(Therapist, therapist.user_id).active  # type: ignore[union-attr]
    assert smtp_sink.messages == []


def test_deactivation_cancels_the_bookings_with_the_reason_and_tells_clients(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink, admin: User
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    response = client.post(f"/admin/therapists/{therapist.user_id}/deactivate",
                           data={"seen": str(booking.id), "decision": "cancel",
                                 "cancel_reason": "Tara has left the clinic."})
    assert response.status_code == 302
    saved = reread(db, booking)
    assert (saved.status, saved.cancelled_by_id, saved.cancel_reason,
            saved.cancelled_at) == (BookingStatus.CANCELLED, admin.id,
                                    "Tara has left the clinic.", NOW)
    assert not db.get(Therapist, therapist.user_id).active  # type: ignore[union-attr]
    (mail,) = smtp_sink.to(booking.client.email)
    assert "Tara has left the clinic." in mail.get_body(
        preferencelist=("plain",)).get_content()
    (event,) = audit_rows(db, "booking", "cancel")
    assert (event.record_id, event.subject_user_id, event.actor_id) == (
        booking.id, booking.client_id, admin.id)
    assert audit_rows(db, "therapist", "deactivate")[0].detail == (
        "1 bookings cancelled")


def test_a_booking_made_after_the_admin_looked_is_not_cancelled_unseen(
    client: FlaskClient, db: Session
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    newer = make_booking(db, client=make_client(db, full_name="Newer Client"),
                         therapist=therapist, service=booking.service,
                         start=TUESDAY_10 + timedelta(days=1))
    response = client.post(f"/admin/therapists/{therapist.user_id}/deactivate",
                           data={"seen": str(booking.id), "decision": "cancel",
                                 "cancel_reason": "Leaving."})
    assert response.status_code == 200
    body = page(response)
    assert "The bookings changed since you looked." in body
    assert "Newer Client" in body
    assert f'value="{booking.id},{newer.id}"' in body
    assert reread(db, booking).status is BookingStatus.CONFIRMED
    assert db.get(Therapist, therapist.user_id).active  # type: ignore[union-attr]


@pytest.mark.parametrize("seen", ["x,y", "1" * 40, "-1", "\u00b2"])
def test_a_tampered_list_of_seen_bookings_cancels_nothing(
    client: FlaskClient, db: Session, seen: str
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    response = client.post(f"/admin/therapists/{therapist.user_id}/deactivate",
                           data={"seen": seen, "decision": "cancel",
                                 "cancel_reason": "Leaving."})
    assert response.status_code == 200
    assert reread(db, booking).status is BookingStatus.CONFIRMED


def test_keeping_a_booking_is_not_an_option_for_deactivation(
    client: FlaskClient, db: Session
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    response = client.post(f"/admin/therapists/{therapist.user_id}/deactivate",
                           data={"seen": str(booking.id), "decision": "keep"})
    assert response.status_code == 200
    assert "Please choose one of the options." in page(response)
    assert db.get(Therapist, therapist.user_id).active  # type: ignore[union-attr]


def test_a_deactivated_therapist_can_be_reactivated(
    client: FlaskClient, db: Session
) -> None:
    therapist = make_therapist(db, name="Tara Jones", active=False)
    therapist.user.active = False
    db.commit()
    assert client.post(f"/admin/staff/{therapist.user_id}/reactivate"
                       ).status_code == 302
    db.expire_all()
    saved = db.get(Therapist, therapist.user_id)
    assert saved is not None and saved.active and saved.user.active
    assert [e.action for e in audit_rows(db, "therapist")] == ["reactivate"]


def test_admins_are_deactivated_but_never_themselves(
    client: FlaskClient, db: Session, admin: User, make_user: Callable[..., User]
) -> None:
    other = make_user(Role.ADMIN)
    tara = make_therapist(db, name="Tara Jones")
    client.post(f"/admin/admins/{admin.id}/deactivate")
    client.post(f"/admin/admins/{tara.user_id}/deactivate")
    client.post(f"/admin/admins/{other.id}/deactivate")
    db.expire_all()
    assert [db.get(User, u).active for u in (admin.id, tara.user_id, other.id)] == [
        True, True, False]
    assert [e.record_id for e in audit_rows(db, "account", "deactivate")] == [
        other.id]
    assert client.get("/admin/").status_code == 200  # still logged in


@pytest.mark.parametrize(
    ("intervals", "summary"),
    [
        ([], "None set"),
        ([(0, "09:00", "17:00")], "Mon 09:00\N{EN DASH}17:00"),
        ([(d, "09:00", "12:30") for d in range(5)]
         + [(d, "13:30", "17:00") for d in range(5)]
         + [(5, "10:00", "14:00")],
         "Mon\N{EN DASH}Fri 09:00\N{EN DASH}12:30, 13:30\N{EN DASH}17:00; "
         "Sat 10:00\N{EN DASH}14:00"),
        # Same hours on days not in a row, and a different day between.
        ([(0, "09:00", "17:00"), (2, "09:00", "17:00"), (1, "10:00", "16:00")],
         "Mon 09:00\N{EN DASH}17:00; Tue 10:00\N{EN DASH}16:00; "
         "Wed 09:00\N{EN DASH}17:00"),
        ([(6, "08:00", "09:00"), (5, "08:00", "09:00")],
         "Sat\N{EN DASH}Sun 08:00\N{EN DASH}09:00"),
    ],
)
def test_working_hours_are_summarised_by_runs_of_days(
    intervals: list[tuple[int, str, str]], summary: str
) -> None:
    from clinic.admin.therapists import hours_summary

    parsed = [(day, time.fromisoformat(start), time.fromisoformat(end))
              for day, start, end in intervals]
    assert hours_summary(parsed) == summary


def test_the_therapists_page_shows_each_ones_hours(client: FlaskClient,
                                                   db: Session) -> None:
    make_therapist(db, name="Tara Jones",
                   hours=[(d, time(9), time(17)) for d in range(5)])
    make_therapist(db, name="Sam Patel", hours=[])
    body = page(client.get("/admin/therapists"))
    hours = re.findall(r"<dt>Working hours</dt><dd>([^<]*)</dd>", body)
    assert hours == ["None set", "Mon\N{EN DASH}Fri 09:00\N{EN DASH}17:00"]


def test_the_therapists_page_reads_the_same_whatever_the_number_of_therapists(
    app: Flask, client: FlaskClient, db: Session
) -> None:
    from tests.test_schedule_weeks import count_selects

    selects = []
    for count in (1, 4):
        while len(db.scalars(select(Therapist)).all()) < count:
            make_therapist(db, services=[make_service(db)], techniques=["swedish"])
        with count_selects(app.extensions["clinic.engine"]) as counter:
            assert client.get("/admin/therapists").status_code == 200
        selects.append(len(counter.selects))
    assert selects[0] == selects[1], selects
