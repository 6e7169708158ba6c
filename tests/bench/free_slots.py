"""Free slots in process: the pure arithmetic and the service with its queries.

* ``pure``: ``clinic.booking.slots.free_slots`` alone, its inputs loaded once
  beforehand (one therapist-day; all 10 therapists over a week, one call each).
* ``service``: ``clinic.booking.queries.available_slots`` (re-exported by
  ``clinic.booking.services``), the function the times page calls, with a new
  read session per call, so each sample pays for its queries as a request does
  (settings are loaded once outside: the page loads them once too, before).

The day is the first working day after today; the week starts on it. Both lie
in the seeded 4 weeks (about 60 % booked). An unbooked week is timed too, for
information: it is the slowest, having the most free starts. Each measurement
is warmed up, then repeated; the client asking has no bookings of their own.
The CPU time of this process is recorded too: it varies less than wall
time when other work competes for the machine (it leaves out the
PostgreSQL server's share).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from tests.bench.seed import LOAD_SERVICE, Seeded, bench_config
from tests.bench.stats import Timing

WEEK = 7


@dataclass(frozen=True)
class FreeSlotFigures:
    pure_day: Timing
    pure_week: Timing
    service_day: Timing
    service_week: Timing
    empty_week: Timing  # the service over an unbooked week (not a target)
    day_slots: int  # free starts found, to show the work is real
    week_slots: int
    empty_week_slots: int


def _repeat(call: Callable[[], Any], *, warmup: int, repeat: int) -> Timing:
    for _ in range(warmup):
        call()
    wall, cpu = [], []
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        call()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return Timing.of(wall, cpu)


def measure(engine: Engine, seeded: Seeded, *, repeat: int, warmup: int
            ) -> FreeSlotFigures:
    from clinic.booking import slots
    from clinic.booking.models import Service
    from clinic.booking.queries import day_span, load_calendar
    from clinic.booking.services import available_slots
    from clinic.settings.services import load_settings

    new_session = sessionmaker(engine, expire_on_commit=False)
    now = datetime.now(UTC)
    day, therapist, client = (seeded.first_workday, seeded.therapist_ids[0],
                              seeded.clients[-1].user_id)
    with new_session() as db:
        settings = load_settings(db, bench_config())
        service = db.get(Service, seeded.service_ids[LOAD_SERVICE])
        calendar = load_calendar(db, seeded.therapist_ids,
                                 day_span(settings.zone, day, WEEK))
    assert service is not None
    busy = {t: calendar.therapist_busy(t) for t in seeded.therapist_ids}
    duration = timedelta(minutes=service.duration_minutes)
    buffer = timedelta(minutes=service.buffer_minutes)

    def pure(therapist_id: int, days: int) -> list[slots.Slot]:
        return slots.free_slots(
            tz=settings.zone, start_day=day, days=days,
            hours=calendar.hours[therapist_id],
            busy=busy[therapist_id], duration=duration, buffer_after=buffer,
            policy=settings.policy, now=now,
        )

    def service_call(therapist_id: int | None, days: int, first: date = day
                     ) -> list[Any]:
        db: Session
        with new_session() as db:
            return available_slots(
                db, client_id=client, service=service, technique=seeded.technique,
                therapist_id=therapist_id, start_day=first, days=days,
                settings=settings, now=now,
            )

    runs = {"warmup": warmup, "repeat": repeat}
    # Week 6: after the seeded 4 weeks, inside the 8-week horizon. Every
    # therapist is free all week, so every start becomes a Slot (the slowest
    # week there is), though only one per start is offered.
    empty = day + timedelta(weeks=5)
    return FreeSlotFigures(
        pure_day=_repeat(lambda: pure(therapist, 1), **runs),
        pure_week=_repeat(
            lambda: [pure(t, WEEK) for t in seeded.therapist_ids], **runs),
        service_day=_repeat(lambda: service_call(therapist, 1), **runs),
        service_week=_repeat(lambda: service_call(None, WEEK), **runs),
        empty_week=_repeat(lambda: service_call(None, WEEK, empty), **runs),
        day_slots=len(service_call(therapist, 1)),
        week_slots=len(service_call(None, WEEK)),
        empty_week_slots=len(service_call(None, WEEK, empty)),
    )
