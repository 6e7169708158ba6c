"""Days and weeks in the clinic's zone (DST weeks are 167 or 169 hours), and
loading a schedule in a constant number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from clinic.booking import schedule
from clinic.booking.models import BookingStatus
from clinic.db import new_session
from clinic.intake.services import acknowledge
from tests.factories import (
    BLEEDING_RISK_ANSWERS,
    make_booking,
    make_client,
    make_intake,
    make_room,
    make_service,
    make_therapist,
)

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 3, 24, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "monday", "hours"),
    [
        (date(2027, 3, 24), date(2027, 3, 22), 167),  # clocks go forward Sun 28
        (date(2027, 3, 28), date(2027, 3, 22), 167),
        (date(2027, 3, 29), date(2027, 3, 29), 168),
        (date(2027, 10, 25), date(2027, 10, 25), 169),  # back on Sun 31 Oct
        (date(2027, 10, 31), date(2027, 10, 25), 169),
    ],
)
def test_a_week_runs_from_local_monday_to_local_monday(
    day: date, monday: date, hours: int
) -> None:
    week = schedule.week_of(day, LONDON)
    assert week.first == monday
    assert week.last == monday + timedelta(days=6)
    assert week.start == datetime.combine(monday, datetime.min.time(),
                                          LONDON).astimezone(UTC)
    assert week.end - week.start == timedelta(hours=hours)
    assert week.shifted(1).start == week.end
    assert week.shifted(-1).end == week.start


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2027, 3, 28), 23), (date(2027, 10, 31), 25), (date(2027, 6, 1), 24)],
)
def test_a_day_is_local_midnight_to_local_midnight(day: date, hours: int) -> None:
    span = schedule.day_of(day, LONDON)
    assert span.end - span.start == timedelta(hours=hours)
    assert span.start.astimezone(LONDON).hour == 0


class _Counter:
    def __init__(self) -> None:
        self.selects: list[str] = []

    def __call__(self, _conn: object, _cursor: object, statement: str,
                 *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.selects.append(statement)


@contextmanager
def count_selects(engine: Engine) -> Iterator[_Counter]:
    counter = _Counter()
    event.listen(engine, "before_cursor_execute", counter)
    try:
        yield counter
    finally:
        event.remove(engine, "before_cursor_execute", counter)


def _arrange_week(db: Session, sessions: int) -> int:
    """``sessions`` sessions (alternately clear and acknowledged caution) for
    one therapist in the week of NOW; returns the therapist's id."""
    service = make_service(db)
    therapist = make_therapist(db, services=[service])
    room = make_room(db)
    for n in range(sessions):
        client = make_client(db)
        answers = BLEEDING_RISK_ANSWERS if n % 2 else None
        screening = (make_intake(db, client, now=NOW, answers=answers)
                     if answers else make_intake(db, client, now=NOW))
        if answers:
            acknowledge(db, screening, therapist.user, NOW)
            db.commit()
        make_booking(db, client=client, therapist=therapist, service=service,
                     start=NOW + timedelta(hours=2 * n), room=room,
                     screening=screening)
    return therapist.user_id


@pytest.mark.parametrize("sessions", [1, 12])
def test_a_week_loads_in_three_queries_however_many_sessions(
    app: Flask, db: Session, sessions: int
) -> None:
    therapist_id = _arrange_week(db, sessions)
    week = schedule.week_of(NOW.date(), LONDON)
    with new_session(app, write=False) as session, count_selects(
        app.extensions["clinic.engine"]
    ) as counter:
        entries = schedule.load_sessions(session, week, therapist_id=therapist_id)
        shown = [(e.booking.client.full_name, e.booking.service.name,
                  e.booking.room.name, e.booking.therapist.user.full_name,
                  e.screening) for e in entries]
    assert len(counter.selects) == 3, counter.selects
    assert len(shown) == sessions
    assert [s[4] for s in shown] == [
        schedule.ScreeningStatus.CAUTION_ACKNOWLEDGED if n % 2
        else schedule.ScreeningStatus.CLEAR for n in range(sessions)
    ]


def test_sessions_belong_to_the_local_day_they_start_on(
    app: Flask, db: Session
) -> None:
    """Sunday 28 March 2027 23:30 BST is 22:30 UTC: still that week; Monday
    00:30 BST (Sunday 23:30 UTC) is the next week's."""
    service = make_service(db)
    therapist = make_therapist(db, services=[service])
    late_sunday = datetime(2027, 3, 28, 22, 30, tzinfo=UTC)
    early_monday = datetime(2027, 3, 28, 23, 30, tzinfo=UTC)
    for start in (late_sunday, early_monday):
        make_booking(db, client=make_client(db), therapist=therapist,
                     service=service, start=start)
    week = schedule.week_of(date(2027, 3, 24), LONDON)
    with new_session(app, write=False) as session:
        this_week = schedule.load_sessions(session, week)
        next_week = schedule.load_sessions(session, week.shifted(1))
        days = schedule.by_day(this_week, week)
    assert [e.booking.starts_at for e in this_week] == [late_sunday]
    assert [e.booking.starts_at for e in next_week] == [early_monday]
    assert [len(entries) for _, entries in days] == [0, 0, 0, 0, 0, 0, 1]
    assert this_week[0].local_start.strftime("%a %H:%M %Z") == "Sun 23:30 BST"


def test_status_filter_and_counts(app: Flask, db: Session) -> None:
    service = make_service(db)
    therapist = make_therapist(db, services=[service])
    for hours, status in ((1, BookingStatus.CONFIRMED), (3, BookingStatus.CANCELLED),
                          (5, BookingStatus.CANCELLED)):
        make_booking(db, client=make_client(db), therapist=therapist,
                     service=service, start=NOW + timedelta(hours=hours),
                     status=status)
    day = schedule.day_of(NOW.date(), LONDON)
    with new_session(app, write=False) as session:
        everything = schedule.load_sessions(session, day)
        cancelled = schedule.load_sessions(session, day,
                                           statuses=[BookingStatus.CANCELLED])
    assert schedule.count_by_status(everything)[BookingStatus.CANCELLED] == 2
    assert [e.booking.status for e in cancelled] == [BookingStatus.CANCELLED] * 2
    assert all(e.screening is schedule.ScreeningStatus.NONE for e in everything)


def test_today_for_the_therapist_home_page(app: Flask, db: Session) -> None:
    service = make_service(db)
    therapist = make_therapist(db, services=[service])
    other = make_therapist(db, services=[service])
    for who, start in ((therapist, NOW + timedelta(hours=3)),
                       (therapist, NOW + timedelta(days=1)),
                       (other, NOW + timedelta(hours=4))):
        make_booking(db, client=make_client(db), therapist=who, service=service,
                     start=start)
    with new_session(app, write=False) as session:
        today = schedule.today_for(session, therapist.user_id, now=NOW, zone=LONDON)
    assert [e.booking.starts_at for e in today] == [NOW + timedelta(hours=3)]
