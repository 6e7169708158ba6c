"""A therapist's day and week, their private calendar feed, and who may see
what. Helpers here are shared by the other ``test_schedule_*`` modules."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic import clock
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.booking.models import Booking, BookingStatus, Service, Therapist
from clinic.intake.models import Screening
from clinic.intake.services import acknowledge
from tests.factories import (
    BLEEDING_RISK_ANSWERS,
    make_booking,
    make_client,
    make_intake,
    make_service,
    make_therapist,
)
from tests.test_ics import parse_ics, utc

# Wednesday 24 March 2027, 10:00 GMT; the clocks go forward on Sunday 28th.
NOW = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[datetime]:
    monkeypatch.setattr(clock, "now", lambda: NOW)
    yield NOW


@dataclass
class Week:
    """Two therapists' sessions around NOW."""

    tara: Therapist
    sam: Therapist
    service: Service
    clear: Booking  # Tara, Wed 14:00 GMT, clear screening
    caution: Booking  # Tara, Wed 09:00 GMT (already started), caution pending
    acknowledged: Booking  # Tara, Sun 28 Mar 12:00 UTC = 13:00 BST, acknowledged
    sams: Booking  # Sam, Wed 15:00
    later: Booking  # Tara, next Monday
    cancelled: Booking  # Tara, Thu, cancelled


def _client_with(db: Session, name: str, caution: bool = False) -> tuple[User,
                                                                         Screening]:
    client = make_client(db, full_name=name)
    if caution:
        return client, make_intake(db, client, now=NOW, answers=BLEEDING_RISK_ANSWERS)
    return client, make_intake(db, client, now=NOW)


@pytest.fixture(name="week")
def week_fixture(db: Session) -> Week:
    service = make_service(db, name="Sciatica relief", duration=60)
    tara = make_therapist(db, name="Tara Jones", services=[service])
    sam = make_therapist(db, name="Sam Patel", services=[service])

    def book(therapist: Therapist, name: str, start: datetime, caution: bool = False,
             status: BookingStatus = BookingStatus.CONFIRMED) -> Booking:
        client, screening = _client_with(db, name, caution)
        return make_booking(db, client=client, therapist=therapist, service=service,
                            start=start, screening=screening, status=status,
                            technique="swedish")

    acknowledged = book(tara, "Avery Acked", datetime(2027, 3, 28, 12, tzinfo=UTC),
                        caution=True)
    acknowledge(db, db.get(Screening, acknowledged.screening_id), tara.user, NOW)
    db.commit()
    return Week(
        tara=tara, sam=sam, service=service,
        clear=book(tara, "Chris Clear", NOW + timedelta(hours=4)),
        caution=book(tara, "Casey Caution", NOW - timedelta(hours=1), caution=True),
        acknowledged=acknowledged,
        sams=book(sam, "Sasha Other", NOW + timedelta(hours=5)),
        later=book(tara, "Nell Nextweek", datetime(2027, 3, 29, 9, tzinfo=UTC)),
        cancelled=book(tara, "Carl Cancelled", NOW + timedelta(days=1),
                       caution=True, status=BookingStatus.CANCELLED),
    )


def row_for(page: str, text: str) -> str:
    """The table row of the page that mentions ``text``."""
    rows = [r for r in re.findall(r"<tr\b.*?</tr>", page, re.S) if text in r]
    assert len(rows) == 1, f"{len(rows)} rows mention {text!r}"
    return rows[0]


def visible_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def audit_rows(db: Session, action: str) -> list[AuditEvent]:
    return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                           .order_by(AuditEvent.id)))


# ---------------------------------------------------------------- week and day


def test_a_therapist_sees_their_week_with_screening_status(
    client: FlaskClient, login: Callable[[User], None], week: Week
) -> None:
    login(week.tara.user)
    page = client.get("/schedule/me").get_data(as_text=True)

    assert "Monday 22 March to Sunday 28 March 2027" in page
    assert [visible_text(h) for h in re.findall(r"<h2[^>]*>.*?</h2>", page, re.S)] == [
        "Monday 22 March", "Tuesday 23 March", "Wednesday 24 March Today",
        "Thursday 25 March", "Friday 26 March", "Saturday 27 March", "Sunday 28 March",
    ]
    clear = visible_text(row_for(page, "Chris Clear"))
    assert clear == ("14:00\N{EN DASH}15:00 GMT Chris Clear Sciatica relief "
                     "Swedish massage — Confirmed Clear")
    pending = row_for(page, "Casey Caution")
    assert "Caution: awaiting acknowledgement" in pending
    assert (f'href="/intake/clients/{week.caution.client_id}'
            f'#screening-{week.caution.screening_id}"') in pending
    acked = visible_text(row_for(page, "Avery Acked"))
    assert acked.startswith("13:00\N{EN DASH}14:00 BST Avery Acked")
    assert acked.endswith("Caution: acknowledged")
    assert f'href="/intake/clients/{week.clear.client_id}"' in row_for(
        page, "Chris Clear")
    cancelled = row_for(page, "Carl Cancelled")
    assert visible_text(cancelled).endswith("Cancelled Caution")  # nothing to do
    assert "#screening-" not in cancelled
    assert "Sasha Other" not in page  # another therapist's client
    assert "Nell Nextweek" not in page  # next week


def test_week_navigation_and_a_chosen_week(
    client: FlaskClient, login: Callable[[User], None], week: Week
) -> None:
    login(week.tara.user)
    page = client.get("/schedule/me?week=2027-03-31").get_data(as_text=True)
    assert "Monday 29 March to Sunday 4 April 2027" in page
    assert "Nell Nextweek" in page
    assert "Chris Clear" not in page
    assert 'href="/schedule/me?week=2027-03-22"' in page
    assert 'href="/schedule/me?week=2027-04-05"' in page
    this_week = client.get("/schedule/me").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="week"[^>]*value="2027-03-24"', this_week)
    mistyped = client.get("/schedule/me?week=soon").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="week"[^>]*value="soon"', mistyped)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("week=soon", "Please enter a date like 2027-03-28."),
        ("week=2027-02-30", "Please enter a date like 2027-03-28."),
        ("week=9999-12-31", "Please choose a date between 2000 and 2100."),
        ("week=" + "9" * 5000, "Please enter a date like 2027-03-28."),
        ("week=2027-03-2%00", "Please enter a date like 2027-03-28."),
    ],
)
def test_a_bad_week_explains_and_shows_this_week(
    client: FlaskClient, login: Callable[[User], None], week: Week, query: str,
    message: str,
) -> None:
    login(week.tara.user)
    response = client.get(f"/schedule/me?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page
    assert "Monday 22 March to Sunday 28 March 2027" in page


def test_the_day_view_offers_no_show_only_once_a_session_started(
    client: FlaskClient, login: Callable[[User], None], week: Week
) -> None:
    login(week.tara.user)
    page = client.get("/schedule/me/day").get_data(as_text=True)
    assert "<h1>Today, 24 March 2027</h1>" in page
    assert "2 sessions." in page
    started = row_for(page, "Casey Caution")
    assert f'action="/schedule/bookings/{week.caution.id}/no-show"' in started
    assert "no-show" not in row_for(page, "Chris Clear")

    sunday = client.get("/schedule/me/day?date=2027-03-28").get_data(as_text=True)
    assert "<h1>Sunday, 28 March 2027</h1>" in sunday
    assert "Avery Acked" in sunday and "Chris Clear" not in sunday


def test_a_therapist_records_a_no_show_for_their_own_session(
    client: FlaskClient, db: Session, login: Callable[[User], None], week: Week
) -> None:
    login(week.tara.user)
    response = client.post(f"/schedule/bookings/{week.caution.id}/no-show",
                           data={"next": "/schedule/me/day?date=2027-03-24"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/schedule/me/day?date=2027-03-24"
    db.expire_all()
    assert db.get(Booking, week.caution.id).status is BookingStatus.NO_SHOW
    [event] = audit_rows(db, "no_show")
    assert (event.actor_id, event.record_id) == (week.tara.user_id, week.caution.id)

    again = client.post(f"/schedule/bookings/{week.caution.id}/no-show",
                        follow_redirects=True).get_data(as_text=True)
    assert "Only a confirmed session can be marked as a no-show." in again


def test_no_show_is_refused_before_the_start_and_for_others(
    client: FlaskClient, db: Session, login: Callable[[User], None], week: Week
) -> None:
    login(week.tara.user)
    early = client.post(f"/schedule/bookings/{week.clear.id}/no-show",
                        follow_redirects=True)
    assert "only after its start time" in early.get_data(as_text=True)
    assert client.post(f"/schedule/bookings/{week.sams.id}/no-show").status_code == 404
    assert client.post("/schedule/bookings/99999/no-show").status_code == 404
    assert client.post(f"/schedule/bookings/{2**40}/no-show").status_code == 404
    db.expire_all()
    assert db.get(Booking, week.clear.id).status is BookingStatus.CONFIRMED
    assert db.get(Booking, week.sams.id).status is BookingStatus.CONFIRMED


@pytest.mark.parametrize("path", ["/schedule/me", "/schedule/me/day",
                                  "/schedule/me/calendar"])
def test_therapist_pages_are_for_therapists_only(
    client: FlaskClient, make_user: Callable[..., User],
    login: Callable[[User], None], path: str,
) -> None:
    assert client.get(path).status_code == 302  # to the login page
    login(make_user(Role.CLIENT))
    assert client.get(path).status_code == 403
    client.post("/logout")
    login(make_user(Role.ADMIN))
    assert client.get(path).status_code == 403


def test_a_therapist_without_a_profile_sees_an_empty_week(
    client: FlaskClient, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    login(make_user(Role.THERAPIST))
    assert client.get("/schedule/me").status_code == 200
    page = client.get("/schedule/me/calendar").get_data(as_text=True)
    assert "Your therapist profile has not been set up yet." in page
    assert client.post("/schedule/me/calendar").status_code == 404


# ---------------------------------------------------------------- feed


def _token(db: Session, therapist: Therapist) -> str | None:
    db.expire_all()
    return db.get(Therapist, therapist.user_id).calendar_token


def test_a_therapist_creates_and_replaces_their_feed_link(
    client: FlaskClient, db: Session, login: Callable[[User], None], week: Week
) -> None:
    login(week.tara.user)
    page = client.get("/schedule/me/calendar").get_data(as_text=True)
    assert "Create my calendar link" in page

    assert client.post("/schedule/me/calendar").status_code == 302
    first = _token(db, week.tara)
    assert first is not None and len(first) >= 43
    assert re.fullmatch(r"[A-Za-z0-9_-]+", first)
    page = client.get("/schedule/me/calendar").get_data(as_text=True)
    assert f'value="http://clinic.test/schedule/feed/{first}.ics"' in page
    assert client.get(f"/schedule/feed/{first}.ics").status_code == 200

    client.post("/schedule/me/calendar")
    second = _token(db, week.tara)
    assert second != first
    assert client.get(f"/schedule/feed/{first}.ics").status_code == 404
    assert client.get(f"/schedule/feed/{second}.ics").status_code == 200
    assert [e.action for e in audit_rows(db, "create") + audit_rows(db, "regenerate")
            if e.record_type == "calendar_feed"] == ["create", "regenerate"]


def test_the_feed_lists_the_therapists_sessions_without_personal_details(
    client: FlaskClient, db: Session, week: Week
) -> None:
    long_ago = make_booking(db, client=make_client(db, full_name="Old Timer"),
                            therapist=week.tara, service=week.service,
                            start=NOW - timedelta(days=31))
    recent = make_booking(db, client=make_client(db, full_name="Rita Recent Past"),
                          therapist=week.tara, service=week.service,
                          start=NOW - timedelta(days=29),
                          status=BookingStatus.COMPLETED)
    week.tara.calendar_token = "t" * 43
    db.add(week.tara)
    db.commit()

    response = client.get(f"/schedule/feed/{'t' * 43}.ics")  # no login needed
    assert response.status_code == 200
    assert response.content_type == "text/calendar; charset=utf-8"
    assert response.headers["Cache-Control"] == "private, no-cache"
    calendar = parse_ics(response.get_data())
    events = {e.get("UID"): e for e in calendar.children}
    expected = [recent, week.caution, week.clear, week.acknowledged, week.later]
    assert list(events) == [f"booking-{b.id}@clinic.test" for b in expected]
    clear = events[f"booking-{week.clear.id}@clinic.test"]
    assert clear.text("SUMMARY") == "Chris C.: Sciatica relief"
    assert utc(clear.get("DTSTART")) == week.clear.starts_at
    body = response.get_data(as_text=True)
    for hidden in ("Clear", "Caution", "Sasha", "Carl", "Old Timer", "@example.com",
                   "07700"):
        assert hidden not in body
    assert long_ago.id not in [int(uid.split("-")[1].split("@")[0]) for uid in events]


@pytest.mark.parametrize("token", ["x" * 43, "short", "t" * 43 + "!", "t" * 200])
def test_unknown_or_malformed_feed_tokens_are_not_found(
    client: FlaskClient, db: Session, week: Week, token: str
) -> None:
    week.tara.calendar_token = "t" * 43
    db.add(week.tara)
    db.commit()
    assert client.get(f"/schedule/feed/{token}.ics").status_code == 404


def test_an_inactive_therapists_feed_stops(
    client: FlaskClient, db: Session, week: Week
) -> None:
    week.tara.calendar_token = "t" * 43
    week.tara.active = False
    db.add(week.tara)
    db.commit()
    assert client.get(f"/schedule/feed/{'t' * 43}.ics").status_code == 404


# ---------------------------------------------------------------- home page


def test_the_therapist_home_shows_today_then_the_next_session_and_the_queue(
    client: FlaskClient, week: Week, login: Callable[[User], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    login(week.tara.user)
    home = client.get("/therapist").get_data(as_text=True)
    assert "<h1>Today, Wednesday 24 March 2027</h1>" in home  # a date: no zone
    today = visible_text(home)
    assert "Chris Clear" in today and "Your next session" not in today

    # Friday: nothing booked; Sunday's session is next (in summer time).
    monkeypatch.setattr(clock, "now", lambda: NOW + timedelta(days=2))
    page = client.get("/therapist").get_data(as_text=True)
    assert ('Your next session: <a href="/schedule/me/day?date=2027-03-28">Sun 28 Mar '
            "2027, 13:00 BST</a>, Avery Acked (Sciatica relief).") in page
    assert ("Screening review 0 urgent alerts 0 awaiting clearance 2 to acknowledge "
            "Open the review queue") in visible_text(page)
