"""Admins manage services (name, length, buffer, price) and rooms."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.booking import admin_services
from clinic.booking.models import Room, Service
from tests.factories import make_room, make_service
from tests.test_admin_support import audit_rows, fix_clock, log_in_admin, page

SERVICE = {
    "name": "Sciatica relief massage",
    "description": "Focused work on the lower back.",
    "duration_minutes": "60",
    "price": "55.00",
    "buffer_minutes": "15",
}


@pytest.fixture(autouse=True)
def admin(monkeypatch: pytest.MonkeyPatch, make_user: Callable[..., User],
          login: Callable[[User], None]) -> User:
    fix_clock(monkeypatch)
    return log_in_admin(make_user, login)


def _services(db: Session) -> list[Service]:
    db.expire_all()
    return list(db.scalars(select(Service).order_by(Service.id)))


# ---------------------------------------------------------------- services


def test_admin_adds_a_service_with_the_price_in_pence(
    client: FlaskClient, db: Session, admin: User
) -> None:
    response = client.post("/admin/services/new", data=SERVICE)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/services"
    (service,) = _services(db)
    assert (service.name, service.description, service.duration_minutes,
            service.price_pence, service.buffer_minutes, service.active) == (
        "Sciatica relief massage", "Focused work on the lower back.", 60, 5500, 15,
        True)
    (event,) = audit_rows(db, "service")
    assert (event.action, event.record_id, event.actor_id, event.detail) == (
        "create", service.id, admin.id, None)
    listing = page(client.get("/admin/services"))
    assert "Sciatica relief massage" in listing and "£55.00" in listing


@pytest.mark.parametrize(("typed", "pence"), [
    ("55", 5500), ("55.5", 5550), ("£45.99", 4599), ("0", 0), ("10000.00", 1000000),
])
def test_prices_are_read_as_pounds_and_pence(
    client: FlaskClient, db: Session, typed: str, pence: int
) -> None:
    client.post("/admin/services/new", data={**SERVICE, "price": typed})
    assert [s.price_pence for s in _services(db)] == [pence]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "Please enter a name."),
    ("name", "x" * 101, "Please use at most 100 characters."),
    ("name", "Back\x00massage", "Please remove unusual characters."),
    ("description", "y" * 1001, "Please use at most 1000 characters."),
    ("description", "tab\x07bell", "Please remove unusual characters."),
    ("duration_minutes", "4", "Please enter 5 to 480 minutes."),
    ("duration_minutes", "481", "Please enter 5 to 480 minutes."),
    ("duration_minutes", "9" * 40, "Please enter 5 to 480 minutes."),
    ("duration_minutes", "1e3", "Please enter a whole number, like 30."),
    ("duration_minutes", "", "Please enter the duration."),
    ("buffer_minutes", "-1", "Please enter 0 to 120 minutes."),
    ("buffer_minutes", "121", "Please enter 0 to 120 minutes."),
    ("price", "-5", "Please enter a price in pounds and pence"),
    ("price", "55.555", "Please enter a price in pounds and pence"),
    ("price", "10000.01", "up to £10,000.00"),
    ("price", "9" * 30, "Please enter a price in pounds and pence"),
    ("price", "fifty", "Please enter a price in pounds and pence"),
    ("price", "", "Please enter a price, like 55.00."),
])
def test_bad_service_input_is_explained_at_the_field(
    client: FlaskClient, db: Session, field: str, value: str, message: str
) -> None:
    response = client.post("/admin/services/new", data={**SERVICE, field: value})
    assert response.status_code == 200
    body = page(response)
    assert f'id="{field}-error"' in body
    assert message in body
    assert _services(db) == []
    assert audit_rows(db, "service") == []


def test_a_service_name_is_unique_ignoring_case(
    client: FlaskClient, db: Session
) -> None:
    make_service(db, name="Sciatica relief massage")
    response = client.post("/admin/services/new",
                           data={**SERVICE, "name": "SCIATICA relief massage"})
    assert response.status_code == 200
    assert ("There is already a service called SCIATICA relief massage."
            in page(response))
    assert len(_services(db)) == 1


def test_a_concurrent_insert_of_the_same_name_is_a_message_not_a_500(
    client: FlaskClient, db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name check passes, then the unique constraint refuses the row
    (someone else inserted it in between)."""
    make_service(db, name="Sciatica relief massage")
    real_scalar = Session.scalar
    missed: list[str] = []

    def miss_the_clash(self: Session, statement: object, *a: object,
                       **k: object) -> object:
        if "lower(service.name)" in str(statement):
            missed.append("name check")
            return None
        return real_scalar(self, statement, *a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(Session, "scalar", miss_the_clash)
    response = client.post("/admin/services/new", data=SERVICE)
    assert missed == ["name check"]
    assert response.status_code == 200
    assert "There is already a service called" in page(response)
    assert len(_services(db)) == 1


def test_admin_edits_a_service(client: FlaskClient, db: Session) -> None:
    service = make_service(db, name="Back massage", duration=45, price=4500)
    form = page(client.get(f"/admin/services/{service.id}"))
    assert 'value="45.00"' in form and 'value="Back massage"' in form
    response = client.post(f"/admin/services/{service.id}",
                           data={**SERVICE, "name": "Back massage",
                                 "price": "47.50", "duration_minutes": "50"})
    assert response.status_code == 302
    (saved,) = _services(db)
    assert (saved.name, saved.price_pence, saved.duration_minutes) == (
        "Back massage", 4750, 50)
    assert [e.action for e in audit_rows(db, "service")] == ["update"]


@pytest.mark.parametrize("name", ["back massage", "Back massage"])
def test_renaming_a_service_to_another_services_name_is_refused(
    client: FlaskClient, db: Session, name: str
) -> None:
    make_service(db, name="Back massage")
    other = make_service(db, name="Hip massage")
    response = client.post(f"/admin/services/{other.id}",
                           data={**SERVICE, "name": name})
    assert response.status_code == 200
    assert f"There is already a service called {name}." in page(response)
    assert [s.name for s in _services(db)] == ["Back massage", "Hip massage"]


def test_admin_stops_and_restarts_offering_a_service(
    client: FlaskClient, db: Session
) -> None:
    service = make_service(db, name="Back massage")
    response = client.post(f"/admin/services/{service.id}/deactivate")
    assert response.status_code == 302
    assert [s.active for s in _services(db)] == [False]
    assert "Offer again" in page(client.get("/admin/services"))
    client.post(f"/admin/services/{service.id}/reactivate")
    assert [s.active for s in _services(db)] == [True]
    assert [e.action for e in audit_rows(db, "service")] == [
        "deactivate", "reactivate"]


def test_the_service_service_checks_the_database_limits_too(db: Session) -> None:
    values = admin_services.ServiceValues("X", "", 481, 100, 0)
    with pytest.raises(admin_services.AdminError) as caught:
        admin_services.save_service(db, admin_services.Actor(None, None), values)
    assert (str(caught.value), caught.value.field) == (
        "A session lasts 5 to 480 minutes.", "duration_minutes")


@pytest.mark.parametrize("url", ["/admin/services/999", "/admin/services/0",
                                 "/admin/services/99999999999999999999",
                                 "/admin/services/abc"])
def test_unknown_services_are_not_found(client: FlaskClient, url: str) -> None:
    assert client.get(url).status_code == 404
    assert client.post(url, data=SERVICE).status_code == 404


def test_deactivating_an_unknown_service_is_not_found(client: FlaskClient) -> None:
    assert client.post("/admin/services/999/deactivate").status_code == 404


# ---------------------------------------------------------------- rooms


def _rooms(db: Session) -> list[tuple[str, bool]]:
    db.expire_all()
    return [(r.name, r.active) for r in db.scalars(select(Room).order_by(Room.id))]


def test_admin_adds_renames_and_retires_rooms(client: FlaskClient, db: Session
                                              ) -> None:
    assert client.post("/admin/rooms", data={"name": "Room 1"}).status_code == 302
    room_id = db.scalar(select(Room.id))
    assert client.post(f"/admin/rooms/{room_id}",
                       data={"name": "Garden room"}).status_code == 302
    client.post(f"/admin/rooms/{room_id}/deactivate")
    assert _rooms(db) == [("Garden room", False)]
    client.post(f"/admin/rooms/{room_id}/reactivate")
    assert _rooms(db) == [("Garden room", True)]
    assert [e.action for e in audit_rows(db, "room")] == [
        "create", "update", "deactivate", "reactivate"]


@pytest.mark.parametrize(("name", "message"), [
    ("", "Please enter a name."),
    ("r" * 61, "Please use at most 60 characters."),
    ("Room\x00 2", "Please remove unusual characters."),
    ("room 1", "There is already a room called room 1."),
])
def test_bad_room_names_are_explained(
    client: FlaskClient, db: Session, name: str, message: str
) -> None:
    make_room(db, name="Room 1")
    response = client.post("/admin/rooms", data={"name": name})
    assert response.status_code == 200
    assert message in page(response)
    assert db.scalar(select(func.count()).select_from(Room)) == 1


@pytest.mark.parametrize("name", ["room 1", "Room 1"])
def test_renaming_a_room_to_another_rooms_name_is_refused(
    client: FlaskClient, db: Session, name: str
) -> None:
    make_room(db, name="Room 1")
    other = make_room(db, name="Room 2")
    response = client.post(f"/admin/rooms/{other.id}", data={"name": name})
    assert response.status_code == 200
    assert f"There is already a room called {name}." in page(response)
    assert _rooms(db) == [("Room 1", True), ("Room 2", True)]


def test_unknown_rooms_are_not_found(client: FlaskClient) -> None:
    assert client.get("/admin/rooms/42").status_code == 404
    assert client.post("/admin/rooms/42/deactivate").status_code == 404
