"""Many clients at once on one time: exactly one booking, every loser told
"taken" (never an error). Runs on SQLite and, with TEST_DATABASE_URL, on
PostgreSQL.

Each attempt runs in its own thread with its own database connection (its
own engine, configured exactly as the app's by ``clinic.db.make_engine``),
all released together by a barrier. On PostgreSQL, where the attempts
really run side by side, each variant is repeated over rounds (a new day
each) so that a lucky pass is unlikely; see ROUNDS for SQLite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from clinic.accounts.models import Role, User
from clinic.accounts.services import create_user
from clinic.booking import services
from clinic.booking.models import ACTIVE_STATUSES, Booking, Service
from clinic.booking.slots import Unfit
from clinic.db import WRITE_OPTION, make_engine, new_session
from clinic.intake.services import submit_intake, submit_rescreen
from clinic.intake.vocabulary import RESCREEN_FIELDS
from tests.conftest import PASSWORD, TEST_DATABASE_URL
from tests.factories import (
    CLEAR_ANSWERS,
    NOW,
    WED_10,
    booking_settings,
    make_room,
    make_service,
    make_therapist,
)

pytestmark = pytest.mark.race

ATTEMPTS = 50
# PostgreSQL really runs the attempts side by side: five rounds each. SQLite
# lets one writer in at a time (BEGIN IMMEDIATE), so every round takes the
# same path; and its busy handler wakes the 49 waiters together about every
# 100 ms, so one round of 50 already takes about 5 s there.
ROUNDS = 5 if TEST_DATABASE_URL else 1
# Fewer rounds where the outcome is decided by a database guard that
# test_booking_constraints also proves on its own: the room guard, and the
# one client's single screening (its unique index refuses every loser).
SHORT_ROUNDS = 2 if TEST_DATABASE_URL else 1
# Five-minute steps, so attempts can start a few minutes apart and overlap.
SETTINGS = booking_settings(slot_step_minutes=5)
RESCREEN = {key: CLEAR_ANSWERS[key] for key in RESCREEN_FIELDS if key in CLEAR_ANSWERS}


@dataclass(frozen=True)
class Attempt:
    client_id: int
    therapist_id: int
    start: datetime
    screening_id: int


@pytest.fixture
def engines(app: Flask) -> Iterator[list[Engine]]:
    """One engine (so one connection) per concurrent attempt."""
    made = [make_engine(app.config["DATABASE_URL"]) for _ in range(ATTEMPTS)]
    for engine in made:
        engine.connect().close()  # open the connection now, not in the race
    yield made
    for engine in made:
        engine.dispose()


def writing_sessions(engines: Sequence[Engine]) -> list[sessionmaker[Session]]:
    # What clinic.db.init_app does for the app's writing sessionmaker.
    return [sessionmaker(e.execution_options(**{WRITE_OPTION: True}),
                         expire_on_commit=False) for e in engines]


def race(app: Flask, engines: Sequence[Engine], service: Service,
         attempts: Sequence[Attempt]) -> list[object]:
    """Run every attempt at once; "booked" or the exception each one raised."""
    barrier = threading.Barrier(len(attempts))
    factories = writing_sessions(engines)

    def run(index: int) -> object:
        attempt = attempts[index]
        with app.app_context():
            session = factories[index]()
            try:
                # No statement before the barrier: on SQLite a writing session
                # takes the write lock with its first one.
                barrier.wait()
                client = session.get(User, attempt.client_id)
                services.book_session(
                    session, client=client, booked_by=client, service_id=service.id,
                    technique="swedish", therapist_id=attempt.therapist_id,
                    start=attempt.start, screening_id=attempt.screening_id,
                    settings=SETTINGS, now=NOW)
                session.commit()
                return "booked"
            except Exception as exc:  # every outcome is checked by the test
                session.rollback()
                return exc
            finally:
                session.close()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        return list(pool.map(run, range(len(attempts))))


@pytest.fixture
def setup(app: Flask) -> Iterator[Session]:
    """A transactional session for arranging many rows with one commit (the
    autocommit ``db`` would sync every row to disk on its own)."""
    with app.app_context():
        session = new_session(app)
        yield session
        session.close()


def rescreen(setup: Session, clients: Sequence[User],
             screenings: dict[int, int] | None = None) -> dict[int, int]:
    """Fresh re-screens (client id -> screening id): for every client, or
    only for those whose last one a booking used (the previous winner)."""
    if screenings:
        used = set(setup.scalars(select(Booking.client_id).where(
            Booking.screening_id.in_(screenings.values()))))
        clients = [c for c in clients if c.id in used]
    ids = dict(screenings or {})
    for client in clients:
        mine = setup.get(User, client.id)
        ids[client.id] = submit_rescreen(setup, mine, RESCREEN, by=mine,
                                         settings=SETTINGS, now=NOW).id
    setup.commit()
    return ids


def active_bookings(db: Session, *where: Any) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Booking).where(
        Booking.status.in_(ACTIVE_STATUSES), *where)) or 0


def assert_one_winner(
    outcomes: list[object], allowed: Callable[[object], bool]
) -> None:
    winners = [o for o in outcomes if o == "booked"]
    strange = [repr(o) for o in outcomes if o != "booked" and not allowed(o)]
    assert (len(winners), strange) == (1, [])


def taken_or_busy(*reasons: Unfit) -> Callable[[object], bool]:
    def allowed(outcome: object) -> bool:
        return isinstance(outcome, services.SlotTaken) or (
            isinstance(outcome, services.SlotUnavailable) and outcome.reason in reasons
        )

    return allowed


@pytest.fixture
def service(db: Session) -> Service:
    return make_service(db, name="Race massage", duration=60, buffer=15)


def clients_with_intakes(setup: Session, count: int) -> list[User]:
    clients = []
    for n in range(count):
        client = create_user(setup, email=f"racer{n}@example.com", password=PASSWORD,
                             full_name=f"Racer {n}", role=Role.CLIENT,
                             hash_profile="fast", email_verified_at=NOW)
        submit_intake(setup, client, CLEAR_ANSWERS, by=client, settings=SETTINGS,
                      now=NOW - timedelta(days=1))
        clients.append(client)
    setup.commit()
    return clients


def therapists_offering(setup: Session, service: Service, count: int) -> list[Any]:
    mine = setup.merge(service)
    return [make_therapist(setup, services=[mine]) for _ in range(count)]


def round_start(n: int) -> datetime:
    return WED_10 + timedelta(days=n)  # a new day for every round


@pytest.mark.parametrize("shift_minutes", [0, 5], ids=["same-slot", "shifted"])
def test_many_clients_one_therapist(
    app: Flask, db: Session, setup: Session, engines: list[Engine],
    service: Service, shift_minutes: int,
) -> None:
    therapist = make_therapist(db, services=[service])
    clients = clients_with_intakes(setup, ATTEMPTS)
    screenings: dict[int, int] = {}
    for n in range(ROUNDS):
        screenings = rescreen(setup, clients, screenings)
        attempts = [
            Attempt(c.id, therapist.user_id,
                    round_start(n) + timedelta(minutes=shift_minutes * (i % 6)),
                    screenings[c.id])
            for i, c in enumerate(clients)
        ]
        outcomes = race(app, engines, service, attempts)
        assert_one_winner(outcomes, taken_or_busy(Unfit.THERAPIST_BUSY))
        assert active_bookings(db) == n + 1


def test_one_client_many_therapists(
    app: Flask, db: Session, setup: Session, engines: list[Engine], service: Service
) -> None:
    """The client guard: one person cannot be in two sessions at once. All
    attempts carry the client's one fresh screening, which only one booking
    may use, so a loser may also be told to answer the questions again."""
    therapists = therapists_offering(setup, service, ATTEMPTS)
    (client,) = clients_with_intakes(setup, 1)

    def allowed(outcome: object) -> bool:
        return taken_or_busy(Unfit.CLIENT_BUSY)(outcome) or isinstance(
            outcome, services.ScreeningUsed)

    for n in range(SHORT_ROUNDS):
        screening_id = rescreen(setup, [client])[client.id]
        attempts = [
            Attempt(client.id, t.user_id,
                    round_start(n) + timedelta(minutes=5 * (i % 6)), screening_id)
            for i, t in enumerate(therapists)
        ]
        outcomes = race(app, engines, service, attempts)
        assert_one_winner(outcomes, allowed)
        assert active_bookings(db, Booking.client_id == client.id) == n + 1


def test_many_therapists_one_room(
    app: Flask, db: Session, setup: Session, engines: list[Engine], service: Service
) -> None:
    room = make_room(db)
    therapists = therapists_offering(setup, service, ATTEMPTS)
    clients = clients_with_intakes(setup, ATTEMPTS)
    screenings: dict[int, int] = {}
    for n in range(SHORT_ROUNDS):
        screenings = rescreen(setup, clients, screenings)
        attempts = [
            Attempt(c.id, t.user_id, round_start(n) + timedelta(minutes=5 * (i % 6)),
                    screenings[c.id])
            for i, (c, t) in enumerate(zip(clients, therapists, strict=True))
        ]
        outcomes = race(app, engines, service, attempts)
        assert_one_winner(outcomes, taken_or_busy(Unfit.NO_ROOM))
        assert active_bookings(db, Booking.room_id == room.id) == n + 1
