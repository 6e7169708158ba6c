"""Intake use cases: submit, re-screen, clear, acknowledge, and the gate the
booking flow asks "may this client book, with which techniques, and why not".

Services take a session, flush and never commit. Every screening is stored
whole (answers, ruleset version, result) so it can be audited later.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session, selectinload

from clinic.accounts.models import User
from clinic.intake import screening as engine
from clinic.intake.models import (
    Acknowledgement,
    Clearance,
    Intake,
    IntakeKind,
    ReceivedVia,
    Screening,
)
from clinic.intake.vocabulary import FIELD_KEYS, RESCREEN_FIELDS, TECHNIQUE_KEYS
from clinic.settings.services import Settings

# A pre-booking re-screen is valid for the booking it was made for, and only
# while the client is booking: after this long they answer again.
RESCREEN_VALID_FOR = timedelta(hours=2)

# The answers each clearable rule reads (§4). A newer intake in which a
# cleared rule still fires and one of these got worse lapses the note (§3.2).
RULE_FIELDS: Mapping[str, tuple[str, ...]] = {
    "U-CES": ("bladder_change", "bowel_change", "saddle_numbness"),
    "U-BILATERAL": ("legs_affected", "clinician_assessed", "pain_duration",
                    "pain_trend", "symptom_extent_trend"),
    "U-NEURO-DEFICIT": ("leg_weakness", "leg_numbness"),
    "U-DVT": ("one_leg_swollen_warm_red",),
    "U-PE": ("breathless_or_chest_pain",),
    "U-SPINAL-INFECTION": ("fever", "conditions", "surgery_last_12_weeks"),
    "R-SEVERE-PAIN": ("pain_score",),
    "R-WORSENING": ("pain_trend", "symptom_extent_trend"),
    "R-CANCER-HISTORY": ("history_of_cancer",),
    "R-WEIGHT-LOSS": ("unexplained_weight_loss",),
    "R-NIGHT-PAIN": ("night_pain",),
    "R-FEVER": ("fever",),
    "R-FRACTURE-RISK": ("recent_injury", "conditions", "medications", "onset"),
    "R-RECENT-SURGERY": ("surgery_last_12_weeks",),
    "R-HYPERTENSION": ("blood_pressure_status", "bp_systolic_mmhg",
                       "bp_diastolic_mmhg"),
    "R-PREGNANCY-COMPLICATED": ("pregnancy",),
    "R-UNDER-18": ("age_years",),
    "R-AGE-50-UNASSESSED": ("age_years", "clinician_assessed"),
    "R-PERSISTENT-UNASSESSED": ("pain_duration", "clinician_assessed"),
}
# Numeric answers where only a rise is "worse"; every other change is.
_HIGHER_IS_WORSE = frozenset({"pain_score", "bp_systolic_mmhg", "bp_diastolic_mmhg"})
_IGNORED_CHANGES = frozenset({"age_years"})  # getting older is not worsening


class IntakeError(Exception):
    """A refusal whose message is safe to show to the person asking."""


class BookingNotAllowed(IntakeError):
    pass


# ---------------------------------------------------------------- screening


def _domain_clearances(clearances: Sequence[Clearance]) -> list[engine.Clearance]:
    return [
        engine.Clearance(
            rule_ids=frozenset(c.rule_ids),
            excluded=frozenset(c.excluded_override)
            if c.excluded_override is not None else None,
            urgent_assessed=c.urgent_assessed,
        )
        for c in clearances
    ]


def run_screening(
    answers: Mapping[str, Any], settings: Settings, clearances: Sequence[Clearance] = ()
) -> engine.ScreeningResult:
    """The one screening call the web layer and the CLI share."""
    return engine.screen(
        answers,
        emergency_number=settings.emergency_number,
        urgent_care=settings.urgent_care,
        clearances=_domain_clearances(clearances),
    )


def active_clearances(db: Session, client_id: int, now: datetime) -> list[Clearance]:
    rows = db.scalars(
        select(Clearance)
        .where(
            Clearance.client_id == client_id,
            Clearance.lapsed_at.is_(None),
            Clearance.valid_until > now,
        )
        .order_by(Clearance.id)
    )
    return list(rows)


def _store_screening(
    db: Session, intake: Intake, settings: Settings, now: datetime
) -> Screening:
    clearances = active_clearances(db, intake.client_id, now)
    _lapse_worsened(clearances, intake, now, db)
    clearances = [c for c in clearances if c.lapsed_at is None]
    result = run_screening(intake.answers, settings, clearances)
    if result.clearance_lapsed:
        for clearance in clearances:
            _lapse(clearance, now, "A new urgent answer needs assessment again.")
    screening = Screening(
        intake_id=intake.id,
        client_id=intake.client_id,
        ruleset_version=result.ruleset_version,
        outcome=result.outcome.value,
        booking_allowed=result.booking_allowed,
        top_technique=result.top_technique,
        extent_level=result.extent_level,
        result=result.to_record(),
        cleared_rules=list(result.cleared_rules),
        clearance_ids=[c.id for c in clearances if not result.clearance_lapsed],
        created_at=now,
    )
    db.add(screening)
    db.flush()
    return screening


def _lapse(clearance: Clearance, now: datetime, reason: str) -> None:
    clearance.lapsed_at = now
    clearance.lapsed_reason = reason[:200]


def _lapse_worsened(
    clearances: Sequence[Clearance], intake: Intake, now: datetime, db: Session
) -> None:
    """Lapse notes whose rules still fire on answers that got worse (§3.2)."""
    fired = set(engine.screen(intake.answers, emergency_number="",
                              urgent_care="").fired_rules)
    for clearance in clearances:
        base = db.get(Intake, clearance_intake_id(db, clearance))
        if base is None:
            continue
        for rule_id in set(clearance.rule_ids) & fired:
            if _got_worse(base.answers, intake.answers, RULE_FIELDS.get(rule_id, ())):
                _lapse(clearance, now, f"Answers for {rule_id} changed for the worse.")
                break


def clearance_intake_id(db: Session, clearance: Clearance) -> int | None:
    """The intake that was current when the note was recorded."""
    return db.scalar(
        select(Intake.id)
        .where(Intake.client_id == clearance.client_id,
               Intake.created_at <= clearance.recorded_at)
        .order_by(Intake.created_at.desc(), Intake.id.desc())
        .limit(1)
    )


def _got_worse(before: Mapping[str, Any], after: Mapping[str, Any],
               fields: Sequence[str]) -> bool:
    for key in fields:
        old, new = before.get(key), after.get(key)
        if key in _IGNORED_CHANGES or old == new:
            continue
        if key in _HIGHER_IS_WORSE and isinstance(old, int) and isinstance(new, int):
            if new > old:
                return True
            continue
        return True
    return False


# ---------------------------------------------------------------- intakes


def _clean_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """Keep only vocabulary keys; the engine ignores the rest anyway (§1.4.1)."""
    return {key: answers[key] for key in FIELD_KEYS if key in answers}


def submit_intake(
    db: Session, client: User, answers: Mapping[str, Any], *, by: User,
    settings: Settings, now: datetime,
) -> Screening:
    """Store a full questionnaire and screen it."""
    intake = Intake(client_id=client.id, kind=IntakeKind.FULL,
                    answers=_clean_answers(answers), created_by_id=by.id,
                    created_at=now)
    db.add(intake)
    db.flush()
    return _store_screening(db, intake, settings, now)


# Statements the booking gate runs on every booking, built once.
_HAS_FULL_INTAKE = select(
    select(Intake.id)
    .where(Intake.client_id == bindparam("client_id"), Intake.kind == IntakeKind.FULL)
    .exists()
)
_LATEST_SCREENING = (
    select(Screening)
    .where(Screening.client_id == bindparam("client_id"))
    .order_by(Screening.created_at.desc(), Screening.id.desc())
    .limit(1)
)


def has_full_intake(db: Session, client_id: int) -> bool:
    return bool(db.scalar(_HAS_FULL_INTAKE, {"client_id": client_id}))


def latest_full_intake(db: Session, client_id: int) -> Intake | None:
    return db.scalar(
        select(Intake)
        .where(Intake.client_id == client_id, Intake.kind == IntakeKind.FULL)
        .order_by(Intake.created_at.desc(), Intake.id.desc())
        .limit(1)
    )


def submit_rescreen(
    db: Session, client: User, answers: Mapping[str, Any], *, by: User,
    settings: Settings, now: datetime,
) -> Screening:
    """Re-ask the safety questions before a booking (§3.2).

    The new answers replace those of the latest full intake; everything else
    is carried forward. :raise IntakeError: no full intake yet.
    """
    base = latest_full_intake(db, client.id)
    if base is None:
        raise IntakeError("Please complete the health questionnaire first.")
    fresh = {key: answers.get(key) for key in RESCREEN_FIELDS}
    merged = {**base.answers, **{k: v for k, v in fresh.items() if v is not None}}
    for key, value in fresh.items():
        if value is None:
            merged.pop(key, None)  # unanswered now means unanswered (fail-safe)
    intake = Intake(client_id=client.id, kind=IntakeKind.RESCREEN,
                    based_on_id=base.id, answers=merged, created_by_id=by.id,
                    created_at=now)
    db.add(intake)
    db.flush()
    return _store_screening(db, intake, settings, now)


def latest_screening(db: Session, client_id: int) -> Screening | None:
    return db.scalar(_LATEST_SCREENING, {"client_id": client_id})


def screening_history(db: Session, client_id: int) -> list[Screening]:
    """Newest first, with each intake and acknowledgement loaded up front."""
    return list(db.scalars(
        select(Screening)
        .where(Screening.client_id == client_id)
        .options(
            selectinload(Screening.intake),
            selectinload(Screening.acknowledgement)
            .selectinload(Acknowledgement.therapist),
        )
        .order_by(Screening.created_at.desc(), Screening.id.desc())
    ))


def result_of(screening: Screening) -> engine.ScreeningResult:
    return engine.ScreeningResult.from_record(screening.result)


# ---------------------------------------------------------------- clearance


@dataclass(frozen=True)
class ClearanceNote:
    clinician_name: str
    profession: str
    note_date: date
    rule_ids: frozenset[str]
    restrictions: str
    excluded_override: frozenset[str] | None
    urgent_assessed: bool
    received_via: ReceivedVia


class RecordedClearance(NamedTuple):
    clearance: Clearance
    screening: Screening  # the latest intake screened again with the note


def record_clearance(
    db: Session, client: User, note: ClearanceNote, *, by: User,
    settings: Settings, now: datetime,
) -> RecordedClearance:
    """Record a clinician's note and re-screen the latest intake with it.

    :raise IntakeError: the note covers no rule a note can clear, a rule that
        does not apply to the latest answers, clears an urgent rule without
        saying urgent assessment took place, or leaves an urgent rule
        uncovered (the engine would lapse the note at once, §3.2).
    """
    intake = _latest_intake(db, client.id)
    if intake is None:
        raise IntakeError("This client has not completed an intake yet.")
    _check_note(note)
    _check_note_fits(note, intake)
    clearance = Clearance(
        client_id=client.id,
        clinician_name=note.clinician_name,
        profession=note.profession,
        note_date=note.note_date,
        rule_ids=sorted(note.rule_ids),
        restrictions=note.restrictions or None,
        excluded_override=sorted(note.excluded_override)
        if note.excluded_override is not None else None,
        urgent_assessed=note.urgent_assessed,
        received_via=note.received_via,
        recorded_by_id=by.id,
        recorded_at=now,
        valid_until=now + timedelta(days=settings.clearance_valid_days),
    )
    db.add(clearance)
    db.flush()
    return RecordedClearance(clearance, _store_screening(db, intake, settings, now))


def _check_note(note: ClearanceNote) -> None:
    clearable = set(engine.CLEARABLE_RULE_IDS)
    if not note.rule_ids or not note.rule_ids <= clearable:
        raise IntakeError("Choose the rules this note covers.")
    urgent = {
        r for r in note.rule_ids
        if engine.rule(r).outcome is engine.Outcome.URGENT
    }
    if urgent and not note.urgent_assessed:
        raise IntakeError(
            "Urgent rules can only be cleared by a note stating that urgent or "
            "emergency assessment has taken place."
        )
    if note.excluded_override is not None:
        if "swedish" in note.excluded_override:
            raise IntakeError("A clearance cannot exclude Swedish massage.")
        if not note.excluded_override <= set(TECHNIQUE_KEYS):
            # The engine refuses unknown techniques with ValueError (a 500).
            raise IntakeError("Choose techniques from the list.")


def _check_note_fits(note: ClearanceNote, intake: Intake) -> None:
    """The note must cover rules the latest answers fire, urgent ones included."""
    fired = engine.screen(intake.answers, emergency_number="", urgent_care="")
    if not note.rule_ids <= set(fired.fired_rules):
        raise IntakeError("Choose only rules that apply to the latest answers.")
    uncovered = sorted(
        r for r in fired.fired_rules
        if engine.rule(r).outcome is engine.Outcome.URGENT and r not in note.rule_ids
    )
    if uncovered:
        raise IntakeError(
            f"The latest answers also fire {', '.join(uncovered)}. A note must cover "
            "every urgent rule, after urgent or emergency assessment."
        )


def _latest_intake(db: Session, client_id: int) -> Intake | None:
    return db.scalar(
        select(Intake).where(Intake.client_id == client_id)
        .order_by(Intake.created_at.desc(), Intake.id.desc()).limit(1)
    )


# ---------------------------------------------------------------- review


def acknowledge(
    db: Session, screening: Screening, therapist: User, now: datetime
) -> Acknowledgement:
    """Record that a therapist reviewed a caution (idempotent).

    :raise IntakeError: the screening is not a caution.
    """
    if screening.outcome != engine.Outcome.CAUTION:
        raise IntakeError("Only a caution needs acknowledging.")
    if screening.acknowledgement is not None:
        return screening.acknowledgement
    ack = Acknowledgement(screening_id=screening.id, therapist_id=therapist.id, at=now)
    db.add(ack)
    db.flush()
    db.refresh(screening)
    return ack


def caution_acknowledged(db: Session, client_id: int) -> bool:
    """Whether the client's latest screening needs no (further) acknowledgement."""
    latest = latest_screening(db, client_id)
    if latest is None or latest.outcome != engine.Outcome.CAUTION:
        return True
    return latest.acknowledgement is not None


# ---------------------------------------------------------------- booking gate


@dataclass(frozen=True)
class BookingGate:
    """The answer to "may this client book, with which techniques, and why not"."""

    allowed: bool
    reason: str  # for the client; empty when allowed
    screening: Screening | None
    techniques: tuple[str, ...] = ()  # allowed techniques, best first
    suggested: str | None = None
    suggestion_reason: str = ""
    needs_rescreen: bool = False
    needs_questionnaire: bool = False  # the whole questionnaire again (link it)


# A signed session note recorded symptoms spreading further down the leg
# (§7.2 peripheralising): the next intake must see it before another booking.
SPREAD_REASON = (
    "Please complete the health questionnaire again before your next booking: "
    "your therapist noted that your symptoms have spread."
)


def _spread_since_last_intake(db: Session, client_id: int,
                              row: Row[Any] | None) -> bool:
    """The spread rule, on the signed notes the gate's ``row`` carries (read
    here when there is no row)."""
    from clinic.notes.services import (  # notes sit above intake
        SignedNotes,
        spread_needs_intake,
    )

    notes = None if row is None else SignedNotes(*row[_NOTES_FROM:])
    return spread_needs_intake(db, client_id, notes)


# The client's account was closed while this booking was under way.
ACCOUNT_CLOSED = "This account is closed, so no session can be booked for it."


def booking_gate(
    db: Session, client_id: int, screening_id: int | None, now: datetime,
    *, lock: bool = False,
) -> BookingGate:
    """Decide from the screening made for this booking (§3.2).

    Every screening comes from an intake whose client has a full intake (a
    re-screen is based on one), so the questionnaire is only looked for when
    there is no fresh screening: the usual booking reads two rows, not four.
    ``lock`` (a booking being made): see ``_latest_screening_and_use``.
    """
    row = db.execute(_latest_screening_and_use(lock),
                     {"client_id": client_id}).first()
    if row is not None and not row.active:
        return BookingGate(False, ACCOUNT_CLOSED, None)
    screening = _fresh_screening(row, screening_id, now)
    if screening is None and not has_full_intake(db, client_id):
        return BookingGate(False, "Please complete the health questionnaire first.",
                           None, needs_rescreen=True)
    if _spread_since_last_intake(db, client_id, row):
        return BookingGate(False, SPREAD_REASON, None, needs_questionnaire=True)
    if screening is None:
        return BookingGate(False, "Please answer the safety questions for this "
                           "booking first.", None, needs_rescreen=True)
    result = result_of(screening)
    if not result.booking_allowed:
        return BookingGate(False, " ".join(result.client_messages), screening)
    return BookingGate(True, "", screening, techniques=result.technique_ranking,
                       suggested=result.top_technique,
                       suggestion_reason=result.suggestion_reason)


def require_booking_gate(
    db: Session, client_id: int, screening_id: int | None, now: datetime
) -> BookingGate:
    """:raise BookingNotAllowed: with the reason, when the gate is closed."""
    gate = booking_gate(db, client_id, screening_id, now, lock=True)
    if not gate.allowed:
        raise BookingNotAllowed(gate.reason)
    return gate


def _fresh_screening(
    row: Row[Any] | None, screening_id: int | None, now: datetime,
) -> Screening | None:
    """The client's latest screening (``row``), if it is the one named,
    recent and not yet used by a booking."""
    if row is None or screening_id is None:
        return None
    latest, used_by = row[0], row[1]
    if latest.id != screening_id or used_by is not None:
        return None
    if now - latest.created_at > RESCREEN_VALID_FOR:
        return None
    return latest


_NOTES_FROM = 3  # where the signed notes' columns start in the gate's row


@cache
def _latest_screening_and_use(lock: bool) -> Select[Any]:
    """The client's latest screening, the booking that used it (if one did),
    whether the account is open, and the signed notes the spread rule reads:
    one query.

    ``lock``: the client's row is held FOR SHARE (PostgreSQL) until the
    booking commits. Closing an account locks the row FOR UPDATE before it
    reads the sessions to cancel, so the two take turns: a closing that comes
    second sees the new booking and cancels it; a booking that comes second
    reads the account as closed. (SQLite's write lock already orders them.)
    """
    from clinic.booking.models import Booking  # booking depends on intake, not back
    from clinic.notes.services import signed_notes_columns  # notes sit above intake

    # The booking that used it, if any (at most one: the column is unique).
    # Not EXISTS: PostgreSQL may plan that as a hash of every booking's
    # screening, read on every booking; this reads one index entry.
    used_by = (select(Booking.id).where(Booking.screening_id == Screening.id)
               .scalar_subquery())
    notes = signed_notes_columns(Screening.client_id)
    query = (_LATEST_SCREENING
             .add_columns(used_by, User.active, *notes)
             .join(User, User.id == Screening.client_id))
    return query.with_for_update(read=True, of=User) if lock else query
