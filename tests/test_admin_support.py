"""Helpers shared by the ``test_admin_*`` modules (no tests here).

The clock is fixed at Monday 22 March 2027, 09:00 GMT: the clinic's clocks
go forward on Sunday 28 March (01:00-02:00 does not exist) and back on
Sunday 31 October (01:00-02:00 happens twice).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from clinic import clock
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.booking.models import Booking, Service, Therapist
from tests.factories import make_booking, make_client, make_service, make_therapist

NOW = datetime(2027, 3, 22, 9, 0, tzinfo=UTC)
LONDON = ZoneInfo("Europe/London")
SPRING_FORWARD = date(2027, 3, 28)
FALL_BACK = date(2027, 10, 31)


def fix_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def log_in_admin(make_user: Callable[..., User],
                 login: Callable[[User], None]) -> User:
    admin = make_user(Role.ADMIN, full_name="Ada Admin")
    login(admin)
    return admin


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A clinic wall-clock time on ``day`` as the UTC instant it is."""
    return datetime.combine(day, time(hour, minute), LONDON).astimezone(UTC)


def page(response: TestResponse) -> str:
    return response.get_data(as_text=True)


def audit_rows(db: Session, record_type: str, action: str | None = None
               ) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.record_type == record_type)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.scalars(query.order_by(AuditEvent.id)))


def therapist_with_booking(db: Session, start: datetime, *, name: str = "Tara Jones",
                           client_name: str = "Chris Client",
                           service: Service | None = None
                           ) -> tuple[Therapist, Booking]:
    """A therapist (09:00-17:00 every day) with one confirmed booking."""
    service = service or make_service(db, duration=60, buffer=15)
    therapist = make_therapist(db, name=name, services=[service])
    client = make_client(db, full_name=client_name)
    booking = make_booking(db, client=client, therapist=therapist, service=service,
                           start=start)
    return therapist, booking


def reread(db: Session, booking: Booking) -> Booking:
    db.expire_all()
    found = db.get(Booking, booking.id)
    assert found is not None
    return found
