"""A client closes their account while a booking for them is being made:
whichever comes second sees the other's result. Runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL.

Each side has its own connection. The first side stops before its commit;
the second, in a thread, must then wait for it (on PostgreSQL for the
client's row, on SQLite for the write lock) and not go ahead on what it read
before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.booking import closing, services
from clinic.booking.models import Booking, BookingStatus, Service
from clinic.db import make_engine
from clinic.intake.services import ACCOUNT_CLOSED
from tests.factories import WED_10, make_therapist
from tests.test_booking_race import (
    NOW,
    SETTINGS,
    clients_with_intakes,
    rescreen,
    writing_sessions,
)

pytestmark = pytest.mark.race

# Long enough for the second side to reach its lock (one statement away).
BLOCKED_FOR = 0.5


@pytest.fixture
def engines(app: Flask) -> Iterator[list[Engine]]:
    made = [make_engine(app.config["DATABASE_URL"]) for _ in range(2)]
    yield made
    for engine in made:
        engine.dispose()


@pytest.fixture
def setup(app: Flask) -> Iterator[Session]:
    with app.app_context():
        session = writing_sessions([make_engine(app.config["DATABASE_URL"])])[0]()
        yield session
        session.close()
        session.get_bind().dispose()


@contextmanager
def first_side(engine: Engine) -> Iterator[Session]:
    """The side that goes first; closed (rolled back unless committed) even
    when the test fails, so the second side and the clean-up never hang."""
    session = writing_sessions([engine])[0]()
    try:
        yield session
    finally:
        session.close()


class Second(threading.Thread):
    """The second side: runs ``work`` in its own session and commits."""

    def __init__(self, app: Flask, engine: Engine,
                 work: Callable[[Session], Any]) -> None:
        super().__init__(daemon=True)
        self.app, self.engine, self.work = app, engine, work
        self.outcome: Any = None

    def run(self) -> None:
        with self.app.test_request_context():
            session = writing_sessions([self.engine])[0]()
            try:
                self.outcome = self.work(session)
                session.commit()
            except Exception as exc:  # checked by the test
                session.rollback()
                self.outcome = exc
            finally:
                session.close()

    def waits(self) -> bool:
        self.join(BLOCKED_FOR)
        return self.is_alive()


def book(session: Session, client: User, therapist_id: int, service: Service,
         screening_id: int) -> Booking:
    return services.book_session(
        session, client=client, booked_by=client, service_id=service.id,
        technique="swedish", therapist_id=therapist_id, start=WED_10,
        screening_id=screening_id, settings=SETTINGS, now=NOW)


def close(session: Session, client_id: int) -> list[Booking]:
    client = session.get(User, client_id)
    assert client is not None
    return closing.close_account(session, client, settings=SETTINGS, now=NOW)


@pytest.fixture
def arranged(setup: Session, service: Service) -> tuple[User, int, int]:
    """A client with a fresh screening (loaded, as the app loads the
    logged-in user, before either side starts), a therapist, the screening."""
    (client,) = clients_with_intakes(setup, 1)
    screening_id = rescreen(setup, [client])[client.id]
    therapist = make_therapist(setup, services=[setup.merge(service)])
    setup.commit()
    return client, therapist.user_id, screening_id


@pytest.fixture
def service(db: Session) -> Service:
    from tests.factories import make_service

    return make_service(db, name="Race massage", duration=60, buffer=15)


def test_a_closing_waits_for_the_booking_under_way_and_cancels_it(
    app: Flask, db: Session, engines: list[Engine], service: Service,
    arranged: tuple[User, int, int],
) -> None:
    client, therapist_id, screening_id = arranged
    with app.test_request_context(), first_side(engines[0]) as first:
        booking = book(first, client, therapist_id, service, screening_id)
        closer = Second(app, engines[1], lambda s: close(s, client.id))
        closer.start()
        assert closer.waits()
        first.commit()
    closer.join()

    assert [b.id for b in closer.outcome] == [booking.id]
    db.expire_all()
    stored = db.get(Booking, booking.id)
    assert stored is not None and stored.status is BookingStatus.CANCELLED


def test_a_booking_under_way_sees_the_account_closed_first(
    app: Flask, db: Session, engines: list[Engine], service: Service,
    arranged: tuple[User, int, int],
) -> None:
    client, therapist_id, screening_id = arranged
    with app.test_request_context(), first_side(engines[0]) as first:
        close(first, client.id)
        booker = Second(app, engines[1],
                        lambda s: book(s, client, therapist_id, service, screening_id))
        booker.start()
        assert booker.waits()
        first.commit()
    booker.join()

    assert isinstance(booker.outcome, services.BookingNotAllowed)
    assert str(booker.outcome) == ACCOUNT_CLOSED
    assert db.query(Booking).count() == 0
