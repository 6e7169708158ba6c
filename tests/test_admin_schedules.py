"""Working hours, time off and closures: validated in the clinic's local
time, and never dropping a booked session without the admin's decision."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.booking.models import (
    BookingStatus,
    Closure,
    Therapist,
    TimeOff,
    WorkingHours,
)
from tests.factories import make_booking, make_client, make_therapist, make_time_off
from tests.smtp import SmtpSink
from tests.test_admin_support import (
    FALL_BACK,
    NOW,
    SPRING_FORWARD,
    at,
    audit_rows,
    fix_clock,
    log_in_admin,
    page,
    reread,
    therapist_with_booking,
)

TUESDAY = date(2027, 3, 23)
TUESDAY_10 = at(TUESDAY, 10)  # 10:00 GMT


@pytest.fixture(autouse=True)
def admin(monkeypatch: pytest.MonkeyPatch, make_user: Callable[..., User],
          login: Callable[[User], None]) -> User:
    fix_clock(monkeypatch)
    return log_in_admin(make_user, login)


def _hours(db: Session, therapist: Therapist) -> list[tuple[int, time, time]]:
    db.expire_all()
    rows = db.scalars(select(WorkingHours)
                      .where(WorkingHours.therapist_id == therapist.user_id)
                      .order_by(WorkingHours.weekday, WorkingHours.start))
    return [(h.weekday, h.start, h.end) for h in rows]


def _grid(*intervals: tuple[int, int, str, str]) -> dict[str, str]:
    """Form data: (weekday, interval number, start, end)."""
    data: dict[str, str] = {}
    for day, n, start, end in intervals:
        data[f"d{day}_{n}_start"], data[f"d{day}_{n}_end"] = start, end
    return data


SPLIT_MONDAY = _grid((0, 0, "09:00", "12:30"), (0, 1, "13:30", "17:00"))


# ---------------------------------------------------------------- hours


def test_admin_sets_several_intervals_a_day(
    client: FlaskClient, db: Session, admin: User
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    url = f"/admin/therapists/{therapist.user_id}/hours"
    assert 'value="09:00"' in page(client.get(url))  # the factory's 09:00-17:00
    response = client.post(url, data={**SPLIT_MONDAY,
                                      **_grid((2, 0, "10:00", "18:00"))})
    assert response.status_code == 302
    assert _hours(db, therapist) == [
        (0, time(9), time(12, 30)), (0, time(13, 30), time(17)),
        (2, time(10), time(18))]
    (event,) = audit_rows(db, "hours")
    assert (event.action, event.record_id, event.actor_id, event.detail) == (
        "update", therapist.user_id, admin.id,
        "0 bookings cancelled, 0 kept outside hours")


@pytest.mark.parametrize(("data", "field", "message"), [
    (_grid((0, 0, "09:00", "12:30"), (0, 1, "12:00", "17:00")), "d0_1_start",
     "This overlaps 09:00 to 12:30 on the same day."),
    (_grid((1, 0, "09:00", "17:00"), (1, 1, "08:00", "18:00")), "d1_1_start",
     "This overlaps 09:00 to 17:00 on the same day."),
    (_grid((0, 0, "09:07", "12:30")), "d0_0_start", "on a 5-minute grid"),
    (_grid((0, 0, "09:00", "12:31")), "d0_0_end", "on a 5-minute grid"),
    (_grid((3, 0, "17:00", "09:00")), "d3_0_end", "The end must be after the start."),
    (_grid((3, 0, "09:00", "09:00")), "d3_0_end", "The end must be after the start."),
    ({"d4_0_start": "09:00"}, "d4_0_end", "Please give both a start and an end"),
    (_grid((5, 0, "25:00", "26:00")), "d5_0_start", "Please enter a time like 09:30."),
    (_grid((6, 0, "09:\x0000", "10:00")), "d6_0_start",
     "Please enter a time like 09:30."),
])
def test_bad_hours_are_explained_at_the_field_and_nothing_is_saved(
    client: FlaskClient, db: Session, data: dict[str, str], field: str, message: str
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    before = _hours(db, therapist)
    response = client.post(f"/admin/therapists/{therapist.user_id}/hours",
                           data=data)
    assert response.status_code == 200
    body = page(response)
    assert f'id="{field}-error"' in body
    assert message in body.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert _hours(db, therapist) == before
    assert audit_rows(db, "hours") == []


def test_hours_are_local_clock_times_across_a_clock_change(
    client: FlaskClient, db: Session
) -> None:
    """Monday 29 March is on BST: a 09:30 session there starts 08:30 UTC, inside
    09:00-17:00 local, so new Monday hours do not affect it."""
    therapist, booking = therapist_with_booking(db, at(date(2027, 3, 29), 9, 30))
    assert booking.starts_at == datetime(2027, 3, 29, 8, 30, tzinfo=UTC)
    response = client.post(f"/admin/therapists/{therapist.user_id}/hours",
                           data=_grid((0, 0, "09:00", "17:00")))
    assert response.status_code == 302
    assert reread(db, booking).status is BookingStatus.CONFIRMED


def test_new_hours_that_leave_a_booking_outside_ask_first(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    before = _hours(db, therapist)
    response = client.post(f"/admin/therapists/{therapist.user_id}/hours",
                           data=SPLIT_MONDAY)
    assert response.status_code == 200
    body = page(response)
    assert "New hours for Tara Jones" in body
    assert "Chris Client" in body and "Tue 23 Mar 2027, 10:00 GMT" in body
    assert "Keep them: they stay booked as exceptions" in body
    assert 'name="d0_1_start" value="13:30"' in body  # the change is carried
    assert _hours(db, therapist) == before
    assert reread(db, booking).status is BookingStatus.CONFIRMED
    assert smtp_sink.messages == []


def test_bookings_outside_new_hours_can_be_kept_as_exceptions(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    response = client.post(f"/admin/therapists/{therapist.user_id}/hours", data={
        **SPLIT_MONDAY, "seen": str(booking.id), "decision": "keep",
        "cancel_reason": ""})
    assert response.status_code == 302
    assert _hours(db, therapist) == [(0, time(9), time(12, 30)),
                                     (0, time(13, 30), time(17))]
    assert reread(db, booking).status is BookingStatus.CONFIRMED
    assert smtp_sink.messages == []
    assert audit_rows(db, "hours")[0].detail == (
        "0 bookings cancelled, 1 kept outside hours")


def test_bookings_outside_new_hours_can_be_cancelled_with_a_reason(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink, admin: User
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    response = client.post(f"/admin/therapists/{therapist.user_id}/hours", data={
        **SPLIT_MONDAY, "seen": str(booking.id), "decision": "cancel",
        "cancel_reason": "Tara now works Mondays only."})
    assert response.status_code == 302
    saved = reread(db, booking)
    assert (saved.status, saved.cancel_reason, saved.cancelled_by_id) == (
        BookingStatus.CANCELLED, "Tara now works Mondays only.", admin.id)
    assert len(smtp_sink.to(booking.client.email)) == 1


def test_choosing_no_option_for_bookings_outside_hours_saves_nothing(
    client: FlaskClient, db: Session
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    before = _hours(db, therapist)
    response = client.post(f"/admin/therapists/{therapist.user_id}/hours",
                           data={**SPLIT_MONDAY, "seen": str(booking.id)})
    assert response.status_code == 200
    assert "Please choose what happens to the bookings." in page(response)
    assert _hours(db, therapist) == before


# ---------------------------------------------------------------- time off


def _period(start: tuple[date, str], end: tuple[date, str], reason: str = "Holiday"
            ) -> dict[str, str]:
    return {"start_date": start[0].isoformat(), "start_time": start[1],
            "end_date": end[0].isoformat(), "end_time": end[1], "reason": reason}


def _time_off(db: Session) -> list[tuple[datetime, datetime, str]]:
    db.expire_all()
    return [(t.starts_at, t.ends_at, t.reason)
            for t in db.scalars(select(TimeOff).order_by(TimeOff.id))]


def test_time_off_is_stored_in_utc_from_local_times(
    client: FlaskClient, db: Session, admin: User
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    response = client.post(
        f"/admin/therapists/{therapist.user_id}/time-off",
        data=_period((date(2027, 4, 5), "09:00"), (date(2027, 4, 9), "17:00")))
    assert response.status_code == 302
    assert _time_off(db) == [(datetime(2027, 4, 5, 8, tzinfo=UTC),
                              datetime(2027, 4, 9, 16, tzinfo=UTC), "Holiday")]
    (event,) = audit_rows(db, "time_off")
    assert (event.action, event.actor_id, event.detail) == (
        "create", admin.id, "0 bookings cancelled")
    listing = page(client.get(response.headers["Location"]))
    assert "Mon 05 Apr 2027, 09:00 BST to Fri 09 Apr 2027, 17:00 BST" in listing


def test_a_start_time_the_clocks_skip_is_refused(
    client: FlaskClient, db: Session
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    response = client.post(
        f"/admin/therapists/{therapist.user_id}/time-off",
        data=_period((SPRING_FORWARD, "01:30"), (SPRING_FORWARD, "12:00")))
    assert response.status_code == 200
    body = page(response)
    error = body.split('id="start_time-error"')[1].split("</p>")[0]
    assert "01:30 on Sun 28 Mar 2027 does not exist: the clocks go forward" in error
    assert _time_off(db) == []


def test_a_repeated_clock_time_takes_the_first_and_says_so(
    client: FlaskClient, db: Session
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    response = client.post(
        f"/admin/therapists/{therapist.user_id}/time-off",
        data=_period((FALL_BACK, "01:30"), (FALL_BACK, "12:00")), follow_redirects=True)
    assert _time_off(db) == [(datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
                              datetime(2027, 10, 31, 12, tzinfo=UTC), "Holiday")]
    assert ("01:30 on Sun 31 Oct 2027 happens twice because the clocks go back; "
            "we used the first one (BST), not the second (GMT).") in page(response)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("start_date", "9999-12-31", "Please choose a date within 3 years of today."),
    ("end_date", "0001-01-01", "Please choose a date within 3 years of today."),
    ("start_date", "2027-02-30", "Please enter a date like 2027-03-28."),
    ("start_date", "", "Please enter the start date."),
    ("end_time", "7pm", "Please enter a time like 17:00."),
    ("end_time", "08:00", "The end must be after the start."),
    ("reason", "Hol\x00iday", "Please remove unusual characters."),
    ("reason", "r" * 201, "Please use at most 200 characters."),
])
def test_bad_periods_are_explained_at_the_field(
    client: FlaskClient, db: Session, field: str, value: str, message: str
) -> None:
    therapist = make_therapist(db, name="Tara Jones")
    data = {**_period((TUESDAY, "09:00"), (TUESDAY, "17:00")), field: value}
    response = client.post(f"/admin/therapists/{therapist.user_id}/time-off",
                           data=data)
    assert response.status_code == 200
    body = page(response)
    assert message in body.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert _time_off(db) == []


def test_time_off_over_a_booking_lists_it_and_changes_nothing(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    therapist_with_booking(db, TUESDAY_10, name="Sam Patel",
                           client_name="Other Client")
    data = _period((TUESDAY, "00:00"), (TUESDAY + timedelta(days=1), "00:00"),
                   reason="Sick")
    response = client.post(f"/admin/therapists/{therapist.user_id}/time-off",
                           data=data)
    assert response.status_code == 200
    body = page(response)
    assert "Add time off" in body and "Nothing has been changed yet." in body
    assert "Chris Client" in body and "Tue 23 Mar 2027, 10:00 GMT" in body
    assert "Other Client" not in body
    assert f'name="seen" type="hidden" value="{booking.id}"' in body
    assert 'name="start_date" value="2027-03-23"' in body
    assert _time_off(db) == []
    assert reread(db, booking).status is BookingStatus.CONFIRMED
    assert smtp_sink.messages == []


def test_time_off_is_added_once_the_admin_cancels_the_bookings(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink, admin: User
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    _, elsewhere = therapist_with_booking(db, TUESDAY_10, name="Sam Patel",
                                              client_name="Other Client")
    data = _period((TUESDAY, "00:00"), (TUESDAY + timedelta(days=1), "00:00"),
                   reason="Sick")
    response = client.post(
        f"/admin/therapists/{therapist.user_id}/time-off",
        data={**data, "seen": str(booking.id), "decision": "cancel",
              "cancel_reason": "Your therapist is unwell."})
    assert response.status_code == 302
    assert _time_off(db) == [(at(TUESDAY, 0), at(TUESDAY + timedelta(days=1), 0),
                              "Sick")]
    saved = reread(db, booking)
    assert (saved.status, saved.cancel_reason, saved.cancelled_by_id,
            saved.cancelled_at) == (BookingStatus.CANCELLED,
                                    "Your therapist is unwell.", admin.id, NOW)
    assert reread(db, elsewhere).status is BookingStatus.CONFIRMED
    (mail,) = smtp_sink.to(booking.client.email)
    assert "Your therapist is unwell." in mail.get_body(
        preferencelist=("plain",)).get_content()
    assert smtp_sink.to(elsewhere.client.email) == []
    assert [e.record_id for e in audit_rows(db, "booking", "cancel")] == [booking.id]
    assert audit_rows(db, "time_off")[0].detail == "1 bookings cancelled"


def test_cancelling_needs_a_reason(client: FlaskClient, db: Session) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)
    data = _period((TUESDAY, "09:00"), (TUESDAY, "17:00"))
    response = client.post(
        f"/admin/therapists/{therapist.user_id}/time-off",
        data={**data, "seen": str(booking.id), "decision": "cancel",
              "cancel_reason": "  "})
    assert response.status_code == 200
    body = page(response)
    assert "Add time off" in body and "Chris Client" in body  # still asking
    assert ('id="cancel_reason-error">Please give a reason for cancelling. </p>'
            in body)
    assert _time_off(db) == []
    assert reread(db, booking).status is BookingStatus.CONFIRMED


def test_a_buffer_alone_in_the_period_affects_no_client(
    client: FlaskClient, db: Session
) -> None:
    therapist, booking = therapist_with_booking(db, TUESDAY_10)  # ends 11:00
    response = client.post(f"/admin/therapists/{therapist.user_id}/time-off",
                           data=_period((TUESDAY, "11:00"), (TUESDAY, "12:00")))
    assert response.status_code == 302
    assert len(_time_off(db)) == 1
    assert reread(db, booking).status is BookingStatus.CONFIRMED


def test_admin_removes_time_off_but_not_through_another_therapist(
    client: FlaskClient, db: Session
) -> None:
    tara = make_therapist(db, name="Tara Jones")
    sam = make_therapist(db, name="Sam Patel")
    off = make_time_off(db, tara, at(TUESDAY, 9), at(TUESDAY, 17))
    assert client.post(f"/admin/therapists/{sam.user_id}/time-off/{off.id}/delete"
                       ).status_code == 404
    assert client.post(f"/admin/therapists/{tara.user_id}/time-off/999/delete"
                       ).status_code == 404
    assert client.post(f"/admin/therapists/{tara.user_id}/time-off/{off.id}/delete"
                       ).status_code == 302
    assert _time_off(db) == []
    assert [e.action for e in audit_rows(db, "time_off")] == ["delete"]


# ---------------------------------------------------------------- closures


def test_a_closure_lists_every_therapists_bookings_in_it(
    client: FlaskClient, db: Session, smtp_sink: SmtpSink
) -> None:
    tara, first = therapist_with_booking(db, TUESDAY_10)
    _, second = therapist_with_booking(db, at(TUESDAY, 14), name="Sam Patel",
                                       client_name="Other Client")
    later = make_booking(db, client=make_client(db, full_name="Later Client"),
                         therapist=tara, service=first.service,
                         start=at(TUESDAY + timedelta(days=1), 10))
    data = _period((TUESDAY, "00:00"), (TUESDAY + timedelta(days=1), "00:00"),
                   reason="Training day")
    asked = page(client.post("/admin/closures", data=data))
    assert "Chris Client" in asked and "Other Client" in asked
    assert "Later Client" not in asked
    assert db.scalar(select(func.count()).select_from(Closure)) == 0

    response = client.post("/admin/closures", data={
        **data, "seen": f"{first.id},{second.id}", "decision": "cancel",
        "cancel_reason": "The clinic is closed for training."})
    assert response.status_code == 302
    assert [reread(db, b).status for b in (first, second, later)] == [
        BookingStatus.CANCELLED, BookingStatus.CANCELLED, BookingStatus.CONFIRMED]
    assert len(smtp_sink.messages) == 2
    closure = db.scalar(select(Closure))
    assert closure is not None
    assert (closure.starts_at, closure.reason) == (at(TUESDAY, 0), "Training day")
    assert audit_rows(db, "closure")[0].detail == "2 bookings cancelled"


def test_a_closure_asks_again_when_the_bookings_changed(
    client: FlaskClient, db: Session
) -> None:
    _, first = therapist_with_booking(db, TUESDAY_10)
    _, second = therapist_with_booking(db, at(TUESDAY, 14), name="Sam Patel",
                                       client_name="Other Client")
    data = _period((TUESDAY, "00:00"), (TUESDAY + timedelta(days=1), "00:00"))
    response = client.post("/admin/closures", data={
        **data, "seen": str(first.id), "decision": "cancel",
        "cancel_reason": "Closed."})
    assert response.status_code == 200
    assert "The affected bookings changed since you looked." in page(response)
    assert [reread(db, b).status for b in (first, second)] == [
        BookingStatus.CONFIRMED, BookingStatus.CONFIRMED]
    assert db.scalar(select(func.count()).select_from(Closure)) == 0


def test_admin_removes_a_closure(client: FlaskClient, db: Session, admin: User
                                 ) -> None:
    data = _period((TUESDAY, "00:00"), (TUESDAY + timedelta(days=1), "00:00"))
    assert client.post("/admin/closures", data=data).status_code == 302
    closure_id = db.scalar(select(Closure.id))
    assert "Tue 23 Mar 2027, 00:00 GMT" in page(client.get("/admin/closures"))
    assert client.post(f"/admin/closures/{closure_id}/delete").status_code == 302
    assert db.scalar(select(func.count()).select_from(Closure)) == 0
    assert client.post(f"/admin/closures/{closure_id}/delete").status_code == 404
    assert [e.action for e in audit_rows(db, "closure")] == ["create", "delete"]
