"""An admin gives a session to another therapist free at the same time (a
therapist leaving or ill): the client keeps the time and is told."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.booking.models import Booking, Therapist
from tests import test_schedule_clinic
from tests.factories import make_booking, make_client, make_therapist
from tests.smtp import SmtpSink
from tests.test_ics import parse_ics
from tests.test_schedule_views import (  # noqa: F401  (fixtures)
    Week,
    audit_rows,
    fixed_clock,
    visible_text,
    week_fixture,
)

admin = test_schedule_clinic.admin  # the fixture, by assignment


def busy_colleague(db: Session, week: Week) -> Therapist:
    """A therapist offering the service, booked when Chris Clear's session is."""
    busy = make_therapist(db, name="Pat Busy", services=[week.service])
    make_booking(db, client=make_client(db), therapist=busy, service=week.service,
                 start=week.clear.starts_at)
    return busy


def offered(page: str) -> list[str]:
    """The names the page offers as radio choices."""
    return [visible_text(label) for label in re.findall(
        r'<input[^>]*type="radio"[^>]*>\s*<label[^>]*>(.*?)</label>', page, re.S)]


def test_only_other_free_therapists_offering_it_are_offered(
    client: FlaskClient, db: Session, admin: User, week: Week
) -> None:
    busy_colleague(db, week)
    make_therapist(db, name="Quinn Deep", services=[week.service],
                   techniques=["deep_tissue"])
    page = client.get(f"/schedule/clinic/bookings/{week.clear.id}/therapist")
    assert page.status_code == 200
    assert offered(page.get_data(as_text=True)) == ["Sam Patel"]


def test_moving_keeps_the_time_and_tells_the_client(
    client: FlaskClient, db: Session, admin: User, week: Week, smtp_sink: SmtpSink
) -> None:
    start = week.clear.starts_at
    back = f"/admin/therapists/{week.tara.user_id}/deactivate"
    response = client.post(f"/schedule/clinic/bookings/{week.clear.id}/therapist",
                           data={"therapist_id": week.sam.user_id, "next": back})
    assert response.status_code == 302
    assert response.headers["Location"] == back
    db.expire_all()
    booking = db.get(Booking, week.clear.id)
    assert (booking.therapist_id, booking.starts_at) == (week.sam.user_id, start)
    [event] = audit_rows(db, "reschedule")
    assert (event.actor_id, event.record_id) == (admin.id, booking.id)
    [mail] = smtp_sink.to(db.get(User, booking.client_id).email)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Therapist: Sam Patel" in body
    [attachment] = list(mail.iter_attachments())
    event_ics = parse_ics(attachment.get_payload(decode=True))
    assert event_ics.get("METHOD") == "REQUEST"
    page = client.get(back).get_data(as_text=True)
    assert "The session is now with Sam Patel. We have emailed the client." in page


def test_a_therapist_not_free_is_refused_and_nothing_changes(
    client: FlaskClient, db: Session, admin: User, week: Week
) -> None:
    busy = busy_colleague(db, week)
    response = client.post(f"/schedule/clinic/bookings/{week.clear.id}/therapist",
                           data={"therapist_id": busy.user_id})
    assert response.status_code == 200
    assert ("Please choose one of the therapists listed."
            in response.get_data(as_text=True))
    db.expire_all()
    assert db.get(Booking, week.clear.id).therapist_id == week.tara.user_id


def test_nobody_free_says_so_and_offers_cancelling(
    client: FlaskClient, db: Session, admin: User, week: Week
) -> None:
    path = f"/schedule/clinic/bookings/{week.sams.id}/therapist"
    assert offered(client.get(path).get_data(as_text=True)) == ["Tara Jones"]
    make_booking(db, client=make_client(db), therapist=week.tara,
                 service=week.service, start=week.sams.starts_at)
    text = visible_text(client.get(path).get_data(as_text=True))
    assert ("No other therapist who offers Sciatica relief with Swedish massage "
            "is free at this time.") in text
    assert "Cancel the session instead" in text


def test_moving_is_for_admins_and_real_bookings(
    client: FlaskClient, db: Session, week: Week, login: Callable[[User], None]
) -> None:
    login(week.tara.user)
    path = f"/schedule/clinic/bookings/{week.clear.id}/therapist"
    assert client.get(path).status_code == 403
    assert client.post(path, data={"therapist_id": week.sam.user_id}
                       ).status_code == 403


def test_unknown_and_cancelled_bookings(
    client: FlaskClient, admin: User, week: Week
) -> None:
    assert client.get("/schedule/clinic/bookings/424242/therapist").status_code == 404
    page = client.get(f"/schedule/clinic/bookings/{week.cancelled.id}/therapist")
    assert "no longer booked, so it cannot be moved" in page.get_data(as_text=True)


def test_the_deactivation_page_links_each_session_to_moving_it(
    client: FlaskClient, admin: User, week: Week
) -> None:
    page = client.get(f"/admin/therapists/{week.tara.user_id}/deactivate")
    html = page.get_data(as_text=True)
    back = f"/admin/therapists/{week.tara.user_id}/deactivate"
    assert (f'href="/schedule/clinic/bookings/{week.clear.id}/therapist?next='
            f'{back}"') in html


def test_bad_input_explains_and_never_leaves_the_site(
    client: FlaskClient, db: Session, admin: User, week: Week
) -> None:
    path = f"/schedule/clinic/bookings/{week.clear.id}/therapist"
    for bad in ("abc", "", "99999999999999999999", "1\x00"):
        response = client.post(path, data={"therapist_id": bad})
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "Please choose one of the therapists listed." in page
    response = client.post(path, data={"therapist_id": week.sam.user_id,
                                       "next": "https://evil.example/"})
    assert response.headers["Location"] == "/schedule/clinic?date=2027-03-24"
    db.expire_all()
    assert db.get(Booking, week.clear.id).therapist_id == week.sam.user_id


def test_a_session_within_the_booking_notice_can_still_change_hands(
    client: FlaskClient, db: Session, admin: User, week: Week
) -> None:
    """Clients must book 2 hours ahead; a session in 1 hour whose therapist
    is off sick can still go to a free colleague."""
    soon = make_booking(db, client=make_client(db), therapist=week.tara,
                        service=week.service, start=week.clear.starts_at
                        - timedelta(hours=3))  # NOW + 1 h
    path = f"/schedule/clinic/bookings/{soon.id}/therapist"
    assert offered(client.get(path).get_data(as_text=True)) == ["Sam Patel"]
    assert client.post(path, data={"therapist_id": week.sam.user_id}
                       ).status_code == 302
    db.expire_all()
    assert db.get(Booking, soon.id).therapist_id == week.sam.user_id
