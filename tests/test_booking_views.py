"""The client's booking pages with the test client: the whole flow, the race
loser's page, the cut-off, other people's bookings and tampered forms."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic import clock
from clinic.audit.models import AuditEvent
from clinic.booking.models import Booking, BookingStatus
from clinic.intake.services import result_of
from clinic.mail.models import OutboxMessage
from tests import factories
from tests.factories import (
    BLEEDING_RISK_ANSWERS,
    NOW,
    WED_10,
    World,
    make_booking,
    make_client,
    make_intake,
    make_rescreen,
)

world = factories.world


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> Callable[[datetime], None]:
    """The pages' clock reads NOW unless a test moves it."""

    def set_now(moment: datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    set_now(NOW)
    return set_now


@pytest.fixture
def client_in(client: FlaskClient, login: Callable[..., None],
              world: World) -> FlaskClient:
    login(world.client)
    return client


def page_text(response: Any) -> str:
    html = response.get_data(as_text=True)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def slot_values(response: Any) -> list[str]:
    return re.findall(r'name="start" value="([^"]+)"',
                      response.get_data(as_text=True))


def confirm_data(world: World, **overrides: Any) -> dict[str, Any]:
    return {"service_id": world.service.id, "technique": "swedish",
            "therapist_id": world.therapist.user_id, "start": WED_10.isoformat(),
            "screening_id": world.screening.id, **overrides}


def times_url(world: World, **overrides: Any) -> str:
    args = {"service": world.service.id, "technique": "swedish",
            "therapist": world.therapist.user_id, "screening": world.screening.id,
            **overrides}
    return "/booking/times?" + "&".join(f"{k}={v}" for k, v in args.items())


def bookings(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Booking)) or 0


# --- the flow --------------------------------------------------------------------


def test_start_preselects_the_suggestion_and_sends_to_the_safety_questions(
    client_in: FlaskClient, world: World
) -> None:
    page = client_in.get("/booking/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert re.search(r'<input[^>]*checked[^>]*value="swedish"|'
                     r'<input[^>]*value="swedish"[^>]*checked', html)
    assert "Swedish massage (suggested)" in html
    assert "Swedish massage is suggested as a starting point" in html
    assert "Back massage: 60 minutes, £45.00" in html
    response = client_in.get("/booking/", query_string={
        "service": world.service.id, "technique": "trigger_point", "therapist": ""})
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/intake/rescreen"
    assert parse_qs(target.query)["next"] == [
        f"/booking/times?service={world.service.id}&technique=trigger_point&therapist="
    ]


def test_start_refuses_an_unknown_service_or_a_therapist_who_does_not_offer_it(
    client_in: FlaskClient, db: Session, world: World
) -> None:
    other = factories.make_therapist(db, name="Nat Other", techniques=["swedish"])
    page = client_in.get("/booking/", query_string={
        "service": "999", "technique": "swedish", "therapist": ""})
    assert page.status_code == 200
    assert "Please choose a service." in page_text(page)
    page = client_in.get("/booking/", query_string={
        "service": world.service.id, "technique": "swedish",
        "therapist": other.user_id})
    assert page.status_code == 200
    assert ("That therapist does not offer this service with this technique."
            in page_text(page))


def test_start_says_what_is_missing(
    client_in: FlaskClient, db: Session, world: World
) -> None:
    hot = factories.make_service(db, name="Hot stones")  # two: none preselected
    factories.make_therapist(db, services=[hot])
    page = client_in.get("/booking/", query_string={"technique": "swedish"})
    assert page.status_code == 200
    assert "Please choose a service." in page_text(page)


def test_start_with_fresh_answers_goes_straight_to_the_times(
    client_in: FlaskClient, world: World
) -> None:
    page = client_in.get("/booking/", query_string={"screening": world.screening.id})
    assert "Next: choose a time" in page_text(page)
    response = client_in.get("/booking/", query_string={
        "service": world.service.id, "technique": "swedish", "therapist": "",
        "screening": world.screening.id})
    assert response.headers["Location"] == (
        f"/booking/times?service={world.service.id}&technique=swedish&therapist="
        f"&screening={world.screening.id}")


def test_start_when_the_last_answers_put_booking_on_hold(
    client_in: FlaskClient, db: Session, world: World
) -> None:
    held = make_rescreen(db, world.client, now=NOW, answers=factories.REFER_ANSWERS)
    page = client_in.get("/booking/")
    text = page_text(page)
    assert " ".join(result_of(held).client_messages) in text
    assert "Answer the safety questions" in text
    assert 'name="technique"' not in page.get_data(as_text=True)


def test_start_without_an_intake_asks_for_the_questionnaire(
    client: FlaskClient, login: Callable[..., None], db: Session, world: World
) -> None:
    login(make_client(db))
    page = client.get("/booking/")
    assert "Please complete the health questionnaire before you book." in page_text(
        page)
    assert "<form" not in page.get_data(as_text=True).split("<main", 1)[1]


def test_times_lists_free_slots_by_local_day(
    client_in: FlaskClient, world: World
) -> None:
    page = client_in.get(times_url(world))
    assert page.status_code == 200
    values = slot_values(page)
    # Monday: 2 hours' notice from 09:00, so 11:00 to 16:00 every 15 minutes.
    assert values[0] == "2027-03-22T11:00:00+00:00"
    assert values[20] == "2027-03-22T16:00:00+00:00"
    assert values[21] == "2027-03-23T09:00:00+00:00"
    # Sunday 28 March: the clocks go forward, 09:00 BST is 08:00 UTC.
    assert values[-29] == "2027-03-28T08:00:00+00:00"
    assert len(values) == 21 + 6 * 29
    text = page_text(page)
    assert "Monday 22 March" in text and "Sunday 28 March" in text
    assert "Swedish massage is suggested as a starting point" in text
    later = client_in.get(times_url(world, week=1))
    assert slot_values(later)[0] == "2027-03-29T08:00:00+00:00"


def test_the_whole_flow_books_shows_downloads_and_cancels(
    client_in: FlaskClient, db: Session, world: World, smtp_sink: Any
) -> None:
    response = client_in.post("/booking/confirm", data=confirm_data(world))
    assert response.status_code == 302
    booking = db.scalar(select(Booking))
    assert response.headers["Location"] == f"/booking/{booking.id}"
    detail = client_in.get(f"/booking/{booking.id}")
    text = page_text(detail)
    assert "Your Back massage is booked for Wed 24 Mar 2027, 10:00 GMT." in text
    assert "Wed 24 Mar 2027, 10:00 GMT to 11:00 GMT" in text
    assert "Alex Therapist" in text and "Swedish massage" in text
    ics = client_in.get(f"/booking/{booking.id}.ics")
    assert ics.status_code == 200
    assert ics.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert ics.headers["Content-Disposition"] == (
        f'attachment; filename="booking-{booking.id}.ics"')
    body = ics.get_data(as_text=True)
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert "DTSTART:20270324T100000Z\r\n" in body
    mine = page_text(client_in.get("/booking/mine"))
    assert ("Upcoming Wed 24 Mar 2027, 10:00 GMT Confirmed Back massage, "
            "Swedish massage, with ") in mine
    cancelled = client_in.post(f"/booking/{booking.id}/cancel", data={"reason": ""})
    assert cancelled.headers["Location"] == f"/booking/{booking.id}"
    db.expire_all()
    assert db.get(Booking, booking.id).status is BookingStatus.CANCELLED
    after = page_text(client_in.get(f"/booking/{booking.id}"))
    assert "Your session is cancelled." in after and "Cancel this session" not in after
    subjects = [m["Subject"] for m in smtp_sink.to(world.client.email)]
    assert [s.split(":")[0] for s in subjects] == ["Booked", "Cancelled"]


def test_reschedule_offers_times_and_moves_the_booking(
    client_in: FlaskClient, db: Session, world: World
) -> None:
    booking = make_booking(db, client=world.client, therapist=world.therapist,
                           service=world.service, start=WED_10,
                           screening=world.screening)
    page = client_in.get(f"/booking/{booking.id}/reschedule")
    assert page.status_code == 200
    values = slot_values(page)
    # Its own time counts as free (10:15 overlaps it and is offered), but
    # where it is now is not offered as a move.
    assert (WED_10 + timedelta(minutes=15)).isoformat() in values
    assert WED_10.isoformat() not in values
    new_start = WED_10 + timedelta(days=1, hours=3)
    moved = client_in.post(f"/booking/{booking.id}/reschedule", data={
        "start": new_start.isoformat(), "therapist_id": ""})
    assert moved.headers["Location"] == f"/booking/{booking.id}"
    db.expire_all()
    stored = db.get(Booking, booking.id)
    assert (stored.starts_at, stored.screening_id) == (new_start, world.screening.id)
    assert "Your session has moved to Thu 25 Mar 2027, 13:00 GMT." in page_text(
        client_in.get(f"/booking/{booking.id}"))


def test_the_race_loser_sees_nearby_free_times(
    client_in: FlaskClient, db: Session, world: World
) -> None:
    assert WED_10.isoformat() in slot_values(client_in.get(times_url(world)))
    # Between the page and the click, someone else books that time.
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=WED_10)
    page = client_in.post("/booking/confirm", data=confirm_data(world))
    assert page.status_code == 200
    text = page_text(page)
    assert "That time was just taken" in text
    # The closest free times that day: busy with the buffer until 11:15.
    assert slot_values(page) == [
        f"2027-03-24T{t}:00+00:00"
        for t in ("11:15", "11:30", "11:45", "12:00", "12:15", "12:30")
    ]
    html = page.get_data(as_text=True)
    assert f'name="screening_id" type="hidden" value="{world.screening.id}"' in html
    assert bookings(db) == 1


def test_a_reschedule_to_a_time_just_taken_offers_nearby_times(
    client_in: FlaskClient, db: Session, world: World
) -> None:
    booking = make_booking(db, client=world.client, therapist=world.therapist,
                           service=world.service, start=WED_10,
                           screening=world.screening)
    thursday = WED_10 + timedelta(days=1)
    make_booking(db, client=make_client(db), therapist=world.therapist,
                 service=world.service, start=thursday)
    page = client_in.post(f"/booking/{booking.id}/reschedule", data={
        "start": thursday.isoformat(), "therapist_id": world.therapist.user_id})
    assert page.status_code == 200
    assert "That time was just taken" in page_text(page)
    html = page.get_data(as_text=True)
    assert f'action="/booking/{booking.id}/reschedule"' in html
    assert slot_values(page)[:2] == ["2027-03-25T11:15:00+00:00",
                                     "2027-03-25T11:30:00+00:00"]
    db.expire_all()
    assert db.get(Booking, booking.id).starts_at == WED_10


# --- cut-off and access ------------------------------------------------------------


def test_after_the_cutoff_the_page_says_to_call(
    client_in: FlaskClient, db: Session, world: World,
    fixed_clock: Callable[[datetime], None],
) -> None:
    booking = make_booking(db, client=world.client, therapist=world.therapist,
                           service=world.service, start=WED_10)
    fixed_clock(WED_10 - timedelta(hours=23))
    call = ("It is less than 24 hours before the session, so it can no longer be "
            "changed online. Please call the clinic on 020 7946 0000.")
    text = page_text(client_in.get(f"/booking/{booking.id}"))
    assert call in text
    assert "Cancel this session" not in text and "Choose another time" not in text
    refused = client_in.post(f"/booking/{booking.id}/cancel", data={"reason": ""})
    assert refused.status_code == 200 and call in page_text(refused)
    moved = client_in.post(f"/booking/{booking.id}/reschedule", data={
        "start": (WED_10 + timedelta(days=1)).isoformat()})
    assert moved.status_code == 200 and call in page_text(moved)
    assert client_in.get(f"/booking/{booking.id}/reschedule").status_code == 302
    db.expire_all()
    assert db.get(Booking, booking.id).starts_at == WED_10
    assert db.get(Booking, booking.id).status is BookingStatus.CONFIRMED


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/booking/{id}"), ("get", "/booking/{id}.ics"),
    ("post", "/booking/{id}/cancel"), ("get", "/booking/{id}/reschedule"),
    ("post", "/booking/{id}/reschedule"),
])
def test_another_clients_booking_is_not_found(
    client_in: FlaskClient, db: Session, world: World, method: str, path: str
) -> None:
    other = make_booking(db, client=make_client(db), therapist=world.therapist,
                         service=world.service, start=WED_10)
    response = getattr(client_in, method)(path.format(id=other.id), data={
        "start": (WED_10 + timedelta(days=1)).isoformat()})
    assert response.status_code == 404
    db.expire_all()
    assert db.get(Booking, other.id).status is BookingStatus.CONFIRMED


@pytest.mark.parametrize("booking_id", ["2147483648", "99999999999999999999"])
@pytest.mark.parametrize(("method", "path"), [
    ("get", "/booking/{id}"), ("get", "/booking/{id}.ics"),
    ("post", "/booking/{id}/cancel"), ("get", "/booking/{id}/reschedule"),
    ("post", "/booking/{id}/reschedule"),
])
def test_an_id_beyond_any_booking_is_not_found(
    client_in: FlaskClient, method: str, path: str, booking_id: str
) -> None:
    """Not a 500: SQLite cannot take an integer above 2**63, PostgreSQL's
    integer column stops at 2**31 - 1."""
    response = getattr(client_in, method)(path.format(id=booking_id))
    assert response.status_code == 404


def test_staff_cannot_use_the_client_pages(
    client: FlaskClient, login: Callable[..., None], world: World
) -> None:
    login(world.therapist.user)
    assert client.get("/booking/").status_code == 403


# --- tampering -----------------------------------------------------------------------


@pytest.mark.parametrize(("overrides", "message"), [
    ({"start": "not-a-date"},
     "That time could not be read. Please choose one of the times shown."),
    ({"start": "2027-03-24T10:00:00"},
     "That time could not be read. Please choose one of the times shown."),
    ({"start": "9999-12-31T23:00:00-05:00"},
     "That time could not be read. Please choose one of the times shown."),
    ({"start": "9999-12-31T10:00:00+00:00"},
     "Sessions can be booked up to 56 days ahead. Please choose an earlier time."),
    ({"start": ""}, "Please choose a time."),
    ({"service_id": "999999"}, "That service is not available to book."),
    ({"service_id": "abc"}, "Please choose a service."),
    ({"service_id": "99999999999999999999"}, "Please choose a service."),
    ({"therapist_id": "999999"}, "That therapist is not taking bookings."),
    ({"therapist_id": "-3"}, "Please choose a therapist from the list."),
    ({"technique": "x" * 30}, "Please use at most 20 characters."),
    ({"technique": "swe\x00dish"}, "Please remove unusual characters."),
    ({"technique": "hot_stones"},
     "hot_stones is not suitable after your safety answers. Please choose one of "
     "the techniques offered."),
    ({"screening_id": ""},
     "Please answer the safety questions for this booking first."),
    ({"screening_id": "1x"}, "Please answer the safety questions again."),
])
def test_tampered_confirm_values_get_a_friendly_sentence(
    client_in: FlaskClient, db: Session, world: World, overrides: dict[str, str],
    message: str,
) -> None:
    response = client_in.post("/booking/confirm", data=confirm_data(world, **overrides))
    assert response.status_code == 200
    assert message in page_text(response)
    assert bookings(db) == 0
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.record_type == "booking")) == 0


def test_an_excluded_technique_is_refused_on_confirm_and_replaced_on_times(
    client_in: FlaskClient, db: Session, world: World
) -> None:
    make_intake(db, world.client, now=NOW, answers=BLEEDING_RISK_ANSWERS)
    screening = make_rescreen(db, world.client, now=NOW, answers=BLEEDING_RISK_ANSWERS)
    refused = client_in.post("/booking/confirm", data=confirm_data(
        world, technique="deep_tissue", screening_id=screening.id))
    assert ("Deep tissue massage is not suitable after your safety answers."
            in page_text(refused))
    page = client_in.get(times_url(world, technique="deep_tissue",
                                   screening=screening.id))
    text = page_text(page)
    assert ("Deep tissue massage is not suitable after your safety answers, so we "
            "show times for Swedish massage.") in text
    assert 'value="deep_tissue"' not in page.get_data(as_text=True)
    assert bookings(db) == 0


@pytest.mark.parametrize(("query", "message"), [
    ({"service": "abc"}, "Please choose a service first."),
    ({"service": "999999"}, "That service is not available to book."),
    ({"technique": ""}, "Please choose a technique first."),
    ({"screening": ""}, "Please answer the safety questions for this booking first."),
])
def test_tampered_times_queries_get_a_friendly_sentence(
    client_in: FlaskClient, world: World, query: dict[str, str], message: str
) -> None:
    page = client_in.get(times_url(world, **query))
    assert page.status_code == 200
    assert message in page_text(page)


def test_odd_weeks_fall_back_to_a_page_that_exists(
    client_in: FlaskClient, world: World
) -> None:
    first = slot_values(client_in.get(times_url(world)))
    assert slot_values(client_in.get(times_url(world, week="abc"))) == first
    last = client_in.get(times_url(world, week="999"))
    # The horizon is 56 days after Monday 09:00 UTC: Monday 17 May, 10:00 BST
    # (week 8). That day's hours start at 09:00 BST.
    assert slot_values(last) == [
        f"2027-05-17T{t}:00+00:00" for t in ("08:00", "08:15", "08:30", "08:45",
                                             "09:00")
    ]


# --- daylight saving -------------------------------------------------------------


def dst_world(db: Session, world: World, now: datetime, hours: tuple[Any, ...]) -> None:
    therapist = world.therapist
    therapist.hours.clear()
    db.commit()
    for weekday, start, end in hours:
        therapist.hours.append(factories.WorkingHours(weekday=weekday, start=start,
                                                      end=end))
    db.commit()
    world.screening = make_rescreen(db, world.client, now=now)


def test_a_booking_on_the_spring_forward_day(
    client_in: FlaskClient, db: Session, world: World,
    fixed_clock: Callable[[datetime], None],
) -> None:
    from datetime import time

    now = datetime(2027, 3, 26, 9, tzinfo=UTC)
    fixed_clock(now)
    dst_world(db, world, now, ((6, time(0, 30), time(4)),))
    page = client_in.get(times_url(world))
    labels = re.findall(r'name="start" value="2027-03-2[78][^"]*">([^<]+)<',
                        page.get_data(as_text=True))
    # 01:00-02:00 never happens that night.
    assert labels == ["00:30", "00:45", "02:00", "02:15", "02:30", "02:45", "03:00"]
    start = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)
    response = client_in.post("/booking/confirm", data=confirm_data(
        world, start=start.isoformat()))
    booking_id = int(response.headers["Location"].rsplit("/", 1)[1])
    text = page_text(client_in.get(f"/booking/{booking_id}"))
    assert "Sun 28 Mar 2027, 00:30 GMT to 02:30 BST" in text
    db.expire_all()
    stored = db.get(Booking, booking_id)
    assert stored.ends_at - stored.starts_at == timedelta(hours=1)


def test_a_booking_in_the_repeated_hour_of_autumn(
    client_in: FlaskClient, db: Session, world: World,
    fixed_clock: Callable[[datetime], None],
) -> None:
    from datetime import time

    now = datetime(2027, 10, 29, 9, tzinfo=UTC)
    fixed_clock(now)
    dst_world(db, world, now, ((6, time(0), time(3)),))
    page = client_in.get(times_url(world))
    html = page.get_data(as_text=True)
    labels = re.findall(r'name="start" value="2027-10-3[01][^"]*">([^<]+)<', html)
    assert labels == [
        "00:00", "00:15", "00:30", "00:45",
        "01:00 (GMT+01:00)", "01:15 (GMT+01:00)", "01:30 (GMT+01:00)",
        "01:45 (GMT+01:00)", "01:00 (GMT+00:00)", "01:15 (GMT+00:00)",
        "01:30 (GMT+00:00)", "01:45 (GMT+00:00)", "02:00",
    ]
    second_half_past_one = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    response = client_in.post("/booking/confirm", data=confirm_data(
        world, start=second_half_past_one.isoformat()))
    booking_id = int(response.headers["Location"].rsplit("/", 1)[1])
    text = page_text(client_in.get(f"/booking/{booking_id}"))
    assert "Sun 31 Oct 2027, 01:30 GMT to 02:30 GMT" in text
    db.expire_all()
    stored = db.get(Booking, booking_id)
    assert (stored.starts_at, stored.ends_at - stored.starts_at) == (
        second_half_past_one, timedelta(hours=1))
