"""Red-flag screening of an intake (screening-rules.md, ruleset 1.0.0).

- §2.3 and §1.4.1-2: `normalise` turns raw JSON answers into `NormalisedAnswers`.
- §1.2-1.4: `screen` fires every rule (no short-circuit), takes the most severe
  outcome, combines exclusions, runs the §5 suggestion and builds the messages.
- §3.2: `Clearance` is the pure part of a clinician clearance note; expiry
  (90 days) and lapse on worse answers are the caller's job.

The data tables it evaluates (§4 `RULES`, §6 `ADVISORIES`, the §1.3
thresholds and `Outcome`) live in `clinic.intake.rules`, so clinicians can
review them on their own; every public name there is importable from here too.

Pure standard library: callers pass plain values and get frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from clinic.intake import suggest as suggestion
from clinic.intake.rules import (
    ADVISORIES,
    ADVISORIES_BY_ID,
    BP_DIA_MIN,
    BP_SYS_MIN,
    CLEARABLE_RULE_IDS,
    HIGH_PAIN_VALUE,
    MIN_AGE,
    REFER_FOOTER,
    REVIEW_AGE,
    RULE_IDS,
    RULES,
    RULES_BY_ID,
    SEVERE_PAIN_MIN,
    Advisory,
    Outcome,
    Rule,
    RuleRow,
    advisory,
    format_exclusions,
    rule,
    rules_table,
    with_note,
)
from clinic.intake.vocabulary import (
    ALL,
    FIELDS,
    RULESET_VERSION,
    TECHNIQUE_KEYS,
    Field,
    Kind,
)

__all__ = [
    "ADVISORIES",
    "ADVISORIES_BY_ID",
    "BP_DIA_MIN",
    "BP_SYS_MIN",
    "CAUTION_HEADING",
    "CLEARABLE_RULE_IDS",
    "HIGH_PAIN_VALUE",
    "MIN_AGE",
    "REFER_FOOTER",
    "RESULT_KEYS",
    "REVIEW_AGE",
    "RULES",
    "RULES_BY_ID",
    "RULE_IDS",
    "SEVERE_PAIN_MIN",
    "Advisory",
    "Clearance",
    "NormalisedAnswers",
    "Outcome",
    "Rule",
    "RuleRow",
    "ScreeningInputError",
    "ScreeningResult",
    "advisory",
    "blocks_booking",
    "caution_heading",
    "format_exclusions",
    "normalise",
    "rule",
    "rules_table",
    "screen",
    "validate_mapping",
]

# §3.1: the neutral sentence shown above caution messages.
CAUTION_HEADING = (
    "Your therapist will adapt your treatment; some techniques are not suitable for "
    "you right now."
)
caution_heading = CAUTION_HEADING

# The §1.3 output keys, in contract order: `to_dict` returns exactly these.
RESULT_KEYS: tuple[str, ...] = (
    "ruleset_version",
    "outcome",
    "booking_allowed",
    "therapist_review_required",
    "fired_rules",
    "excluded_techniques",
    "technique_ranking",
    "top_technique",
    "suggestion_rules",
    "advisories",
    "client_messages",
    "therapist_notes",
    "extent_level",
)


class ScreeningInputError(ValueError):
    """The intake is not a JSON object, so it cannot be screened (§1.4.1)."""


def validate_mapping(obj: object) -> Mapping[str, object]:
    """Return `obj` if it is a mapping of answers (§1.4.1).

    :raise ScreeningInputError: for a list, a string or anything else that is
        not a JSON object, so callers reject it before screening.
    """
    if not isinstance(obj, Mapping):
        raise ScreeningInputError(
            f"intake answers must be a JSON object, not {type(obj).__name__}"
        )
    return obj


# --- §2.2-2.3 normalised answers ---

_EXTENT_LEVEL = MappingProxyType(
    {"lower_back": 0, "buttock": 1, "thigh": 2, "knee": 3, "calf": 4, "foot": 5}
)


@dataclass(frozen=True)
class NormalisedAnswers:
    """Answers after §2.3: `None` is a missing required answer; optional answers
    already hold their defaults. Derived values of §2.2 are properties."""

    age_years: int | None = None
    pregnancy: str | None = None
    pain_score: int | None = None
    pain_locations: tuple[str, ...] = ()
    legs_affected: str | None = None
    pain_duration: str | None = None
    onset: str = "not_sure"
    pain_trend: str | None = None
    symptom_extent_trend: str = "not_sure"
    suspected_cause: str = "unknown"
    cause_source: str = "self_reported"
    clinician_assessed: str | None = None
    muscle_knots: str = "no"
    bladder_change: str | None = None
    bowel_change: str | None = None
    saddle_numbness: str | None = None
    leg_weakness: str | None = None
    leg_numbness: str | None = None
    one_leg_swollen_warm_red: str | None = None
    breathless_or_chest_pain: str | None = None
    fever: str | None = None
    unexplained_weight_loss: str | None = None
    night_pain: str | None = None
    history_of_cancer: str | None = None
    recent_injury: str | None = None
    surgery_last_12_weeks: str | None = None
    blood_pressure_status: str | None = None
    bp_systolic_mmhg: int | None = None
    bp_diastolic_mmhg: int | None = None
    medications: tuple[str, ...] = ()
    conditions: tuple[str, ...] = ()
    # Required fields with no usable answer, for display.
    missing_fields: tuple[str, ...] = ()
    # Everything that fires R-UNCONFIRMED: missing required answers, `unsure`
    # safety answers and multi-selects with unknown items (§1.4.2).
    unconfirmed_fields: tuple[str, ...] = ()

    @property
    def has_pain(self) -> bool:
        return (
            (self.pain_score is not None and self.pain_score >= 1)
            or bool(self.pain_locations)
            or self.legs_affected in ("left", "right", "both")
        )

    @property
    def assessed(self) -> bool:
        # `unsure` and a missing answer both count as not assessed.
        return self.clinician_assessed == "yes"

    @property
    def acute(self) -> bool:
        return self.pain_duration == "less_than_6_weeks"

    @property
    def chronic(self) -> bool:
        return self.pain_duration in ("6_to_12_weeks", "more_than_12_weeks")

    @property
    def bone_fragility(self) -> bool:
        return (
            "osteoporosis" in self.conditions
            or "long_term_oral_steroid" in self.medications
        )

    @property
    def bleeding_risk(self) -> bool:
        # `not_sure` about medicines is read as a blood thinner (§2.3).
        thinners = {"anticoagulant", "antiplatelet", "not_sure"}
        return bool(thinners & set(self.medications)) or (
            "bleeding_disorder" in self.conditions
        )

    @property
    def extent_level(self) -> int:
        return max((_EXTENT_LEVEL[p] for p in self.pain_locations), default=0)


def normalise(answers: Mapping[str, object]) -> NormalisedAnswers:
    """Apply §2.3 and §1.4.1-2 to raw answers; unknown keys are ignored.

    :raise ScreeningInputError: if `answers` is not a mapping.
    """
    validate_mapping(answers)
    values: dict[str, object] = {}
    missing: list[str] = []
    unconfirmed: list[str] = []
    for spec in FIELDS:
        value, unknown_items = _read(spec, answers.get(spec.key))
        absent = value is None or value == ()
        if absent and spec.required:
            missing.append(spec.key)
        elif absent:
            value = spec.default
        # §1.4.2: unknown items hold booking even when known items remain.
        held = (absent and spec.required) or unknown_items
        if held or value in spec.unconfirmed_values:
            unconfirmed.append(spec.key)
        values[spec.key] = value
    return NormalisedAnswers(
        **values,  # type: ignore[arg-type]
        missing_fields=tuple(missing),
        unconfirmed_fields=tuple(unconfirmed),
    )


def _read(spec: Field, raw: object) -> tuple[Any, bool]:
    """One answer as (value or None when missing/invalid, had unknown items)."""
    if spec.kind is Kind.INTEGER:
        return _read_integer(spec, raw), False
    if spec.kind is Kind.ENUM:
        # Case-sensitive snake_case; anything else is invalid (§2.3).
        return (raw if isinstance(raw, str) and raw in spec.values else None), False
    return _read_multi(spec, raw)


def _read_integer(spec: Field, raw: object) -> int | None:
    # bool is a subclass of int in Python, but JSON true is not a number (§1.4.1).
    if not isinstance(raw, int) or isinstance(raw, bool):
        return None
    assert spec.minimum is not None and spec.maximum is not None
    return raw if spec.minimum <= raw <= spec.maximum else None


def _read_multi(spec: Field, raw: object) -> tuple[tuple[str, ...], bool]:
    """Known items in vocabulary order, once each, and whether any were unknown.

    Unknown items are dropped but reported, so R-UNCONFIRMED fires while the
    known items still screen (§1.4.2). A non-array is read as nothing ticked.
    """
    if not isinstance(raw, list | tuple):
        return (), False
    ticked = {item for item in raw if isinstance(item, str)}
    unknown = any(not isinstance(item, str) or item not in spec.values for item in raw)
    known = tuple(value for value in spec.values if value in ticked)
    if "none" in known and len(known) > 1:
        # A client who ticks "none" and a real item has that item (§2.3).
        known = tuple(value for value in known if value != "none")
    return known, unknown


# --- §3.2 clearance ---


@dataclass(frozen=True)
class Clearance:
    """The pure part of a clinician clearance note (§3.2).

    The caller passes only notes that are still active (within 90 days and not
    lapsed because the answers got worse). `excluded`, when given, replaces the
    rules' after-clearance exclusions. Urgent rules count as cleared only when
    the note states that urgent or emergency assessment took place.
    :raise ValueError: for unknown rule ids or techniques, or a note that would
        exclude swedish (a bookable client always keeps swedish, §1.1).
    """

    rule_ids: frozenset[str]
    excluded: frozenset[str] | None = None
    urgent_assessed: bool = False

    def __post_init__(self) -> None:
        # Accept any iterable of ids, but store frozensets so notes stay hashable.
        object.__setattr__(self, "rule_ids", frozenset(self.rule_ids))
        if self.excluded is not None:
            object.__setattr__(self, "excluded", frozenset(self.excluded))
        unknown = self.rule_ids - set(RULE_IDS)
        if unknown:
            raise ValueError(f"unknown rule ids in clearance: {sorted(unknown)}")
        if self.excluded is not None:
            _check_clearance_exclusions(self.excluded)

    def covers(self, candidate: Rule) -> bool:
        """Whether this note clears `rule` (never R-UNCONFIRMED or caution rules)."""
        if not candidate.clearable or candidate.id not in self.rule_ids:
            return False
        return candidate.outcome is not Outcome.URGENT or self.urgent_assessed


def _check_clearance_exclusions(excluded: frozenset[str]) -> None:
    unknown = excluded - set(TECHNIQUE_KEYS)
    if unknown:
        raise ValueError(f"unknown techniques in clearance: {sorted(unknown)}")
    if "swedish" in excluded:
        raise ValueError(
            "a clearance note cannot exclude swedish; record no clearance instead"
        )


def _apply_clearances(
    fired: tuple[Rule, ...], clearances: tuple[Clearance, ...]
) -> tuple[dict[str, frozenset[str]], bool]:
    """The cleared rules with their exclusions, and whether the notes lapsed.

    §3.2: a new urgent rule (one no note clears) makes every clearance lapse.
    """
    cleared = _cleared_exclusions(fired, clearances)
    lapsed = bool(clearances) and any(
        r.outcome is Outcome.URGENT and r.id not in cleared for r in fired
    )
    return ({} if lapsed else cleared), lapsed


def _cleared_exclusions(
    fired: tuple[Rule, ...], clearances: tuple[Clearance, ...]
) -> dict[str, frozenset[str]]:
    """Rule id -> after-clearance exclusions for each fired rule a note clears.

    Several notes covering one rule combine by union, the conservative reading.
    """
    cleared: dict[str, frozenset[str]] = {}
    for fired_rule in fired:
        notes = [note for note in clearances if note.covers(fired_rule)]
        if notes:
            cleared[fired_rule.id] = frozenset().union(
                *(_note_exclusions(note, fired_rule) for note in notes)
            )
    return cleared


def _note_exclusions(note: Clearance, cleared_rule: Rule) -> frozenset[str]:
    if note.excluded is not None:
        return note.excluded
    assert cleared_rule.after_clearance is not None
    return cleared_rule.after_clearance


# --- §1.3 result ---


@dataclass(frozen=True)
class ScreeningResult:
    """Every field of the §1.3 contract, plus extras the app needs.

    Extras: `cleared_rules` (fired rules a clearance downgraded to caution),
    `clearance_lapsed` (an uncleared urgent rule voided the notes, §3.2),
    `suggestion_reason`, and the fields that were missing or unconfirmed.
    """

    ruleset_version: str
    outcome: Outcome
    booking_allowed: bool
    therapist_review_required: bool
    fired_rules: tuple[str, ...]
    excluded_techniques: tuple[str, ...]
    technique_ranking: tuple[str, ...]
    top_technique: str | None
    suggestion_rules: tuple[str, ...]
    advisories: tuple[str, ...]
    client_messages: tuple[str, ...]
    therapist_notes: tuple[str, ...]
    extent_level: int
    cleared_rules: tuple[str, ...] = ()
    clearance_lapsed: bool = False
    suggestion_reason: str = ""
    unconfirmed_fields: tuple[str, ...] = ()
    missing_fields: tuple[str, ...] = ()

    @property
    def client_heading(self) -> str:
        """The §3.1 neutral sentence shown above caution messages, else ""."""
        return CAUTION_HEADING if self.outcome is Outcome.CAUTION else ""

    def to_dict(self) -> dict[str, Any]:
        """Exactly the §1.3 keys, JSON-serialisable (CLI, held-out evaluation)."""
        return {key: _plain(getattr(self, key)) for key in RESULT_KEYS}

    def to_record(self) -> dict[str, Any]:
        """Every field, JSON-serialisable, for immutable storage (§8)."""
        return {key: _plain(getattr(self, key)) for key in _RECORD_KEYS}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ScreeningResult:
        """Rebuild a result stored with `to_record` (or `to_dict`).

        :raise KeyError: if a §1.3 key is absent.
        :raise ValueError: if the outcome is not one of the four.
        """
        values = {key: record[key] for key in RESULT_KEYS}
        values.update({key: record[key] for key in _EXTRA_KEYS if key in record})
        values["outcome"] = Outcome(values["outcome"])
        for key, value in values.items():
            if isinstance(value, list):
                values[key] = tuple(value)
        return cls(**values)


_EXTRA_KEYS: tuple[str, ...] = (
    "cleared_rules",
    "clearance_lapsed",
    "suggestion_reason",
    "unconfirmed_fields",
    "missing_fields",
)
_RECORD_KEYS: tuple[str, ...] = RESULT_KEYS + _EXTRA_KEYS


def _plain(value: object) -> object:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Outcome):
        return value.value
    return value


def blocks_booking(result: ScreeningResult) -> bool:
    """True for urgent and refer results (§1.2)."""
    return not result.booking_allowed


# --- §1.2 evaluation ---


def screen(
    answers: Mapping[str, object],
    *,
    emergency_number: str,
    urgent_care: str,
    clearances: Sequence[Clearance] = (),
) -> ScreeningResult:
    """Screen one intake (§1.2) and return the §1.3 result.

    `emergency_number` and `urgent_care` fill the message placeholders from
    the clinic's locale settings; `clearances` are the client's active notes.
    :raise ScreeningInputError: if `answers` is not a mapping.
    """
    normalised = normalise(answers)
    # Every rule is evaluated, with no short-circuit, so the audit shows all reasons.
    fired = tuple(r for r in RULES if r.condition(normalised))
    cleared, lapsed = _apply_clearances(fired, tuple(clearances))
    # The most severe outcome wins; a cleared rule now counts as caution.
    outcome = max(
        (Outcome.CAUTION if r.id in cleared else r.outcome for r in fired),
        key=_severity,
        default=Outcome.CLEAR,
    )
    excluded = _excluded(outcome, fired, cleared)
    pick = (
        suggestion.suggest(
            normalised.suspected_cause,
            normalised.muscle_knots,
            normalised.acute,
            excluded,
        )
        if outcome.booking_allowed
        else suggestion.blocked()
    )
    return ScreeningResult(
        ruleset_version=RULESET_VERSION,
        outcome=outcome,
        booking_allowed=outcome.booking_allowed,
        therapist_review_required=outcome is Outcome.CAUTION,
        fired_rules=tuple(r.id for r in fired),
        excluded_techniques=tuple(sorted(excluded)),
        technique_ranking=pick.ranking,
        top_technique=pick.top,
        suggestion_rules=pick.suggestion_rules,
        advisories=_advisories(normalised) if outcome.booking_allowed else (),
        client_messages=_client_messages(
            outcome, fired, cleared, emergency_number, urgent_care
        ),
        therapist_notes=tuple(_therapist_note(r, cleared) for r in fired),
        extent_level=normalised.extent_level,
        cleared_rules=tuple(r.id for r in fired if r.id in cleared),
        clearance_lapsed=lapsed,
        suggestion_reason=pick.reason,
        unconfirmed_fields=normalised.unconfirmed_fields,
        missing_fields=normalised.missing_fields,
    )


def _severity(outcome: Outcome) -> int:
    return outcome.severity


def _excluded(
    outcome: Outcome, fired: tuple[Rule, ...], cleared: dict[str, frozenset[str]]
) -> frozenset[str]:
    """§1.2 step 4: ALL when blocked, else the union over the fired rules.

    Caution rules keep their own exclusions; cleared rules bring their
    after-clearance ones (§3.2).
    """
    if not outcome.booking_allowed:
        return ALL
    return frozenset().union(*(cleared.get(r.id, r.excluded) for r in fired))


def _advisories(normalised: NormalisedAnswers) -> tuple[str, ...]:
    return tuple(
        adv.id
        for adv in ADVISORIES
        if adv.condition is not None and adv.condition(normalised)
    )


def _client_messages(
    outcome: Outcome,
    fired: tuple[Rule, ...],
    cleared: dict[str, frozenset[str]],
    emergency_number: str,
    urgent_care: str,
) -> tuple[str, ...]:
    """§1.4.9: messages of the rules at the final severity, in fired order.

    Urgent text is never diluted with lower-severity text. A cleared rule's
    message asked the client to get checked, which has happened, so it is
    not shown. The refer footer is added once, last, unless R-UNCONFIRMED is
    the only refer rule (completing the intake needs no clinician note).
    """
    final = [r for r in fired if r.outcome is outcome and r.id not in cleared]
    texts = [r.client_message for r in final]
    if outcome is Outcome.REFER and any(r.id != "R-UNCONFIRMED" for r in final):
        texts.append(REFER_FOOTER)
    return tuple(
        text.replace("{emergency_number}", emergency_number).replace(
            "{urgent_care}", urgent_care
        )
        for text in texts
    )


def _therapist_note(fired_rule: Rule, cleared: dict[str, frozenset[str]]) -> str:
    """§1.4.10: the rationale prefixed with the rule id; cleared rules say so."""
    note = f"{fired_rule.id}: {fired_rule.therapist_rationale}"
    if fired_rule.id in cleared:
        restriction = with_note(cleared[fired_rule.id], fired_rule.after_clearance_note)
        note += (
            f" [Cleared by a clinician note; now a caution. Excluded: {restriction}.]"
        )
    return note
