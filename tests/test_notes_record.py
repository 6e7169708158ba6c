"""The client's own record: what it holds, what it never holds, and its audit."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from tests.factories import BLEEDING_RISK_ANSWERS, make_person
from tests.test_notes_support import (
    Clinic,
    acknowledge,
    arrange_clinic,
    audit_rows,
    hours_ago,
    last_audit_id,
    session_at,
    write_note,
)

Login = Callable[[User], None]


@pytest.fixture
def clinic(db: Session) -> Clinic:
    """A caution intake, a signed note and a later draft."""
    clinic = arrange_clinic(db)
    signed = session_at(db, clinic, hours_ago(48), answers=BLEEDING_RISK_ANSWERS)
    acknowledge(db, signed, clinic.therapist_user)
    write_note(db, signed, clinic.therapist_user, objective="SECRET-OBJECTIVE",
               assessment="SECRET-ASSESSMENT", plan="Two more sessions.",
               home_care="Keep walking every day.")
    draft = session_at(db, clinic, hours_ago(1))
    write_note(db, draft, clinic.therapist_user, sign=False, plan="DRAFT-PLAN",
               home_care="DRAFT-ADVICE")
    return clinic


def test_the_page_shows_answers_outcomes_appointments_and_signed_advice(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    login(clinic.client)
    before = last_audit_id(db)
    response = client.get("/notes/my-record")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Two more sessions." in page and "Keep walking every day." in page
    assert "Health questionnaire" in page
    assert "Which leg has pain, pins and needles or numbness?" in page
    assert "<dd>Right leg</dd>" in page
    assert "You can book (with some precautions)" in page
    assert "Your therapist will adapt your treatment" in page
    assert "Back massage" in page and "Alex Therapist" in page
    for hidden in ("SECRET-OBJECTIVE", "SECRET-ASSESSMENT", "DRAFT-PLAN",
                   "DRAFT-ADVICE", "C-BLEEDING-RISK", "legs_affected", "anticoagulant"):
        assert hidden not in page, hidden
    assert [(r.action, r.record_type, r.subject_user_id, r.allowed)
            for r in audit_rows(db, before)] == [
        ("view", "client_record", clinic.client.id, True)
    ]


def test_the_json_download(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    login(clinic.client)
    before = last_audit_id(db)
    response = client.get("/notes/my-record.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith(
        'attachment; filename="my-clinic-record-'
    )
    assert response.headers["Cache-Control"] == "no-store"
    record = response.get_json()
    assert set(record) == {"generated", "client", "intakes", "appointments",
                           "session_notes"}
    assert record["client"]["name"] == "Casey Client"
    [note] = record["session_notes"]
    assert (note["plan"], note["home_care"], note["therapist"]) == (
        "Two more sessions.", "Keep walking every day.", "Alex Therapist"
    )
    assert set(note) == {"session", "therapist", "plan", "home_care"}
    assert len(record["appointments"]) == 2
    assert len(record["intakes"]) == 2
    [screening] = record["intakes"][-1]["screenings"]
    assert screening["outcome"] == "You can book (with some precautions)"
    text = json.dumps(record)
    for hidden in ("SECRET", "DRAFT", "C-BLEEDING-RISK", "therapist_notes"):
        assert hidden not in text, hidden
    assert [(r.action, r.record_type, r.subject_user_id)
            for r in audit_rows(db, before)] == [
        ("export", "client_record", clinic.client.id)
    ]


def test_a_client_sees_only_their_own_record(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    other = make_person(db, Role.CLIENT, full_name="Olive Other")
    login(other)
    page = client.get("/notes/my-record").get_data(as_text=True)
    assert "Olive Other" in page and "Casey Client" not in page
    assert "Two more sessions." not in page
    assert "You have not answered the health questions yet." in page


@pytest.mark.parametrize("role", [Role.THERAPIST, Role.ADMIN])
def test_staff_have_no_my_record(
    client: FlaskClient, db: Session, login: Login, role: Role
) -> None:
    login(make_person(db, role))
    assert client.get("/notes/my-record").status_code == 403
    assert client.get("/notes/my-record.json").status_code == 403


def test_anonymous_visitors_log_in_first(client: FlaskClient) -> None:
    assert client.get("/notes/my-record").status_code == 302
