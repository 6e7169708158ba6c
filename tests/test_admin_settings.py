"""The clinic's settings and booking policy, saved by an admin and used by
every request afterwards."""

from __future__ import annotations

import html
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.db import new_session
from clinic.settings.models import ClinicSettings
from clinic.settings.services import load_settings
from tests.test_admin_support import audit_rows, fix_clock, log_in_admin, page

VALUES = {
    "clinic_name": "Back in Balance", "clinic_phone": "020 7946 0555",
    "emergency_number": "112", "urgent_care": "your GP surgery today",
    "clearance_valid_days": "60", "notes_visible_to_all_therapists": "y",
    "min_notice_minutes": "240", "horizon_days": "30", "cancel_cutoff_hours": "48",
    "slot_step_minutes": "30",
}


@pytest.fixture(autouse=True)
def admin(monkeypatch: pytest.MonkeyPatch, make_user: Callable[..., User],
          login: Callable[[User], None]) -> User:
    fix_clock(monkeypatch)
    return log_in_admin(make_user, login)


def test_the_form_shows_the_configured_defaults(client: FlaskClient) -> None:
    body = page(client.get("/admin/settings"))
    assert 'value="Clinic"' in body and 'value="999"' in body
    assert 'value="120"' in body  # minimum notice
    assert '<option selected value="15">' in body


def test_saved_settings_are_what_load_settings_returns(
    app: Flask, client: FlaskClient, db: Session, admin: User
) -> None:
    response = client.post("/admin/settings", data=VALUES)
    assert response.status_code == 302
    with app.app_context():
        session = new_session(app, write=False)
        saved = load_settings(session, app.config)
        session.close()
    assert (saved.clinic_name, saved.clinic_phone, saved.emergency_number,
            saved.urgent_care, saved.clearance_valid_days,
            saved.notes_visible_to_all_therapists) == (
        "Back in Balance", "020 7946 0555", "112", "your GP surgery today", 60, True)
    assert (saved.min_notice_minutes, saved.horizon_days, saved.cancel_cutoff_hours,
            saved.slot_step_minutes) == (240, 30, 48, 30)
    assert saved.policy.slot_step.total_seconds() == 30 * 60
    (event,) = audit_rows(db, "settings")
    assert (event.action, event.actor_id, event.record_id) == ("update", admin.id, 1)
    assert event.detail == (
        "changed: cancel_cutoff_hours, clearance_valid_days, clinic_name, "
        "clinic_phone, emergency_number, horizon_days, min_notice_minutes, "
        "notes_visible_to_all_therapists, slot_step_minutes, urgent_care")
    assert 'value="Back in Balance"' in page(client.get("/admin/settings"))


def test_saving_again_unchanged_records_that_nothing_changed(
    client: FlaskClient, db: Session
) -> None:
    client.post("/admin/settings", data=VALUES)
    client.post("/admin/settings", data=VALUES)
    assert [e.detail for e in audit_rows(db, "settings")][1] == "changed: nothing"


def test_unticking_notes_visibility_is_saved(client: FlaskClient, db: Session
                                             ) -> None:
    client.post("/admin/settings", data=VALUES)
    client.post("/admin/settings", data={
        k: v for k, v in VALUES.items() if k != "notes_visible_to_all_therapists"})
    db.expire_all()
    row = db.get(ClinicSettings, 1)
    assert row is not None and row.notes_visible_to_all_therapists is False


@pytest.mark.parametrize(("field", "value", "message"), [
    ("clinic_name", "", "Please enter the clinic's name."),
    ("clinic_name", "c" * 121, "Please use at most 120 characters."),
    ("clinic_name", "Back\x00Clinic", "Please remove unusual characters."),
    ("clinic_phone", "phone us", "Please use digits, spaces"),
    ("emergency_number", "nine", "Please use digits only"),
    ("emergency_number", "9" * 21, "Please use at most 20 characters."),
    ("urgent_care", "u" * 201, "Please use at most 200 characters."),
    ("clearance_valid_days", "0", "Please enter 1 to 730 days."),
    ("min_notice_minutes", "-5", "Please enter 0 to 10080 minutes."),
    ("min_notice_minutes", "9" * 25, "Please enter 0 to 10080 minutes."),
    ("horizon_days", "366", "Please enter 1 to 365 days."),
    ("horizon_days", "ten", "Please enter a whole number, like 30."),
    ("cancel_cutoff_hours", "169", "Please enter 0 to 168 hours."),
    ("slot_step_minutes", "7", "Please choose one of the listed steps."),
    ("slot_step_minutes", "abc", "Please choose one of the listed steps."),
])
def test_bad_settings_are_explained_and_nothing_is_saved(
    client: FlaskClient, db: Session, field: str, value: str, message: str
) -> None:
    response = client.post("/admin/settings", data={**VALUES, field: value})
    assert response.status_code == 200
    body = html.unescape(page(response))
    assert message in body.split(f'id="{field}-error"')[1].split("</p>")[0]
    assert db.get(ClinicSettings, 1) is None
    assert audit_rows(db, "settings") == []
