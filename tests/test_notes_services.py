"""Session note rules: exclusions, acknowledgement, timing, signing, addenda."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clinic.accounts.models import Role
from clinic.booking.models import BookingStatus
from clinic.db import utcnow
from clinic.notes import history, queries, services
from clinic.notes.advice import HOME_CARE
from clinic.notes.models import NoteStatus, Pressure, SessionNote
from clinic.notes.prefill import prefill, subjective_summary
from clinic.notes.services import NoteError, NoteInvalid
from tests.factories import BLEEDING_RISK_ANSWERS, make_person, make_therapist
from tests.test_notes_support import (
    CLEAR_ANSWERS,
    MILD_NEURO_ANSWERS,
    acknowledge,
    actor_for,
    arrange_clinic,
    audit_rows,
    hours_ago,
    last_audit_id,
    session_at,
    write_note,
)

LONDON = ZoneInfo("Europe/London")


def test_a_signed_note_is_locked_and_audited_without_content(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1))
    before = last_audit_id(db)
    note = write_note(db, booking, clinic.therapist_user, sign=True)
    assert note.status is NoteStatus.SIGNED and note.signed_at is not None
    rows = audit_rows(db, before)
    assert [(r.action, r.record_type, r.record_id, r.subject_user_id, r.allowed,
             r.detail) for r in rows] == [
        ("create", "session_note", note.id, clinic.client.id, True, None),
        ("sign", "session_note", note.id, clinic.client.id, True, None),
    ]
    with pytest.raises(NoteError, match="signed and can no longer be changed"):
        write_note(db, booking, clinic.therapist_user, sign=False, plan="Changed")
    db.expire_all()
    assert db.get(SessionNote, note.id).plan == "Weekly sessions for three weeks."


def test_a_draft_can_be_changed_then_signed(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1))
    draft = write_note(db, booking, clinic.therapist_user, sign=False, plan="First")
    assert draft.status is NoteStatus.DRAFT
    signed = write_note(db, booking, clinic.therapist_user, sign=True, plan="Second")
    assert (signed.id, signed.plan, signed.status) == (
        draft.id, "Second", NoteStatus.SIGNED
    )
    actions = [r.action for r in audit_rows(db)]
    assert actions.count("create") == 1 and actions.count("update") == 1


def test_an_excluded_technique_is_refused_at_its_field(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1), answers=MILD_NEURO_ANSWERS)
    acknowledge(db, booking, clinic.therapist_user)
    with pytest.raises(NoteInvalid) as refused:
        write_note(db, booking, clinic.therapist_user,
                   techniques_used=("swedish", "deep_tissue"))
    assert refused.value.errors == {
        "techniques_used": "Deep tissue massage cannot be recorded: this client's "
        "screening for the session excluded it."
    }
    # Firm pressure is fine here: only deep tissue is excluded, not all deep work.
    note = write_note(db, booking, clinic.therapist_user,
                      techniques_used=("trigger_point",), pressure="firm")
    assert note.pressure is Pressure.FIRM


def test_firm_pressure_is_refused_where_deep_work_is_excluded(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1), answers=BLEEDING_RISK_ANSWERS)
    acknowledge(db, booking, clinic.therapist_user)
    with pytest.raises(NoteInvalid) as refused:
        write_note(db, booking, clinic.therapist_user, pressure="firm",
                   techniques_used=("trigger_point",))
    assert refused.value.errors == {
        "techniques_used": "Trigger point therapy cannot be recorded: this client's "
        "screening for the session excluded it.",
        "pressure": "Firm pressure cannot be recorded: this client's screening "
        "excludes deep work, so use light or moderate pressure.",
    }
    assert db.scalar(select(func.count(SessionNote.id))) == 0


def test_a_caution_must_be_acknowledged_before_the_note(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1), answers=BLEEDING_RISK_ANSWERS)
    context = queries.context_for(db, booking)
    assert context.needs_acknowledgement and context.no_deep
    with pytest.raises(NoteError, match="has not been acknowledged"):
        write_note(db, booking, clinic.therapist_user)
    acknowledge(db, booking, clinic.therapist_user)
    assert write_note(db, booking, clinic.therapist_user).is_signed


@pytest.mark.parametrize(
    ("minutes_before", "allowed"), [(16, False), (15, True), (0, True), (-600, True)]
)
def test_notes_open_fifteen_minutes_before_the_start(
    db: Session, minutes_before: int, allowed: bool
) -> None:
    clinic = arrange_clinic(db)
    now = utcnow()
    booking = session_at(db, clinic, now + timedelta(minutes=minutes_before))
    if allowed:
        assert write_note(db, booking, clinic.therapist_user, now=now).is_signed
    else:
        with pytest.raises(NoteError, match="from 15 minutes before"):
            write_note(db, booking, clinic.therapist_user, now=now)


@pytest.mark.parametrize(
    ("status", "message"),
    [(BookingStatus.CANCELLED, "was cancelled"),
     (BookingStatus.NO_SHOW, "did not come")],
)
def test_no_note_for_cancelled_or_missed_sessions(
    db: Session, status: BookingStatus, message: str
) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1), status=status)
    with pytest.raises(NoteError, match=message):
        write_note(db, booking, clinic.therapist_user)


def test_a_completed_session_takes_a_note(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1), status=BookingStatus.COMPLETED)
    assert write_note(db, booking, clinic.therapist_user).is_signed


def test_only_the_sessions_therapist_writes_it(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1))
    other = make_therapist(db, services=[clinic.service]).user
    admin = make_person(db, Role.ADMIN)
    for user in (other, admin):
        with pytest.raises(NoteError, match="Only the therapist of this session"):
            write_note(db, booking, user)


def test_signing_needs_the_session_measures(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1))
    with pytest.raises(NoteInvalid) as refused:
        write_note(db, booking, clinic.therapist_user, techniques_used=(),
                   pressure=None, nprs_before=None, nprs_after=None,
                   extent_level=None)
    assert refused.value.errors == {
        "techniques_used": "Please tick the techniques you used.",
        "pressure": "Please choose the pressure you used.",
        "nprs_before": "Please enter the pain score before the session.",
        "nprs_after": "Please enter the pain score after the session.",
        "extent_level": "Please choose how far down the leg symptoms reach.",
    }


def test_the_response_to_the_previous_session_is_needed_from_the_second(
    db: Session,
) -> None:
    clinic = arrange_clinic(db)
    first = session_at(db, clinic, hours_ago(24 * 7))
    write_note(db, first, clinic.therapist_user)
    second = session_at(db, clinic, hours_ago(1))
    with pytest.raises(NoteInvalid) as refused:
        write_note(db, second, clinic.therapist_user)
    assert refused.value.errors == {
        "previous_response": "Please record how the client felt after the previous "
        "session."
    }
    assert write_note(db, second, clinic.therapist_user,
                      previous_response="better").is_signed


def test_ticked_advice_is_appended_once(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1))
    offered = queries.context_for(db, booking).advisories
    assert offered == ("A-NO-HAMSTRING-STRETCH", "A-GENTLE-FIRST")
    note = write_note(db, booking, clinic.therapist_user, sign=False,
                      advisories=("A-NO-HAMSTRING-STRETCH",))
    expected = "Walk for 20 minutes a day.\n" + HOME_CARE["A-NO-HAMSTRING-STRETCH"]
    assert note.home_care == expected
    assert note.advisories == ["A-NO-HAMSTRING-STRETCH"]
    again = write_note(db, booking, clinic.therapist_user, sign=False,
                       home_care=expected, advisories=("A-NO-HAMSTRING-STRETCH",))
    assert again.home_care == expected
    with pytest.raises(NoteInvalid) as refused:
        write_note(db, booking, clinic.therapist_user, advisories=("A-BP-UNKNOWN",))
    assert refused.value.errors == {"advisories": "Please tick only the advice shown."}


def test_addenda_are_by_the_author_under_a_signed_note(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1))
    author = clinic.therapist_user
    draft = write_note(db, booking, author, sign=False)
    with pytest.raises(NoteError, match="still a draft"):
        services.add_addendum(db, draft, author, "Late entry", actor=actor_for(author),
                              now=utcnow())
    note = write_note(db, booking, author)
    other = make_therapist(db).user
    with pytest.raises(NoteError, match="Only the author"):
        services.add_addendum(db, note, other, "Not mine", actor=actor_for(other),
                              now=utcnow())
    with pytest.raises(NoteInvalid):
        services.add_addendum(db, note, author, "   ", actor=actor_for(author),
                              now=utcnow())
    before = last_audit_id(db)
    addendum = services.add_addendum(db, note, author, "  Pain was 5, not 6.  ",
                                     actor=actor_for(author), now=utcnow())
    db.commit()
    assert (addendum.text, addendum.author_id) == ("Pain was 5, not 6.", author.id)
    db.expire_all()
    kept = db.get(SessionNote, note.id)
    assert kept.nprs_before == 6 and [a.text for a in kept.addenda] == [
        "Pain was 5, not 6."
    ]
    [row] = audit_rows(db, before)
    assert (row.action, row.record_type, row.record_id, row.detail) == (
        "create", "note_addendum", addendum.id, f"note {note.id}"
    )


def test_prefill_reads_the_bookings_screening(db: Session) -> None:
    clinic = arrange_clinic(db)
    answers = {**CLEAR_ANSWERS, "pain_score": 6, "pain_trend": "worsening",
               "symptom_extent_trend": "moving_down",
               "pain_locations": ["lower_back", "buttock", "calf"]}
    booking = session_at(db, clinic, hours_ago(1), answers=answers)
    start = prefill(db, queries.context_for(db, booking), LONDON)
    assert start.values == {
        "subjective": "Before this visit the client reported pain 6/10 on average "
        "over the last 24 hours, getting worse over the last week; symptoms moving "
        "down towards the calf or foot; right leg affected; felt in the lower back, "
        "buttock and calf.",
        "nprs_before": 6,
        "extent_level": 4,
        "extent_trend": "moving_down",
    }
    assert (start.previous, start.flare) == (None, None)


def test_prefill_starts_one_pressure_class_lighter_after_a_flare(db: Session) -> None:
    clinic = arrange_clinic(db)
    first = session_at(db, clinic, hours_ago(24 * 7))
    write_note(db, first, clinic.therapist_user, pressure="firm",
               techniques_used=("deep_tissue",), nprs_before=4)
    # Before the next booking the client reports 6/10: up 2 points, a flare.
    second = session_at(db, clinic, hours_ago(1),
                        answers={**CLEAR_ANSWERS, "pain_score": 6})
    start = prefill(db, queries.context_for(db, second), LONDON)
    assert start.flare is not None
    assert start.flare.reasons == ("the pain score rose by 2 points",)
    assert start.values["pressure"] == "moderate"


def test_prefill_keeps_the_pressure_without_a_flare(db: Session) -> None:
    clinic = arrange_clinic(db)
    first = session_at(db, clinic, hours_ago(24 * 7))
    write_note(db, first, clinic.therapist_user, pressure="firm",
               techniques_used=("deep_tissue",), nprs_before=4)
    second = session_at(db, clinic, hours_ago(1))  # pain 4 again
    start = prefill(db, queries.context_for(db, second), LONDON)
    assert (start.flare, start.values["pressure"]) == (None, "firm")


def test_subjective_summary_skips_what_was_not_answered() -> None:
    assert subjective_summary({}) == ""
    assert subjective_summary({"pain_score": "7", "legs_affected": "both"}) == (
        "Before this visit the client reported both legs affected."
    )


def test_therapists_read_notes_of_clients_they_treat(db: Session) -> None:
    clinic = arrange_clinic(db)
    session_at(db, clinic, hours_ago(1))
    stranger = make_therapist(db).user
    colleague = make_therapist(db)
    admin = make_person(db, Role.ADMIN)
    client = clinic.client

    def may(user: object, everyone: bool = False) -> bool:
        return queries.can_read_notes(db, user, client.id, all_therapists=everyone)

    assert may(clinic.therapist_user) and may(admin)
    assert not may(stranger) and may(stranger, everyone=True)
    assert not may(client) and not may(client, everyone=True)
    session_at(db, clinic, hours_ago(48), therapist=colleague,
               status=BookingStatus.CANCELLED)
    assert not may(colleague.user)  # a cancelled booking is no treatment
    session_at(db, clinic, utcnow() + timedelta(days=3), therapist=colleague)
    assert may(colleague.user)  # an upcoming booking is


def test_notes_to_write_lists_yesterdays_and_todays_unsigned_sessions(
    db: Session,
) -> None:
    clinic = arrange_clinic(db)
    now = utcnow()
    signed = session_at(db, clinic, now - timedelta(hours=3))
    write_note(db, signed, clinic.therapist_user)
    draft = session_at(db, clinic, now - timedelta(hours=2))
    write_note(db, draft, clinic.therapist_user, sign=False)
    fresh = session_at(db, clinic, now - timedelta(minutes=30))
    session_at(db, clinic, now + timedelta(hours=2))  # not started
    session_at(db, clinic, now - timedelta(hours=1), status=BookingStatus.CANCELLED)
    session_at(db, clinic, now - timedelta(days=3))  # too long ago for the list
    entries = history.notes_to_write(db, clinic.therapist.user_id, now, LONDON)
    assert [(e.booking.id, e.state) for e in entries] == [
        (draft.id, "Draft"), (fresh.id, "No note")
    ]


def test_values_out_of_range_are_refused_by_the_service_too(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1))
    with pytest.raises(NoteInvalid) as refused:
        write_note(db, booking, clinic.therapist_user, nprs_before=11, nprs_after=-1,
                   extent_level=6, extent_trend="sideways", pressure="crushing",
                   previous_response="fine")
    assert refused.value.errors == {
        "nprs_before": "Please enter a whole number from 0 (no pain) to 10.",
        "nprs_after": "Please enter a whole number from 0 (no pain) to 10.",
        "extent_level": "Please choose one of the answers shown.",
        "pressure": "Please choose one of the answers shown.",
        "extent_trend": "Please choose one of the answers shown.",
        "previous_response": "Please choose one of the answers shown.",
    }
    assert db.scalar(select(func.count(SessionNote.id))) == 0


def test_two_excluded_techniques_are_named_together(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1), answers=BLEEDING_RISK_ANSWERS)
    acknowledge(db, booking, clinic.therapist_user)
    with pytest.raises(NoteInvalid) as refused:
        write_note(db, booking, clinic.therapist_user,
                   techniques_used=("deep_tissue", "neuromuscular"))
    assert refused.value.errors == {
        "techniques_used": "Deep tissue massage and Neuromuscular therapy cannot be "
        "recorded: this client's screening for the session excluded them."
    }
