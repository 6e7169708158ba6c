"""Which slot each booking request asks for, so requests rarely conflict.

The real app gets slots the booking service itself offers (weeks 1-8, most
from the empty weeks 5-8), kept only if they do not overlap another chosen
slot of the same therapist (buffers included). The floor checks no hours or
policy, so it gets the same kind of slots after the booking horizon, where
the real app's requests never go. Both lists alternate between therapists,
so concurrent requests mostly lock different therapists, as real clients
spread over a clinic would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.bench.seed import (
    DAY_END,
    DAY_START,
    LOAD_SERVICE,
    SERVICES,
    Seeded,
    bench_config,
)


@dataclass(frozen=True)
class Slot:
    therapist_id: int
    start: datetime  # UTC


def _interleave(per_therapist: list[list[Slot]]) -> list[Slot]:
    return [s for group in zip_longest(*per_therapist) for s in group if s is not None]


def _hold() -> timedelta:
    _, minutes, buffer, _ = SERVICES[LOAD_SERVICE]
    return timedelta(minutes=minutes + buffer)


def real_slots(engine: Engine, seeded: Seeded, count: int) -> list[Slot]:
    """``count`` bookable, mutually non-overlapping slots for the real app."""
    from clinic.booking.models import Service
    from clinic.booking.queries import available_slots
    from clinic.settings.services import load_settings

    now = datetime.now(UTC)
    per_therapist = []
    with Session(engine) as db:
        settings = load_settings(db, bench_config())
        service = db.get(Service, seeded.service_ids[LOAD_SERVICE])
        assert service is not None
        for therapist in seeded.therapist_ids:
            offers = available_slots(
                db, client_id=None, service=service, technique=seeded.technique,
                therapist_id=therapist, start_day=now.date(),
                days=settings.horizon_days + 1, settings=settings, now=now,
            )
            chosen: list[Slot] = []
            for offer in offers:
                # An hour of margin after min. notice: the run takes minutes.
                if offer.start < now + settings.policy.min_notice + timedelta(hours=1):
                    continue
                if not chosen or offer.start >= chosen[-1].start + _hold():
                    chosen.append(Slot(therapist, offer.start))
            per_therapist.append(chosen)
    slots = _interleave(per_therapist)
    if len(slots) < count:
        raise SystemExit(f"only {len(slots)} free slots for {count} requests")
    return slots[:count]


def floor_slots(seeded: Seeded, count: int, *, after_days: int) -> list[Slot]:
    """Working-hours slots from ``after_days`` ahead, back to back per therapist."""
    zone = ZoneInfo(bench_config()["CLINIC_TIMEZONE"])
    per_day = int((datetime.combine(seeded.first_workday, DAY_END)
                   - datetime.combine(seeded.first_workday, DAY_START)) / _hold())
    days_needed = count // (per_day * len(seeded.therapist_ids)) + 2
    per_therapist: list[list[Slot]] = [[] for _ in seeded.therapist_ids]
    day = seeded.first_workday + timedelta(days=after_days)
    while days_needed > 0:
        day += timedelta(days=1)
        if day.weekday() >= 5:
            continue
        days_needed -= 1
        opens = datetime.combine(day, DAY_START, zone).astimezone(UTC)
        for i, therapist in enumerate(seeded.therapist_ids):
            per_therapist[i] += [Slot(therapist, opens + n * _hold())
                                 for n in range(per_day)]
    return _interleave(per_therapist)[:count]
