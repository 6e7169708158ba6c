"""The admin's clinic schedule: every therapist for a day or a week, filters,
cancelling with a reason (mailed to the client) and recording no-shows."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.booking.models import Booking, BookingStatus
from clinic.mail.models import OutboxMessage
from tests.factories import (
    make_booking,
    make_client,
    make_intake,
    make_service,
    make_therapist,
)
from tests.smtp import SmtpSink
from tests.test_ics import parse_ics
from tests.test_schedule_views import (  # noqa: F401  (fixtures)
    NOW,
    Week,
    audit_rows,
    fixed_clock,
    row_for,
    visible_text,
    week_fixture,
)
from tests.test_schedule_weeks import count_selects


@pytest.fixture
def admin(make_user: Callable[..., User], login: Callable[[User], None]) -> User:
    user = make_user(Role.ADMIN, full_name="Alex Admin")
    login(user)
    return user


def headings(page: str, level: int) -> list[str]:
    return [visible_text(h) for h in re.findall(rf"<h{level}[^>]*>.*?</h{level}>",
                                                page, re.S)]


def test_the_clinic_day_shows_every_therapist(
    client: FlaskClient, admin: User, week: Week
) -> None:
    page = client.get("/schedule/clinic").get_data(as_text=True)
    assert "Today, Wednesday 24 March 2027" in page
    assert re.search(r'<input[^>]*name="date"[^>]*value="2027-03-24"', page), (
        "the date box shows the day shown")
    assert headings(page, 2) == ["Sam Patel", "Tara Jones"]
    assert "3 sessions: 3 confirmed." in visible_text(page)
    empty = client.get("/schedule/clinic?date=2027-06-01").get_data(as_text=True)
    assert "0 sessions. Times are the clinic's local time." in visible_text(empty)
    assert 'href="/intake/clients">Book for a client…</a>' in page
    sasha = visible_text(row_for(page, "Sasha Other"))
    assert sasha.startswith("15:00\N{EN DASH}16:00 GMT Sasha Other Sciatica relief")
    assert "Caution: awaiting acknowledgement" in row_for(page, "Casey Caution")
    assert f"/schedule/clinic/bookings/{week.clear.id}/cancel" in row_for(
        page, "Chris Clear")
    started = row_for(page, "Casey Caution")
    assert f"/schedule/bookings/{week.caution.id}/no-show" in started
    assert "/cancel" not in started  # it has begun: a no-show, not a cancellation
    assert "Carl Cancelled" not in page  # booked sessions only, by default


def test_the_clinic_week_with_filters(
    client: FlaskClient, admin: User, week: Week
) -> None:
    page = client.get(
        f"/schedule/clinic?view=week&date=2027-03-26&therapist={week.tara.user_id}"
        "&status=all").get_data(as_text=True)
    assert "Week of Monday 22 March to Sunday 28 March 2027" in page
    assert headings(page, 2) == ["Tara Jones"]
    assert "Sasha Other" not in page and "Nell Nextweek" not in page
    assert visible_text(row_for(page, "Carl Cancelled")).startswith(
        "Thu 25 Mar 10:00\N{EN DASH}11:00 GMT Carl Cancelled")
    assert visible_text(row_for(page, "Avery Acked")).startswith(
        "Sun 28 Mar 13:00\N{EN DASH}14:00 BST")
    assert "4 sessions: 3 confirmed, 1 cancelled." in visible_text(page)
    # The pager keeps the filters.
    assert (f'href="/schedule/clinic?date=2027-03-29&amp;view=week&amp;'
            f'therapist={week.tara.user_id}&amp;status=all"') in page

    cancelled = client.get("/schedule/clinic?view=week&status=cancelled").get_data(
        as_text=True)
    assert "Carl Cancelled" in cancelled and "Chris Clear" not in cancelled


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("therapist=999999", "Please choose a therapist from the list."),
        ("therapist=abc", "Please choose a therapist from the list."),
        ("therapist=" + "9" * 40, "Please choose a therapist from the list."),
        ("view=month", "Please choose a day or a week."),
        ("status=lost", "Please choose a status from the list."),
        ("date=31/03/2027", "Please enter a date like 2027-03-28."),
        ("date=0001-01-01", "Please choose a date between 2000 and 2100."),
    ],
)
def test_bad_filters_explain_and_fall_back(
    client: FlaskClient, admin: User, week: Week, query: str, message: str
) -> None:
    response = client.get(f"/schedule/clinic?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "Chris Clear" in page  # today, everyone, booked sessions


def test_the_clinic_schedule_is_for_admins_only(
    client: FlaskClient, login: Callable[[User], None], week: Week
) -> None:
    assert client.get("/schedule/clinic").status_code == 302
    login(week.tara.user)
    assert client.get("/schedule/clinic").status_code == 403
    path = f"/schedule/clinic/bookings/{week.clear.id}/cancel"
    assert client.get(path).status_code == 403
    assert client.post(path, data={"reason": "x"}).status_code == 403


# ---------------------------------------------------------------- cancelling


def test_an_admin_cancels_with_a_reason_and_the_client_is_told(
    client: FlaskClient, db: Session, admin: User, week: Week, smtp_sink: SmtpSink
) -> None:
    path = f"/schedule/clinic/bookings/{week.clear.id}/cancel"
    form = client.get(path).get_data(as_text=True)
    assert "Chris Clear" in form and "Reason for cancelling" in form

    response = client.post(path, data={"reason": "  Tara is unwell today.  "})
    assert response.status_code == 302
    assert response.headers["Location"] == "/schedule/clinic?date=2027-03-24"
    db.expire_all()
    booking = db.get(Booking, week.clear.id)
    assert booking.status is BookingStatus.CANCELLED
    assert booking.cancel_reason == "Tara is unwell today."
    assert booking.cancelled_by_id == admin.id
    [event] = audit_rows(db, "cancel")
    assert (event.actor_id, event.record_id, event.subject_user_id) == (
        admin.id, booking.id, booking.client_id)

    [mail] = smtp_sink.to(db.get(User, booking.client_id).email)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Reason:    Tara is unwell today." in body
    [attachment] = list(mail.iter_attachments())
    assert parse_ics(attachment.get_payload(decode=True)).get("METHOD") == "CANCEL"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "We have emailed the client with your reason." in page


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Please give a reason for cancelling."),
     ("   ", "Please give a reason for cancelling."),
     ("x" * 201, "Please use at most 200 characters."),
     ("bad\x00byte", "Please remove unusual characters.")],
)
def test_cancelling_needs_a_proper_reason(
    client: FlaskClient, db: Session, admin: User, week: Week, reason: str,
    message: str,
) -> None:
    response = client.post(f"/schedule/clinic/bookings/{week.clear.id}/cancel",
                           data={"reason": reason})
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Booking, week.clear.id).status is BookingStatus.CONFIRMED
    assert db.scalar(select(OutboxMessage)) is None


def test_cancelling_twice_explains_and_unknown_bookings_are_not_found(
    client: FlaskClient, admin: User, week: Week
) -> None:
    path = f"/schedule/clinic/bookings/{week.cancelled.id}/cancel"
    assert "can no longer be cancelled" in client.get(path).get_data(as_text=True)
    again = client.post(path, data={"reason": "Duplicate"})
    assert again.status_code == 200
    assert "This booking is already cancelled." in again.get_data(as_text=True)
    assert client.get("/schedule/clinic/bookings/999999/cancel").status_code == 404
    assert client.get(f"/schedule/clinic/bookings/{2**40}/cancel").status_code == 404


def test_an_admin_records_a_no_show(
    client: FlaskClient, db: Session, admin: User, week: Week
) -> None:
    response = client.post(f"/schedule/bookings/{week.caution.id}/no-show",
                           follow_redirects=True)
    assert response.request.path == "/schedule/clinic"
    assert "Casey Caution did not come." in response.get_data(as_text=True)
    db.expire_all()
    assert db.get(Booking, week.caution.id).status is BookingStatus.NO_SHOW
    assert [e.actor_id for e in audit_rows(db, "no_show")] == [admin.id]


def test_no_show_ignores_an_outside_next(
    client: FlaskClient, admin: User, week: Week
) -> None:
    response = client.post(f"/schedule/bookings/{week.caution.id}/no-show",
                           data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/schedule/clinic?date=2027-03-24"


def test_more_sessions_cost_no_more_queries(
    app: Flask, client: FlaskClient, db: Session, admin: User
) -> None:
    service = make_service(db)
    therapists = [make_therapist(db, services=[service]) for _ in range(3)]
    selects: list[int] = []
    booked = 0
    for total in (3, 15):
        for n in range(booked, total):
            person = make_client(db)
            make_booking(db, client=person, therapist=therapists[n % 3],
                         service=service, start=NOW + timedelta(hours=n),
                         screening=make_intake(db, person, now=NOW))
        booked = total
        with count_selects(app.extensions["clinic.engine"]) as counter:
            page = client.get("/schedule/clinic?view=week&status=all")
        assert page.get_data(as_text=True).count('class="session ') == total
        selects.append(len(counter.selects))
    assert selects[0] == selects[1], selects
