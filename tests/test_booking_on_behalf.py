"""An admin books on a client's behalf: the safety questions read to the
client, the same gate, the client's free times, and the client's mail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from clinic import clock
from clinic.accounts.models import Role
from clinic.audit.models import AuditEvent
from clinic.booking.models import Booking
from clinic.intake.models import Intake, IntakeKind
from clinic.intake.services import latest_screening, result_of
from clinic.intake.vocabulary import RESCREEN_FIELDS
from tests import factories
from tests.factories import CLEAR_ANSWERS, NOW, REFER_ANSWERS, WED_10, World
from tests.test_booking_views import page_text

world = factories.world


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


def answers(values: dict[str, Any]) -> MultiDict[str, str]:
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        if key in RESCREEN_FIELDS:
            items = value if isinstance(value, list) else [value]
            pairs.extend((key, str(item)) for item in items)
    return MultiDict(pairs)


def bookings(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(Booking)) or 0


def start_args(world: World) -> dict[str, Any]:
    return {"service": world.service.id, "technique": "swedish", "therapist": ""}


def test_an_admin_rescreens_a_client_and_books_for_them(
    client: FlaskClient, login: Callable[..., None], make_user: Callable[..., Any],
    db: Session, world: World, smtp_sink: Any,
) -> None:
    admin = make_user(Role.ADMIN, full_name="Ada Admin")
    login(admin)
    cid = world.client.id
    record = client.get(f"/intake/clients/{cid}")
    assert f'href="/booking/for/{cid}/"' in record.get_data(as_text=True)
    response = client.get(f"/booking/for/{cid}/", query_string=start_args(world))
    target = urlsplit(response.headers["Location"])
    assert target.path == f"/intake/clients/{cid}/rescreen"
    nxt = parse_qs(target.query)["next"][0]
    assert nxt == (f"/booking/for/{cid}/times?service={world.service.id}"
                   "&technique=swedish&therapist=")
    page = client.get(response.headers["Location"])
    assert "Read each question to Casey Client" in page_text(page)
    response = client.post(response.headers["Location"],
                           data=answers(dict(CLEAR_ANSWERS)))
    db.expire_all()
    fresh = db.scalars(select(Intake).where(Intake.client_id == cid)
                       .order_by(Intake.id.desc())).first()
    assert fresh is not None and fresh.kind is IntakeKind.RESCREEN
    assert fresh.created_by_id == admin.id
    location = response.headers["Location"]
    screening_id = int(parse_qs(urlsplit(location).query)["screening"][0])
    times = client.get(location)
    assert times.status_code == 200
    assert "Choose a time for Casey Client" in page_text(times)
    assert f'action="/booking/for/{cid}/confirm"' in times.get_data(as_text=True)
    response = client.post(f"/booking/for/{cid}/confirm", data={
        "service_id": world.service.id, "technique": "swedish",
        "therapist_id": world.therapist.user_id, "start": WED_10.isoformat(),
        "screening_id": screening_id})
    assert response.status_code == 302
    assert response.headers["Location"] == "/schedule/clinic?date=2027-03-24"
    booking = db.scalar(select(Booking))
    assert booking is not None
    assert (booking.client_id, booking.created_by_id) == (cid, admin.id)
    shown = page_text(client.get(response.headers["Location"]))
    assert ("Back massage booked for Casey Client on Wed 24 Mar 2027, 10:00 GMT."
            in shown)
    assert len(smtp_sink.to(world.client.email)) == 1
    assert smtp_sink.to(admin.email) == []
    assert db.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "create", AuditEvent.record_type == "intake",
        AuditEvent.record_id == fresh.id)) == 1


def test_the_gate_applies_when_an_admin_books(
    client: FlaskClient, login: Callable[..., None], make_user: Callable[..., Any],
    db: Session, world: World,
) -> None:
    login(make_user(Role.ADMIN))
    cid = world.client.id
    nxt = f"/booking/for/{cid}/times?service={world.service.id}&technique=swedish"
    response = client.post(f"/intake/clients/{cid}/rescreen",
                           query_string={"next": nxt},
                           data=answers(dict(REFER_ANSWERS)))
    assert response.headers["Location"] == f"/intake/clients/{cid}"
    text = page_text(client.get(response.headers["Location"]))
    assert "Casey Client cannot be booked now: Refer." in text
    db.expire_all()
    held = latest_screening(db, cid)
    assert held is not None and held.outcome == "refer"
    reason = " ".join(result_of(held).client_messages)
    refused = client.post(f"/booking/for/{cid}/confirm", data={
        "service_id": world.service.id, "technique": "swedish",
        "therapist_id": world.therapist.user_id, "start": WED_10.isoformat(),
        "screening_id": held.id})
    assert refused.status_code == 200
    assert reason in page_text(refused)
    assert bookings(db) == 0
    times = client.get(nxt + f"&screening={held.id}")
    assert reason in page_text(times)
    assert "Choose a time" not in page_text(times)


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.CLIENT])
def test_only_admins_book_for_someone_else(
    client: FlaskClient, login: Callable[..., None], make_user: Callable[..., Any],
    world: World, role: Role,
) -> None:
    login(make_user(role))
    cid = world.client.id
    assert client.get(f"/booking/for/{cid}/").status_code == 403
    assert client.get(f"/booking/for/{cid}/times").status_code == 403
    assert client.post(f"/booking/for/{cid}/confirm").status_code == 403
    assert client.get(f"/intake/clients/{cid}/rescreen").status_code == 403


def test_a_client_cannot_book_for_another_client(
    client: FlaskClient, login: Callable[..., None], db: Session, world: World,
) -> None:
    other = factories.make_client(db, full_name="Other Person")
    factories.make_intake(db, other, now=NOW)
    login(other)
    response = client.post("/booking/confirm", query_string={
        "client_id": world.client.id}, data={
        "service_id": world.service.id, "technique": "swedish",
        "therapist_id": world.therapist.user_id, "start": WED_10.isoformat(),
        "screening_id": world.screening.id, "client_id": world.client.id})
    assert response.status_code == 200  # refused: not the other client's answers
    assert bookings(db) == 0


def test_unknown_or_non_client_ids_are_404(
    client: FlaskClient, login: Callable[..., None], make_user: Callable[..., Any],
    world: World,
) -> None:
    admin = make_user(Role.ADMIN)
    login(admin)
    for cid in (999999, admin.id, 10**30):
        assert client.get(f"/booking/for/{cid}/").status_code == 404
        assert client.get(f"/intake/clients/{cid}/rescreen").status_code == 404


