"""Staff record a clinician's clearance note (spec §3.2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.intake import services
from clinic.intake.models import Clearance, ReceivedVia, Screening
from tests import test_intake_views as shared
from tests.test_intake_views import (
    CLEAR,
    NOW,
    REFER,
    arrange,
    audit_rows,
    count,
    form_data,
    main_html,
    rescreen_part,
    text_of,
)

fixed_clock = shared.fixed_clock
DVT = {**CLEAR, "one_leg_swollen_warm_red": "yes"}  # U-DVT
NOTE = {
    "clinician_name": "Dr Jo Bloggs",
    "profession": "doctor",
    "note_date": "2026-06-10",
    "rule_ids": ["R-CANCER-HISTORY"],
    "restrictions": "No pressure over the left hip.",
    "exclusions": "standard",
    "received_via": "email",
}


@pytest.fixture
def staff(make_user: Callable[..., User], login: Callable[[User], None]) -> User:
    user = make_user(Role.ADMIN, full_name="Ada Admin")
    login(user)
    return user


@pytest.fixture
def person(make_user: Callable[..., User]) -> User:
    return make_user(full_name="Rhea Refer")


def latest(db: Session, client_id: int) -> Screening:
    db.expire_all()
    found = services.latest_screening(db, client_id)
    assert found is not None
    return found


def post(client: FlaskClient, person: User, **changes: Any) -> Any:
    return client.post(f"/intake/clients/{person.id}/clearance",
                       data=form_data({**NOTE, **changes}))


def test_the_form_offers_the_clearable_rules_the_latest_screening_fired(
    client: FlaskClient, staff: User, person: User, db: Session, app: Flask
) -> None:
    arrange(db, app, person, {**REFER, "fever": "yes", "bladder_change": "unsure"})
    page = main_html(client.get(f"/intake/clients/{person.id}/clearance"))
    offered = re.findall(r'<label for="rule_ids-\d">([^<]+)</label>', page)
    # R-UNCONFIRMED is cleared by answering, never by a note.
    assert offered == ["R-CANCER-HISTORY: History of cancer",
                       "R-FEVER: Fever or acute infection"]
    assert "The note covers the rules you tick for 90 days." in text_of(page)
    techniques = re.findall(r'name="excluded" type="checkbox" value="(\w+)"', page)
    assert techniques == ["deep_tissue", "trigger_point", "neuromuscular"]


def test_a_clearance_unblocks_a_refer_and_a_fresh_rescreen_may_book(
    client: FlaskClient, staff: User, person: User, db: Session, app: Flask,
    make_user: Callable[..., User], login: Callable[[User], None],
) -> None:
    blocked = arrange(db, app, person, REFER)
    assert services.booking_gate(db, person.id, blocked.id, NOW).allowed is False
    response = post(client, person)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/intake/clients/{person.id}"
    note = db.scalar(select(Clearance))
    assert note is not None
    assert (note.clinician_name, note.profession, note.note_date, note.rule_ids,
            note.restrictions, note.excluded_override, note.urgent_assessed,
            note.received_via, note.recorded_by_id, note.recorded_at,
            note.valid_until) == (
        "Dr Jo Bloggs", "Doctor or GP", date(2026, 6, 10), ["R-CANCER-HISTORY"],
        "No pressure over the left hip.", None, False, ReceivedVia.EMAIL, staff.id,
        NOW, NOW + timedelta(days=90))
    recomputed = latest(db, person.id)
    assert (recomputed.outcome, recomputed.cleared_rules,
            recomputed.excluded_techniques) == (
        "caution", ["R-CANCER-HISTORY"],
        ["deep_tissue", "neuromuscular", "trigger_point"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Clearance note recorded. The outcome is now caution." in page
    [row] = [r for r in audit_rows(db) if r.action == "create"]
    assert (row.record_type, row.record_id, row.subject_user_id, row.actor_id) == (
        "clearance", note.id, person.id, staff.id)

    # The booking gate wants the screening made for the booking: a fresh one.
    client.post("/logout")
    login(person)
    answer = client.post("/intake/rescreen?next=/booking/",
                         data=form_data(rescreen_part(REFER)))
    fresh = latest(db, person.id)
    assert answer.headers["Location"] == f"/booking/?screening={fresh.id}"
    gate = services.booking_gate(db, person.id, fresh.id, NOW)
    assert (gate.allowed, gate.techniques, gate.suggested) == (
        True, ("swedish",), "swedish")


def test_an_urgent_rule_needs_the_urgent_assessment_box(
    client: FlaskClient, staff: User, person: User, db: Session, app: Flask
) -> None:
    arrange(db, app, person, DVT)
    refused = post(client, person, rule_ids=["U-DVT"])
    assert refused.status_code == 200
    assert re.search(
        r'id="urgent_assessed-error">An urgent rule can only be cleared by a note '
        r"stating that urgent or emergency assessment has taken place.",
        main_html(refused),
    )
    assert count(db, Clearance) == 0
    assert latest(db, person.id).outcome == "urgent"

    accepted = post(client, person, rule_ids=["U-DVT"], urgent_assessed="y")
    assert accepted.status_code == 302
    recomputed = latest(db, person.id)
    assert (recomputed.outcome, recomputed.excluded_techniques) == (
        "caution", ["deep_tissue", "neuromuscular", "trigger_point"])


def test_the_note_may_give_different_exclusions(
    client: FlaskClient, staff: User, person: User, db: Session, app: Flask
) -> None:
    arrange(db, app, person, REFER)
    post(client, person, exclusions="note", excluded=["deep_tissue"])
    note = db.scalar(select(Clearance))
    assert note is not None and note.excluded_override == ["deep_tissue"]
    assert latest(db, person.id).excluded_techniques == ["deep_tissue"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"clinician_name": ""}, "clinician_name",
         "Please enter the clinician's name."),
        ({"clinician_name": "x" * 121}, "clinician_name",
         "Please use at most 120 characters."),
        ({"clinician_name": "Dr\x00No"}, "clinician_name",
         "Please remove unusual characters."),
        ({"profession": "vet"}, "profession",
         "Please choose one of the answers shown."),
        ({"profession": "other"}, "profession_other",
         "Please say which profession the clinician has."),
        ({"profession": "other", "profession_other": "x" * 61}, "profession_other",
         "Please use at most 60 characters."),
        ({"note_date": "2026-06-16"}, "note_date",
         "The date of the note cannot be in the future."),
        ({"note_date": "9999-12-31"}, "note_date",
         "The date of the note cannot be in the future."),
        ({"note_date": "2025-06-01"}, "note_date",
         "This note is more than a year old. Please ask for a recent one."),
        ({"note_date": "10/06/2026"}, "note_date",
         "Please enter a date as year-month-day, for example 2026-03-14."),
        ({"note_date": ""}, "note_date", "Please enter the date of the note."),
        ({"rule_ids": []}, "rule_ids", "Please tick the rules this note covers."),
        ({"rule_ids": ["R-FEVER"]}, "rule_ids", "Please tick only the answers shown."),
        ({"rule_ids": ["U-CES"]}, "rule_ids", "Please tick only the answers shown."),
        ({"exclusions": "note", "excluded": ["swedish"]}, "excluded",
         "Please tick only the answers shown."),
        ({"exclusions": "everything"}, "exclusions",
         "Please choose one of the answers shown."),
        ({"received_via": "fax"}, "received_via",
         "Please choose one of the answers shown."),
        ({"restrictions": "x" * 501}, "restrictions",
         "Please use at most 500 characters."),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(
    client: FlaskClient, staff: User, person: User, db: Session, app: Flask,
    changes: dict[str, Any], field: str, message: str,
) -> None:
    arrange(db, app, person, REFER)
    response = post(client, person, **changes)
    assert response.status_code == 200
    shown = re.escape(message.replace("'", "&#39;"))
    assert re.search(rf'id="{field}-error">{shown}', main_html(response))
    assert count(db, Clearance) == 0
    assert count(db, Screening) == 1


def test_a_client_with_nothing_to_clear_gets_a_message(
    client: FlaskClient, staff: User, person: User, db: Session, app: Flask
) -> None:
    arrange(db, app, person, CLEAR)
    page = main_html(client.get(f"/intake/clients/{person.id}/clearance"))
    assert "Nothing in the latest answers needs a clearance note." in page
    assert "<form" not in page
    response = post(client, person)
    assert response.status_code == 200
    assert count(db, Clearance) == 0


def test_a_note_must_cover_every_urgent_rule(
    db: Session, app: Flask, person: User, make_user: Callable[..., User]
) -> None:
    arrange(db, app, person, {**DVT, "history_of_cancer": "yes"})
    from tests.test_intake_review import note, services_settings

    with pytest.raises(services.IntakeError, match="also fire U-DVT"):
        services.record_clearance(db, person, note(["R-CANCER-HISTORY"]),
                                  by=make_user(Role.THERAPIST),
                                  settings=services_settings(db, app), now=NOW)


def test_clients_cannot_record_clearances(
    client: FlaskClient, person: User, db: Session, app: Flask,
    login: Callable[[User], None],
) -> None:
    arrange(db, app, person, REFER)
    login(person)
    assert post(client, person).status_code == 403
    assert count(db, Clearance) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rule_ids": ["R-FEVER"]},
         "Choose only rules that apply to the latest answers."),
        ({"rule_ids": ["R-UNCONFIRMED"]}, "Choose the rules this note covers."),
        ({"excluded_override": frozenset({"reiki"})},
         "Choose techniques from the list."),
        ({"excluded_override": frozenset({"swedish"})},
         "A clearance cannot exclude Swedish massage."),
    ],
)
def test_the_service_refuses_notes_the_form_would_not_send(
    db: Session, app: Flask, person: User, make_user: Callable[..., User],
    changes: dict[str, Any], message: str,
) -> None:
    from tests.test_intake_review import note, services_settings

    arrange(db, app, person, REFER)
    with pytest.raises(services.IntakeError, match=re.escape(message)):
        changes = dict(changes)
        rules = changes.pop("rule_ids", ["R-CANCER-HISTORY"])
        services.record_clearance(db, person, note(rules, **changes),
                                  by=make_user(Role.THERAPIST),
                                  settings=services_settings(db, app), now=NOW)
    db.rollback()
    assert count(db, Clearance) == 0
