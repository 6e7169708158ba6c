"""The re-screen before every booking, and its handoff to the booking flow."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.intake import services
from clinic.intake.models import Intake, IntakeKind, Screening
from clinic.intake.vocabulary import RESCREEN_FIELDS
from tests import test_intake_views as shared
from tests.test_intake_views import (
    CLEAR,
    NOW,
    URGENT,
    arrange,
    form_data,
    main_html,
    rescreen_part,
    text_of,
)

# The shared fixtures (defined with the client page tests).
booking_start = shared.booking_start
client_user = shared.client_user
fixed_clock = shared.fixed_clock


def latest(db: Session) -> Screening:
    db.expire_all()
    found = db.scalar(select(Screening).order_by(Screening.id.desc()).limit(1))
    assert found is not None
    return found


def test_the_rescreen_asks_the_safety_section_and_four_pain_questions(
    client: FlaskClient, client_user: User, db: Session, app: Flask
) -> None:
    arrange(db, app, client_user, CLEAR)
    page = main_html(client.get("/intake/rescreen?next=/booking/"))
    names = set(re.findall(r'name="(\w+)"', page)) - {"csrf_token"}
    assert names == set(RESCREEN_FIELDS)
    assert {"pain_score", "pain_trend", "symptom_extent_trend",
            "legs_affected"} <= names
    assert "age_years" not in names and "medications" not in names
    assert 'action="/intake/rescreen?next=/booking/"' in page


def test_without_a_full_intake_the_client_is_sent_to_the_questionnaire(
    client: FlaskClient, client_user: User
) -> None:
    response = client.get("/intake/rescreen?next=/booking/times?service=2")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "/intake/?next=/booking/times?service%3D2"
    )
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Before your first booking, please answer the health questions." in page


def test_a_bookable_rescreen_returns_to_next_with_the_screening_id(
    client: FlaskClient, client_user: User, db: Session, app: Flask
) -> None:
    base = arrange(db, app, client_user, CLEAR)
    response = client.post(
        "/intake/rescreen?next=/booking/times%3Fservice%3D3%26screening%3D1",
        data=form_data(rescreen_part({**CLEAR, "pain_score": 2})),
    )
    new = latest(db)
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/booking/times?service=3&screening={new.id}"
    )
    intake = db.get(Intake, new.intake_id)
    assert intake is not None and intake.kind is IntakeKind.RESCREEN
    assert intake.based_on_id == base.intake_id
    assert intake.answers == {**CLEAR, "pain_score": 2}
    gate = services.booking_gate(db, client_user.id, new.id, NOW)
    assert (gate.allowed, gate.suggested) == (True, "swedish")


@pytest.mark.parametrize(
    "unsafe",
    ["https://evil.example/booking", "//evil.example/booking", "/\\evil.example",
     "javascript:alert(1)", "booking/times"],
)
def test_an_unsafe_next_is_ignored(
    client: FlaskClient, client_user: User, db: Session, app: Flask, unsafe: str
) -> None:
    arrange(db, app, client_user, CLEAR)
    response = client.post("/intake/rescreen", query_string={"next": unsafe},
                           data=form_data(rescreen_part(CLEAR)))
    assert response.headers["Location"] == f"/intake/screenings/{latest(db).id}"


def test_a_blocked_rescreen_shows_the_outcome_and_the_gate_stays_shut(
    client: FlaskClient, client_user: User, db: Session, app: Flask,
    booking_start: str,
) -> None:
    arrange(db, app, client_user, CLEAR)
    response = client.post("/intake/rescreen?next=/booking/",
                           data=form_data(rescreen_part(URGENT)))
    new = latest(db)
    assert response.headers["Location"] == f"/intake/screenings/{new.id}"
    assert new.outcome == "urgent"
    page = main_html(client.get(response.headers["Location"]))
    assert "/booking" not in page
    assert text_of(page).startswith("Please get medical help now")
    gate = services.booking_gate(db, client_user.id, new.id, NOW)
    assert gate.allowed is False
    assert gate.reason.startswith("You've told us about changes in bladder")


def test_rescreen_answers_are_required_too(
    client: FlaskClient, client_user: User, db: Session, app: Flask
) -> None:
    arrange(db, app, client_user, CLEAR)
    answers = rescreen_part(CLEAR)
    del answers["saddle_numbness"]
    response = client.post("/intake/rescreen?next=/booking/", data=form_data(answers))
    assert response.status_code == 200
    assert 'id="saddle_numbness-error">Please choose an answer.' in main_html(response)
    assert db.scalar(select(Intake).where(Intake.kind == IntakeKind.RESCREEN)) is None


def test_questionnaire_with_next_returns_to_booking_when_bookable(
    client: FlaskClient, client_user: User, db: Session
) -> None:
    response = client.post("/intake/?next=/booking/", data=form_data(CLEAR))
    assert response.headers["Location"] == f"/booking/?screening={latest(db).id}"


def test_staff_cannot_rescreen(
    client: FlaskClient, make_user: Callable[..., User],
    login: Callable[[User], None],
) -> None:
    login(make_user(Role.ADMIN))
    assert client.post("/intake/rescreen", data={}).status_code == 403
