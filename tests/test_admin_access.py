"""Only admins reach the admin pages: other roles get 403, visitors the
login page, and nothing changes for either."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.booking.models import Service
from tests.factories import make_service

GET_PAGES = [
    "/admin/", "/admin/services", "/admin/services/new", "/admin/services/1",
    "/admin/rooms", "/admin/rooms/1", "/admin/therapists", "/admin/therapists/new",
    "/admin/therapists/1", "/admin/therapists/1/deactivate",
    "/admin/therapists/1/hours", "/admin/therapists/1/time-off",
    "/admin/admins/new", "/admin/admins/1", "/admin/closures", "/admin/settings",
]
POST_ACTIONS = [
    "/admin/services/new", "/admin/services/1", "/admin/services/1/deactivate",
    "/admin/services/1/reactivate", "/admin/rooms", "/admin/rooms/1/deactivate",
    "/admin/therapists/new", "/admin/therapists/1/deactivate",
    "/admin/therapists/1/hours", "/admin/therapists/1/time-off",
    "/admin/therapists/1/time-off/1/delete", "/admin/admins/new", "/admin/admins/1",
    "/admin/admins/1/deactivate", "/admin/staff/1/reactivate",
    "/admin/staff/1/invite", "/admin/closures", "/admin/closures/1/delete",
    "/admin/settings",
]


@pytest.fixture
def service(db: Session) -> Service:
    return make_service(db, name="Back massage")


def _unchanged(db: Session, service: Service) -> None:
    db.expire_all()
    saved = db.get(Service, service.id)
    assert saved is not None and saved.active and saved.name == "Back massage"
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 0


@pytest.mark.parametrize("role", [Role.CLIENT, Role.THERAPIST])
def test_other_roles_are_refused_every_admin_page(
    client: FlaskClient, db: Session, make_user: Callable[..., User],
    login: Callable[[User], None], service: Service, role: Role
) -> None:
    login(make_user(role))
    for url in GET_PAGES:
        assert client.get(url).status_code == 403, url
    for url in POST_ACTIONS:
        assert client.post(url, data={"name": "Taken over"}).status_code == 403, url
    _unchanged(db, service)


def test_visitors_are_sent_to_the_login_page(
    client: FlaskClient, db: Session, service: Service
) -> None:
    for url in GET_PAGES:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url
    for url in POST_ACTIONS:
        assert client.post(url, data={"name": "Taken over"}).status_code == 302, url
    _unchanged(db, service)


def test_admin_pages_refuse_forms_without_the_csrf_token(
    app: Flask, db: Session, make_user: Callable[..., User], service: Service
) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    admin = make_user(Role.ADMIN)
    browser = app.test_client()
    login_page = browser.get("/login").get_data(as_text=True)
    token = login_page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    browser.post("/login", data={"email": admin.email, "password": "correct-horse-42",
                                 "csrf_token": token})
    response = browser.post(f"/admin/services/{service.id}/deactivate")
    assert response.status_code == 400
    _unchanged(db, service)
