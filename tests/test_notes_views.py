"""The note page: writing, signing, addenda, who may see it, and its audit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask, render_template
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.booking.models import Booking
from clinic.db import utcnow
from clinic.notes import history
from clinic.notes.advice import HOME_CARE
from clinic.notes.models import NoteStatus, SessionNote
from clinic.settings.services import save_settings
from tests.factories import make_person, make_therapist
from tests.test_notes_support import (
    BLEEDING_RISK_ANSWERS,
    MILD_NEURO_ANSWERS,
    Clinic,
    acknowledge,
    arrange_clinic,
    audit_rows,
    hours_ago,
    last_audit_id,
    session_at,
    write_note,
)

FORM: dict[str, Any] = {
    "subjective": "Sore after gardening.",
    "objective": "Tight right gluteals.",
    "assessment": "Muscular.",
    "plan": "Weekly for three weeks.",
    "techniques_used": ["swedish"],
    "pressure": "moderate",
    "areas_treated": "Lower back",
    "areas_avoided": "",
    "nprs_before": "6",
    "nprs_after": "3",
    "extent_level": "2",
    "extent_trend": "no_change",
    "home_care": "Walk daily.",
    "intent": "save",
}

Login = Callable[[User], None]


@pytest.fixture
def clinic(db: Session) -> Clinic:
    return arrange_clinic(db)


@pytest.fixture
def booking(db: Session, clinic: Clinic) -> Booking:
    return session_at(db, clinic, hours_ago(1))


def url(booking: Booking) -> str:
    return f"/notes/booking/{booking.id}"


def note_of(db: Session, booking: Booking) -> SessionNote | None:
    db.expire_all()
    return db.query(SessionNote).filter_by(booking_id=booking.id).one_or_none()


def reads(db: Session, since: int) -> list[tuple[Any, ...]]:
    return [(r.actor_id, r.action, r.record_type, r.record_id, r.subject_user_id,
             r.allowed) for r in audit_rows(db, since)]


# ---------------------------------------------------------------- writing


def test_the_therapist_starts_a_note_prefilled_from_the_screening(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    login(clinic.therapist_user)
    before = last_audit_id(db)
    page = client.get(url(booking)).get_data(as_text=True)
    assert "Before this visit the client reported pain 4/10 on average over the " \
        "last 24 hours, staying about the same over the last week" in page
    assert 'name="nprs_before" type="number" value="4"' in page
    assert 'id="extent_level-2" name="extent_level" type="radio" value="2"' in page
    assert str(escape(HOME_CARE["A-NO-HAMSTRING-STRETCH"])) in page
    assert reads(db, before) == [
        (clinic.therapist.user_id, "view", "session_note", None, clinic.client.id, True)
    ]


def test_save_a_draft_then_sign_it(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    login(clinic.therapist_user)
    response = client.post(url(booking), data=FORM)
    assert response.status_code == 302 and response.headers["Location"] == url(booking)
    draft = note_of(db, booking)
    assert draft is not None and draft.status is NoteStatus.DRAFT
    assert (draft.nprs_before, draft.extent_level, draft.techniques_used) == (
        6, 2, ["swedish"]
    )
    page = client.get(url(booking)).get_data(as_text=True)
    assert "Draft last saved" in page and "Sore after gardening." in page
    response = client.post(url(booking), data={**FORM, "intent": "sign"})
    assert response.status_code == 302
    signed = note_of(db, booking)
    assert signed.status is NoteStatus.SIGNED and signed.id == draft.id
    page = client.get(url(booking)).get_data(as_text=True)
    assert "Signed note" in page and 'name="intent"' not in page
    assert "It can no longer be changed." in page


def test_a_signed_note_refuses_an_edit_with_a_message(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    note = write_note(db, booking, clinic.therapist_user)
    login(clinic.therapist_user)
    before = last_audit_id(db)
    response = client.post(url(booking), data={**FORM, "plan": "Changed"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This note is signed and can no longer be changed." in page
    assert note_of(db, booking).plan == "Weekly sessions for three weeks."
    assert reads(db, before) == [
        (clinic.therapist.user_id, "update", "session_note", note.id,
         clinic.client.id, False)
    ]


def test_an_excluded_technique_is_explained_at_the_field(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    booking = session_at(db, clinic, hours_ago(1), answers=MILD_NEURO_ANSWERS)
    acknowledge(db, booking, clinic.therapist_user)
    login(clinic.therapist_user)
    page = client.get(url(booking)).get_data(as_text=True)
    assert ('<input disabled id="techniques_used-1" name="techniques_used" '
            'type="checkbox" value="deep_tissue">') in page
    assert "Excluded by this client&#39;s screening: Deep tissue massage." in page
    response = client.post(url(booking), data={**FORM,
                                               "techniques_used": ["deep_tissue"]})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<p class="error-message" id="techniques_used-error">Deep tissue massage ' \
        "cannot be recorded: this client&#39;s screening for the session excluded it." \
        in page
    assert note_of(db, booking) is None


def test_firm_pressure_is_refused_where_deep_work_is_excluded(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    booking = session_at(db, clinic, hours_ago(1), answers=BLEEDING_RISK_ANSWERS)
    acknowledge(db, booking, clinic.therapist_user)
    login(clinic.therapist_user)
    page = client.get(url(booking)).get_data(as_text=True)
    assert "Firm pressure is ruled out: the screening excludes deep work." in page
    response = client.post(url(booking), data={**FORM, "pressure": "firm"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<p class="error-message" id="pressure-error">Firm pressure cannot be ' \
        "recorded" in page
    assert note_of(db, booking) is None


def test_a_caution_needs_acknowledging_before_the_note(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    booking = session_at(db, clinic, hours_ago(1), answers=BLEEDING_RISK_ANSWERS)
    login(clinic.therapist_user)
    page = client.get(url(booking)).get_data(as_text=True)
    assert "has not been acknowledged" in page and 'name="intent"' not in page
    assert (f'href="/intake/clients/{clinic.client.id}#screening-'
            f'{booking.screening_id}"') in page
    response = client.post(url(booking), data=FORM)
    assert response.status_code == 200
    assert "has not been acknowledged" in response.get_data(as_text=True)
    assert note_of(db, booking) is None


def test_too_early_for_a_note(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic
) -> None:
    booking = session_at(db, clinic, hours_ago(-2))
    login(clinic.therapist_user)
    page = client.get(url(booking)).get_data(as_text=True)
    assert "You can write this note from 15 minutes before the session starts." in page
    assert 'name="intent"' not in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"nprs_before": "lots"}, "nprs_before", "Please enter a whole number from 0"),
        ({"nprs_after": "11"}, "nprs_after", "Please enter a whole number from 0"),
        ({"nprs_after": "99999999999999999999999"}, "nprs_after", "whole number"),
        ({"extent_level": "9"}, "extent_level", "Please choose one of the answers"),
        ({"pressure": "crushing"}, "pressure", "Please choose one of the answers"),
        ({"techniques_used": ["reiki"]}, "techniques_used", "Please tick only"),
        ({"advisories": ["A-BOGUS"]}, "advisories", "Please tick only"),
        ({"plan": "x" * 5001}, "plan", "at most 5000 characters"),
        ({"areas_avoided": "x" * 501}, "areas_avoided", "at most 500 characters"),
        ({"objective": "bad\x00byte"}, "objective", "remove unusual characters"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_written(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking,
    changes: dict[str, Any], field: str, message: str,
) -> None:
    login(clinic.therapist_user)
    response = client.post(url(booking), data={**FORM, **changes})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    error = page.split(f'id="{field}-error">')[1].split("</p>")[0]
    assert message in error
    assert note_of(db, booking) is None


def test_signing_an_incomplete_note_says_what_is_missing(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    login(clinic.therapist_user)
    data = {**FORM, "intent": "sign", "nprs_after": "", "techniques_used": []}
    page = client.post(url(booking), data=data).get_data(as_text=True)
    assert "Please enter the pain score after the session." in page
    assert "Please tick the techniques you used." in page
    assert note_of(db, booking) is None


# ---------------------------------------------------------------- addenda


def test_an_addendum_sits_under_the_unchanged_original(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    note = write_note(db, booking, clinic.therapist_user)
    login(clinic.therapist_user)
    response = client.post(f"{url(booking)}/addenda",
                           data={"text": "Pain before was 5, not 6."})
    assert response.status_code == 302
    assert response.headers["Location"] == f"{url(booking)}#addenda"
    page = client.get(url(booking)).get_data(as_text=True)
    original = page.index("Weekly sessions for three weeks.")
    addendum = page.index("Pain before was 5, not 6.")
    assert original < addendum
    assert "Addendum by Alex Therapist" in page
    assert note_of(db, booking).nprs_before == note.nprs_before == 6


def test_an_empty_addendum_is_explained(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    write_note(db, booking, clinic.therapist_user)
    login(clinic.therapist_user)
    response = client.post(f"{url(booking)}/addenda", data={"text": "  "})
    assert response.status_code == 200
    assert "Please write the addendum." in response.get_data(as_text=True)


def test_only_the_author_adds_addenda(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    write_note(db, booking, clinic.therapist_user)
    admin = make_person(db, Role.ADMIN)
    login(admin)
    before = last_audit_id(db)
    response = client.post(f"{url(booking)}/addenda", data={"text": "Admin edit"})
    assert response.status_code == 404
    assert reads(db, before) == [
        (admin.id, "create", "note_addendum", None, clinic.client.id, False)
    ]


# ---------------------------------------------------------------- who may read


def test_another_therapist_gets_404_and_a_denied_audit_row(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    write_note(db, booking, clinic.therapist_user)
    stranger = make_therapist(db).user
    login(stranger)
    before = last_audit_id(db)
    assert client.get(url(booking)).status_code == 404
    assert reads(db, before) == [
        (stranger.id, "view", "session_note", None, clinic.client.id, False)
    ]
    assert client.post(url(booking), data=FORM).status_code == 404


def test_the_clinic_setting_lets_every_therapist_read(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    note = write_note(db, booking, clinic.therapist_user)
    save_settings(db, notes_visible_to_all_therapists=True)
    db.commit()
    stranger = make_therapist(db).user
    login(stranger)
    before = last_audit_id(db)
    response = client.get(url(booking))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Signed note" in page and 'action="/notes/booking' not in page
    assert reads(db, before) == [
        (stranger.id, "view", "session_note", note.id, clinic.client.id, True)
    ]
    # Reading is not writing: a POST is still a 404.
    assert client.post(url(booking), data=FORM).status_code == 404


def test_an_admin_reads_but_does_not_write(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    write_note(db, booking, clinic.therapist_user, sign=False)
    admin = make_person(db, Role.ADMIN)
    login(admin)
    page = client.get(url(booking)).get_data(as_text=True)
    assert "Draft note (not signed)" in page and 'name="intent"' not in page


def test_a_client_gets_403_and_a_denied_audit_row(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    write_note(db, booking, clinic.therapist_user)
    login(clinic.client)
    before = last_audit_id(db)
    assert client.get(url(booking)).status_code == 403
    assert reads(db, before) == [
        (clinic.client.id, "view", "session_note", None, None, False)
    ]


def test_anonymous_visitors_are_sent_to_log_in(
    client: FlaskClient, db: Session, booking: Booking
) -> None:
    before = last_audit_id(db)
    response = client.get(url(booking))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert reads(db, before) == []


@pytest.mark.parametrize("booking_id", ["999999", "2147483648", "99999999999999999999"])
def test_unknown_bookings_are_404(
    client: FlaskClient, login: Login, clinic: Clinic, booking_id: str
) -> None:
    login(clinic.therapist_user)
    assert client.get(f"/notes/booking/{booking_id}").status_code == 404


def test_every_read_leaves_exactly_one_audit_row(
    client: FlaskClient, db: Session, login: Login, clinic: Clinic, booking: Booking
) -> None:
    note = write_note(db, booking, clinic.therapist_user)
    login(clinic.therapist_user)
    for _ in range(3):
        before = last_audit_id(db)
        assert client.get(url(booking)).status_code == 200
        assert reads(db, before) == [
            (clinic.therapist.user_id, "view", "session_note", note.id,
             clinic.client.id, True)
        ]


def test_the_home_partial_lists_notes_to_write(
    app: Flask, db: Session, clinic: Clinic, booking: Booking
) -> None:
    now = utcnow()
    entries = history.notes_to_write(db, clinic.therapist.user_id, now,
                                     ZoneInfo("Europe/London"))
    with app.test_request_context():
        html = render_template("notes/_home_therapist.html", notes_to_write=entries)
        empty = render_template("notes/_home_therapist.html", notes_to_write=[])
    assert f'href="/notes/booking/{booking.id}">Write the note: Casey Client' in html
    assert "All your sessions of today and yesterday have signed notes." in empty
