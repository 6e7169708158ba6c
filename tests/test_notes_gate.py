"""A note recording symptoms spreading down the leg closes the booking gate
until the client completes the whole questionnaire again (§7.2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from clinic.db import utcnow
from clinic.intake.services import SPREAD_REASON, booking_gate
from clinic.notes.services import spread_needs_intake
from tests.factories import make_intake, make_rescreen
from tests.test_notes_support import (
    CLEAR_ANSWERS,
    Clinic,
    arrange_clinic,
    hours_ago,
    session_at,
    write_note,
)

SPREAD = ("Please complete the health questionnaire again before your next booking: "
          "your therapist noted that your symptoms have spread.")


@pytest.fixture
def clinic(db: Session) -> Clinic:
    return arrange_clinic(db)


def two_sessions(db: Session, clinic: Clinic, *, first: int, second: int,
                 trend: str = "no_change") -> None:
    earlier = session_at(db, clinic, hours_ago(24 * 7))
    write_note(db, earlier, clinic.therapist_user, extent_level=first)
    later = session_at(db, clinic, hours_ago(2))
    write_note(db, later, clinic.therapist_user, extent_level=second,
               extent_trend=trend, previous_response="same")


def gate_for(db: Session, clinic: Clinic) -> tuple[bool, str, bool, bool]:
    screening = make_rescreen(db, clinic.client, now=utcnow())
    gate = booking_gate(db, clinic.client.id, screening.id, utcnow())
    return gate.allowed, gate.reason, gate.needs_rescreen, gate.needs_questionnaire


def test_spreading_further_down_the_leg_asks_for_the_questionnaire(
    db: Session, clinic: Clinic
) -> None:
    two_sessions(db, clinic, first=2, second=4)
    assert SPREAD_REASON == SPREAD
    assert gate_for(db, clinic) == (False, SPREAD, False, True)


def test_a_moving_down_trend_alone_is_enough(db: Session, clinic: Clinic) -> None:
    two_sessions(db, clinic, first=2, second=2, trend="moving_down")
    assert gate_for(db, clinic) == (False, SPREAD, False, True)


def test_the_first_note_can_record_spreading_by_its_trend(
    db: Session, clinic: Clinic
) -> None:
    only = session_at(db, clinic, hours_ago(2))
    write_note(db, only, clinic.therapist_user, extent_trend="moving_down")
    assert gate_for(db, clinic)[0:2] == (False, SPREAD)


@pytest.mark.parametrize(("first", "second"), [(3, 2), (2, 2)])
def test_no_spreading_no_block(
    db: Session, clinic: Clinic, first: int, second: int
) -> None:
    two_sessions(db, clinic, first=first, second=second)
    assert gate_for(db, clinic) == (True, "", False, False)


def test_a_full_questionnaire_after_the_note_opens_the_gate(
    db: Session, clinic: Clinic
) -> None:
    two_sessions(db, clinic, first=2, second=4)
    # A re-screen is not enough: only the whole questionnaire.
    make_rescreen(db, clinic.client, now=utcnow() - timedelta(minutes=5))
    assert gate_for(db, clinic)[0] is False
    make_intake(db, clinic.client, now=utcnow(), answers=CLEAR_ANSWERS)
    assert spread_needs_intake(db, clinic.client.id) is False
    assert gate_for(db, clinic) == (True, "", False, False)


def test_a_draft_note_does_not_close_the_gate(db: Session, clinic: Clinic) -> None:
    earlier = session_at(db, clinic, hours_ago(24 * 7))
    write_note(db, earlier, clinic.therapist_user, extent_level=2)
    later = session_at(db, clinic, hours_ago(2))
    write_note(db, later, clinic.therapist_user, sign=False, extent_level=5,
               extent_trend="moving_down")
    assert gate_for(db, clinic) == (True, "", False, False)


def test_the_booking_page_links_to_the_questionnaire(
    db: Session, clinic: Clinic, client, login
) -> None:
    two_sessions(db, clinic, first=2, second=4)
    screening = make_rescreen(db, clinic.client, now=utcnow())
    login(clinic.client)
    page = client.get(
        "/booking/times",
        query_string={"service": 1, "technique": "swedish",
                      "screening": screening.id},
    ).get_data(as_text=True)
    assert "your therapist noted that your symptoms have spread" in page
    assert "Answer the health questions again" in page
    assert 'href="/intake/?next=' in page
