"""Screening, screening-rules.md ruleset 1.0.0: §1.2-§1.4, §2, §3.2, §4, §6."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinic.intake import screening as s
from clinic.intake import vocabulary as v
from clinic.intake.screening import (
    CAUTION_HEADING,
    REFER_FOOTER,
    Clearance,
    Outcome,
    ScreeningInputError,
    ScreeningResult,
    normalise,
    screen,
)

EMERGENCY = "999"
URGENT_CARE = "NHS 111 or an urgent GP appointment"
DROP = object()  # marks an answer to leave out of the intake

# The spec's example intake (§2.1), which must screen clear.
CLEAR_INTAKE: dict[str, object] = {
    "age_years": 35,
    "pregnancy": "not_applicable",
    "pain_score": 4,
    "pain_locations": ["lower_back", "buttock", "thigh"],
    "legs_affected": "right",
    "pain_duration": "less_than_6_weeks",
    "onset": "gradual",
    "pain_trend": "stable",
    "symptom_extent_trend": "no_change",
    "suspected_cause": "tight_muscles",
    "cause_source": "self_reported",
    "clinician_assessed": "no",
    "muscle_knots": "no",
    "bladder_change": "no",
    "bowel_change": "no",
    "saddle_numbness": "no",
    "leg_weakness": "none",
    "leg_numbness": "none",
    "one_leg_swollen_warm_red": "no",
    "breathless_or_chest_pain": "no",
    "fever": "no",
    "unexplained_weight_loss": "no",
    "night_pain": "no",
    "history_of_cancer": "no",
    "recent_injury": "none",
    "surgery_last_12_weeks": "no",
    "blood_pressure_status": "no_known_problem",
    "medications": ["none"],
    "conditions": ["none"],
}
NO_PAIN = {
    "pain_score": 0,
    "pain_locations": [],
    "legs_affected": "none",
    "pain_duration": "no_pain",
    "pain_trend": "no_pain",
}
CHRONIC = {"pain_duration": "more_than_12_weeks"}
ASSESSED = {"clinician_assessed": "yes"}
NO_DEEP = sorted(v.NO_DEEP)
ALL = sorted(v.ALL)
UNCONFIRMED = {"R-UNCONFIRMED"}


def intake(**changes: object) -> dict[str, object]:
    answers = {**CLEAR_INTAKE, **changes}
    return {k: value for k, value in answers.items() if value is not DROP}


def run(
    answers: Mapping[str, object] | None = None,
    clearances: tuple[Clearance, ...] = (),
    **changes: object,
) -> ScreeningResult:
    base = intake(**changes) if answers is None else answers
    return screen(
        base,
        emergency_number=EMERGENCY,
        urgent_care=URGENT_CARE,
        clearances=clearances,
    )


def fired(**changes: object) -> set[str]:
    return set(run(**changes).fired_rules)


# --- worked examples ---


def test_spec_example_intake_is_clear():
    assert run().to_dict() == {
        "ruleset_version": "1.0.0",
        "outcome": "clear",
        "booking_allowed": True,
        "therapist_review_required": False,
        "fired_rules": [],
        "excluded_techniques": [],
        "technique_ranking": [
            "swedish",
            "trigger_point",
            "neuromuscular",
            "deep_tissue",
        ],
        "top_technique": "swedish",
        "suggestion_rules": ["S-BASE", "S-ACUTE"],
        "advisories": ["A-NO-HAMSTRING-STRETCH", "A-GENTLE-FIRST"],
        "client_messages": [],
        "therapist_notes": [],
        "extent_level": 2,
    }


def test_contract_example_mild_neuro_tight_muscles():
    # The §1.3 example output: chronic, assessed, tight muscles, tingling.
    result = run(**CHRONIC, **ASSESSED, leg_numbness="tingling_or_patchy")
    assert result.to_dict() == {
        "ruleset_version": "1.0.0",
        "outcome": "caution",
        "booking_allowed": True,
        "therapist_review_required": True,
        "fired_rules": ["C-MILD-NEURO"],
        "excluded_techniques": ["deep_tissue"],
        "technique_ranking": ["trigger_point", "neuromuscular", "swedish"],
        "top_technique": "trigger_point",
        "suggestion_rules": ["S-BASE", "S-EXCLUDE"],
        "advisories": ["A-NO-HAMSTRING-STRETCH", "A-GENTLE-FIRST"],
        "client_messages": [
            "Your therapist will adjust pressure around the areas where you have "
            "tingling or weakness."
        ],
        "therapist_notes": [
            "C-MILD-NEURO: The nerve is irritated, and altered sensation makes the "
            "client's feedback on pressure unreliable. Avoid deep pressure along the "
            "nerve path. Re-check for progression at each visit: if it has become "
            "significant or is getting worse, that is U-NEURO-DEFICIT."
        ],
        "extent_level": 2,
    }
    assert result.client_heading == CAUTION_HEADING


def test_unknown_multi_select_item_still_screens_known_items():
    # §1.4.2: immunosuppressed + bogus with fever is urgent, not merely refer.
    result = run(conditions=["immunosuppressed", "bogus"], fever="yes")
    assert result.outcome is Outcome.URGENT
    assert result.fired_rules == ("U-SPINAL-INFECTION", "R-FEVER", "R-UNCONFIRMED")
    assert result.excluded_techniques == tuple(ALL)
    assert result.unconfirmed_fields == ("conditions",)
    assert result.missing_fields == ()


# --- one row per rule ---

RULE_CASES = [
    ("U-CES", {"bladder_change": "yes"}, "urgent"),
    ("U-CES", {"bowel_change": "yes"}, "urgent"),
    ("U-CES", {"saddle_numbness": "yes"}, "urgent"),
    ("U-BILATERAL", {"legs_affected": "both"}, "urgent"),
    ("U-NEURO-DEFICIT", {"leg_weakness": "significant"}, "urgent"),
    ("U-NEURO-DEFICIT", {"leg_numbness": "significant"}, "urgent"),
    ("U-DVT", {"one_leg_swollen_warm_red": "yes"}, "urgent"),
    ("U-PE", {"breathless_or_chest_pain": "yes"}, "urgent"),
    ("R-SEVERE-PAIN", {"pain_score": 8}, "refer"),
    ("R-WORSENING", {"pain_trend": "worsening"}, "refer"),
    ("R-WORSENING", {"symptom_extent_trend": "moving_down"}, "refer"),
    ("R-CANCER-HISTORY", {"history_of_cancer": "yes"}, "refer"),
    ("R-WEIGHT-LOSS", {"unexplained_weight_loss": "yes"}, "refer"),
    ("R-NIGHT-PAIN", {"night_pain": "yes"}, "refer"),
    ("R-FEVER", {"fever": "yes"}, "refer"),
    ("R-FRACTURE-RISK", {"recent_injury": "major"}, "refer"),
    ("R-RECENT-SURGERY", {"surgery_last_12_weeks": "yes"}, "refer"),
    ("R-HYPERTENSION", {"blood_pressure_status": "high_not_controlled"}, "refer"),
    ("R-PREGNANCY-COMPLICATED", {"pregnancy": "yes_with_complications"}, "refer"),
    ("R-UNDER-18", {"age_years": 17}, "refer"),
    ("R-AGE-50-UNASSESSED", {"age_years": 50}, "refer"),
    ("R-PERSISTENT-UNASSESSED", CHRONIC, "refer"),
    ("R-UNCONFIRMED", {"fever": "unsure"}, "refer"),
    ("C-BLEEDING-RISK", {"medications": ["anticoagulant"]}, "caution"),
    ("C-BLEEDING-RISK", {"medications": ["antiplatelet"]}, "caution"),
    ("C-BLEEDING-RISK", {"medications": ["not_sure"]}, "caution"),
    ("C-BLEEDING-RISK", {"conditions": ["bleeding_disorder"]}, "caution"),
    ("C-PREGNANCY", {"pregnancy": "yes"}, "caution"),
    ("C-PREGNANCY", {"pregnancy": "not_sure"}, "caution"),
    ("C-BONE-FRAGILITY", {"conditions": ["osteoporosis"]}, "caution"),
    ("C-BONE-FRAGILITY", {"medications": ["long_term_oral_steroid"]}, "caution"),
    ("C-CLOT-HISTORY", {"conditions": ["previous_dvt_or_pe"]}, "caution"),
    ("C-LOCAL-AVOID", {"conditions": ["varicose_veins"]}, "caution"),
    ("C-LOCAL-AVOID", {"conditions": ["skin_problem_in_treatment_area"]}, "caution"),
    ("C-HIGH-PAIN", {"pain_score": 7}, "caution"),
    ("C-SPONDYLOLISTHESIS", {"suspected_cause": "spondylolisthesis"}, "caution"),
    ("C-MILD-NEURO", {"leg_weakness": "mild"}, "caution"),
    ("C-MILD-NEURO", {"leg_numbness": "tingling_or_patchy"}, "caution"),
    (
        "C-BILATERAL-KNOWN",
        {"legs_affected": "both", **CHRONIC, **ASSESSED},
        "caution",
    ),
]


@pytest.mark.parametrize(("rule_id", "changes", "outcome"), RULE_CASES)
def test_each_rule_fires_alone(rule_id, changes, outcome):
    result = run(**changes)
    assert result.fired_rules == (rule_id,)
    assert result.outcome == outcome


def test_every_rule_has_a_case():
    assert {case[0] for case in RULE_CASES} | {"U-SPINAL-INFECTION"} == set(s.RULE_IDS)


@pytest.mark.parametrize(
    ("rule_id", "excluded", "top"),
    [
        ("C-BLEEDING-RISK", NO_DEEP, "swedish"),
        ("C-PREGNANCY", NO_DEEP, "swedish"),
        ("C-BONE-FRAGILITY", NO_DEEP, "swedish"),
        ("C-CLOT-HISTORY", NO_DEEP, "swedish"),
        ("C-LOCAL-AVOID", [], "swedish"),
        ("C-HIGH-PAIN", NO_DEEP, "swedish"),
        ("C-SPONDYLOLISTHESIS", ["deep_tissue"], "swedish"),
        ("C-MILD-NEURO", ["deep_tissue"], "swedish"),
        # Chronic (and assessed) tight muscles: S-ACUTE does not apply.
        ("C-BILATERAL-KNOWN", [], "deep_tissue"),
    ],
)
def test_caution_exclusions(rule_id, excluded, top):
    changes = next(c for r, c, _ in RULE_CASES if r == rule_id)
    result = run(**changes)
    assert list(result.excluded_techniques) == excluded
    assert result.therapist_review_required is True
    assert result.booking_allowed is True
    assert result.top_technique == top


# --- thresholds ---


def test_threshold_constants():
    assert (s.SEVERE_PAIN_MIN, s.HIGH_PAIN_VALUE) == (8, 7)
    assert (s.MIN_AGE, s.REVIEW_AGE) == (18, 50)
    assert (s.BP_SYS_MIN, s.BP_DIA_MIN) == (180, 120)


@pytest.mark.parametrize(
    ("score", "rules", "outcome"),
    [
        (0, set(), "clear"),
        (1, set(), "clear"),
        (6, set(), "clear"),
        (7, {"C-HIGH-PAIN"}, "caution"),
        (8, {"R-SEVERE-PAIN"}, "refer"),
        (9, {"R-SEVERE-PAIN"}, "refer"),
        (10, {"R-SEVERE-PAIN"}, "refer"),
        (11, UNCONFIRMED, "refer"),
        (-1, UNCONFIRMED, "refer"),
    ],
)
def test_pain_thresholds(score, rules, outcome):
    result = run(pain_score=score)
    assert set(result.fired_rules) == rules
    assert result.outcome == outcome


def test_pain_7_excludes_no_deep_and_8_blocks():
    assert run(pain_score=7).excluded_techniques == tuple(NO_DEEP)
    assert run(pain_score=8).excluded_techniques == tuple(ALL)


@pytest.mark.parametrize(
    ("age", "assessed", "rules"),
    [
        (0, "no", {"R-UNDER-18"}),
        (17, "no", {"R-UNDER-18"}),
        (17, "yes", {"R-UNDER-18"}),
        (18, "no", set()),
        (49, "no", set()),
        (50, "no", {"R-AGE-50-UNASSESSED"}),
        (50, "unsure", {"R-AGE-50-UNASSESSED"}),
        (50, "yes", set()),
        (120, "no", {"R-AGE-50-UNASSESSED"}),
        (121, "no", UNCONFIRMED),
        (-1, "no", UNCONFIRMED),
    ],
)
def test_age_thresholds(age, assessed, rules):
    assert fired(age_years=age, clinician_assessed=assessed) == rules


def test_age_50_without_pain_is_not_referred():
    assert fired(age_years=70, **NO_PAIN) == set()


@pytest.mark.parametrize(
    ("component", "rules"),
    [
        ({"pain_score": 1}, {"R-AGE-50-UNASSESSED"}),
        ({"pain_locations": ["lower_back"]}, {"R-AGE-50-UNASSESSED"}),
        ({"legs_affected": "left"}, {"R-AGE-50-UNASSESSED"}),
        ({}, set()),
    ],
)
def test_has_pain_components(component, rules):
    assert fired(age_years=60, **{**NO_PAIN, **component}) == rules


@pytest.mark.parametrize(
    ("reading", "rules"),
    [
        ({"bp_systolic_mmhg": 179}, set()),
        ({"bp_systolic_mmhg": 180}, {"R-HYPERTENSION"}),
        ({"bp_systolic_mmhg": 300}, {"R-HYPERTENSION"}),
        ({"bp_systolic_mmhg": 301}, set()),
        ({"bp_systolic_mmhg": 49}, set()),
        ({"bp_diastolic_mmhg": 119}, set()),
        ({"bp_diastolic_mmhg": 120}, {"R-HYPERTENSION"}),
        ({"bp_diastolic_mmhg": 200}, {"R-HYPERTENSION"}),
        ({"bp_diastolic_mmhg": 201}, set()),
        ({"bp_diastolic_mmhg": 19}, set()),
        ({"bp_systolic_mmhg": 179, "bp_diastolic_mmhg": 119}, set()),
        ({"bp_systolic_mmhg": 400, "bp_diastolic_mmhg": 120}, {"R-HYPERTENSION"}),
        ({"bp_systolic_mmhg": "190"}, set()),
        ({"bp_systolic_mmhg": 190.0}, set()),
        ({"bp_systolic_mmhg": True}, set()),
        ({"bp_systolic_mmhg": None}, set()),
        ({"blood_pressure_status": "high_controlled"}, set()),
        ({"blood_pressure_status": "not_sure"}, set()),
        ({"blood_pressure_status": "high_not_controlled"}, {"R-HYPERTENSION"}),
    ],
)
def test_blood_pressure(reading, rules):
    # Readings are optional: out of range or the wrong type is ignored, not held.
    assert fired(**reading) == rules


# --- rule logic ---


def test_cauda_equina_fires_without_pain():
    result = run(**NO_PAIN, saddle_numbness="yes")
    assert result.fired_rules == ("U-CES",)
    assert result.outcome is Outcome.URGENT


@pytest.mark.parametrize(
    ("changes", "rules"),
    [
        ({"clinician_assessed": "no"}, {"U-BILATERAL"}),
        ({"clinician_assessed": "unsure"}, {"U-BILATERAL"}),
        (
            {"clinician_assessed": "no", **CHRONIC},
            {"U-BILATERAL", "R-PERSISTENT-UNASSESSED"},
        ),
        ({**ASSESSED}, {"U-BILATERAL"}),  # acute
        ({**ASSESSED, **CHRONIC}, {"C-BILATERAL-KNOWN"}),
        ({**ASSESSED, "pain_duration": "6_to_12_weeks"}, {"C-BILATERAL-KNOWN"}),
        ({**ASSESSED, "pain_duration": "no_pain"}, {"C-BILATERAL-KNOWN"}),
        (
            {**ASSESSED, **CHRONIC, "pain_trend": "worsening"},
            {"U-BILATERAL", "R-WORSENING"},
        ),
        (
            {**ASSESSED, **CHRONIC, "symptom_extent_trend": "moving_down"},
            {"U-BILATERAL", "R-WORSENING"},
        ),
        (
            {**ASSESSED, **CHRONIC, "symptom_extent_trend": "moving_up"},
            {"C-BILATERAL-KNOWN"},
        ),
    ],
)
def test_bilateral(changes, rules):
    assert fired(legs_affected="both", **changes) == rules


@pytest.mark.parametrize(
    ("changes", "rules"),
    [
        ({"fever": "yes"}, {"R-FEVER"}),
        (
            {"fever": "yes", "conditions": ["immunosuppressed"]},
            {"U-SPINAL-INFECTION", "R-FEVER"},
        ),
        (
            {"fever": "yes", "conditions": ["injects_drugs"]},
            {"U-SPINAL-INFECTION", "R-FEVER"},
        ),
        (
            {"fever": "yes", "surgery_last_12_weeks": "yes"},
            {"U-SPINAL-INFECTION", "R-FEVER", "R-RECENT-SURGERY"},
        ),
        ({"conditions": ["immunosuppressed", "injects_drugs"]}, set()),
        ({"fever": "unsure", "conditions": ["immunosuppressed"]}, UNCONFIRMED),
    ],
)
def test_spinal_infection(changes, rules):
    assert fired(**changes) == rules


@pytest.mark.parametrize(
    ("changes", "rules"),
    [
        ({"recent_injury": "major"}, {"R-FRACTURE-RISK"}),
        ({"recent_injury": "minor"}, set()),
        ({"onset": "sudden"}, set()),
        (
            {"recent_injury": "minor", "conditions": ["osteoporosis"]},
            {"R-FRACTURE-RISK", "C-BONE-FRAGILITY"},
        ),
        (
            {"onset": "sudden", "medications": ["long_term_oral_steroid"]},
            {"R-FRACTURE-RISK", "C-BONE-FRAGILITY"},
        ),
        (
            {"onset": "not_sure", "conditions": ["osteoporosis"]},
            {"C-BONE-FRAGILITY"},
        ),
        (
            {"recent_injury": "major", "conditions": ["osteoporosis"]},
            {"R-FRACTURE-RISK", "C-BONE-FRAGILITY"},
        ),
    ],
)
def test_fracture_risk(changes, rules):
    assert fired(**changes) == rules


def test_fracture_risk_with_bone_fragility_is_refer():
    result = run(recent_injury="minor", conditions=["osteoporosis"])
    assert result.outcome is Outcome.REFER
    assert result.fired_rules == ("R-FRACTURE-RISK", "C-BONE-FRAGILITY")


@pytest.mark.parametrize(
    ("changes", "rules"),
    [
        ({"pain_duration": "6_to_12_weeks"}, {"R-PERSISTENT-UNASSESSED"}),
        ({"pain_duration": "more_than_12_weeks"}, {"R-PERSISTENT-UNASSESSED"}),
        (
            {**CHRONIC, "clinician_assessed": "unsure"},
            {"R-PERSISTENT-UNASSESSED"},
        ),
        ({**CHRONIC, **ASSESSED}, set()),
        ({"pain_duration": "less_than_6_weeks"}, set()),
        ({"pain_duration": "no_pain"}, set()),
        ({**NO_PAIN, **CHRONIC}, set()),
    ],
)
def test_persistent_unassessed(changes, rules):
    assert fired(**changes) == rules


@pytest.mark.parametrize(
    ("pregnancy", "rules"),
    [
        ("no", set()),
        ("not_applicable", set()),
        ("yes", {"C-PREGNANCY"}),
        ("not_sure", {"C-PREGNANCY"}),
        # §1.4.5: complicated pregnancy is refer only, not also C-PREGNANCY.
        ("yes_with_complications", {"R-PREGNANCY-COMPLICATED"}),
    ],
)
def test_pregnancy(pregnancy, rules):
    assert fired(pregnancy=pregnancy) == rules


@pytest.mark.parametrize(
    ("trend", "rules"),
    [
        ("improving", set()),
        ("stable", set()),
        ("comes_and_goes", set()),
        ("no_pain", set()),
        ("worsening", {"R-WORSENING"}),
    ],
)
def test_pain_trend(trend, rules):
    assert fired(pain_trend=trend) == rules


def test_chronic_tight_muscles_assessed_is_clear_with_deep_tissue_top():
    result = run(**CHRONIC, **ASSESSED)
    assert result.outcome is Outcome.CLEAR
    assert result.top_technique == "deep_tissue"
    assert result.suggestion_rules == ("S-BASE",)


def test_chronic_tight_muscles_with_knots_is_trigger_point_top():
    result = run(**CHRONIC, **ASSESSED, muscle_knots="yes")
    assert result.technique_ranking == (
        "trigger_point",
        "deep_tissue",
        "neuromuscular",
        "swedish",
    )
    assert result.suggestion_rules == ("S-BASE", "S-KNOTS")


def test_chronic_piriformis_is_neuromuscular_top():
    result = run(**CHRONIC, **ASSESSED, suspected_cause="piriformis_syndrome")
    assert result.top_technique == "neuromuscular"


def test_caution_exclusions_combine_by_union():
    result = run(
        **CHRONIC,
        **ASSESSED,
        suspected_cause="spondylolisthesis",
        leg_weakness="mild",
        conditions=["varicose_veins"],
    )
    assert result.fired_rules == (
        "C-LOCAL-AVOID",
        "C-SPONDYLOLISTHESIS",
        "C-MILD-NEURO",
    )
    assert result.excluded_techniques == ("deep_tissue",)
    assert result.technique_ranking == ("swedish", "neuromuscular", "trigger_point")
    assert result.suggestion_rules == ("S-BASE", "S-EXCLUDE")

    wider = run(**CHRONIC, **ASSESSED, leg_weakness="mild", pain_score=7)
    assert wider.excluded_techniques == tuple(NO_DEEP)
    assert wider.technique_ranking == ("swedish",)


def test_caution_without_exclusions_has_no_s_exclude():
    result = run(**CHRONIC, **ASSESSED, conditions=["skin_problem_in_treatment_area"])
    assert result.outcome is Outcome.CAUTION
    assert result.excluded_techniques == ()
    assert result.top_technique == "deep_tissue"
    assert result.suggestion_rules == ("S-BASE",)


# --- precedence ---


EVERYTHING = {
    "one_leg_swollen_warm_red": "yes",  # urgent
    "history_of_cancer": "yes",  # refer
    "fever": "unsure",  # refer (R-UNCONFIRMED)
    "medications": ["anticoagulant", "nerve_pain_medicine"],  # caution
    "suspected_cause": "spondylolisthesis",  # caution
}


def test_urgent_beats_refer_beats_caution():
    result = run(**EVERYTHING)
    assert result.outcome is Outcome.URGENT
    assert result.fired_rules == (
        "U-DVT",
        "R-CANCER-HISTORY",
        "R-UNCONFIRMED",
        "C-BLEEDING-RISK",
        "C-SPONDYLOLISTHESIS",
    )
    assert result.booking_allowed is False
    assert result.therapist_review_required is False
    assert result.excluded_techniques == tuple(ALL)
    assert result.technique_ranking == ()
    assert result.top_technique is None
    assert result.suggestion_rules == ("S-BLOCKED",)
    assert result.advisories == ()

    refer = run(**{**EVERYTHING, "one_leg_swollen_warm_red": "no"})
    assert refer.outcome is Outcome.REFER
    assert refer.excluded_techniques == tuple(ALL)
    assert refer.suggestion_rules == ("S-BLOCKED",)

    caution = run(medications=["anticoagulant"], suspected_cause="spondylolisthesis")
    assert caution.outcome is Outcome.CAUTION
    assert caution.excluded_techniques == tuple(NO_DEEP)


def test_fired_rules_follow_the_rule_table_order():
    result = run(
        **CHRONIC,
        age_years=55,
        pain_score=9,
        legs_affected="both",
        bladder_change="yes",
        pregnancy="yes",
        medications=["not_sure"],
        conditions=["previous_dvt_or_pe", "osteoporosis"],
        fever="yes",
    )
    assert result.fired_rules == (
        "U-CES",
        "U-BILATERAL",
        "R-SEVERE-PAIN",
        "R-FEVER",
        "R-AGE-50-UNASSESSED",
        "R-PERSISTENT-UNASSESSED",
        "C-BLEEDING-RISK",
        "C-PREGNANCY",
        "C-BONE-FRAGILITY",
        "C-CLOT-HISTORY",
    )


# --- §2.3 and §1.4 normalisation ---


@pytest.mark.parametrize("key", v.REQUIRED_FIELDS)
@pytest.mark.parametrize("how", ["absent", "null"])
def test_missing_required_field_is_unconfirmed(key, how):
    answers = intake(**{key: DROP if how == "absent" else None})
    result = run(answers)
    assert "R-UNCONFIRMED" in result.fired_rules
    assert result.outcome is not Outcome.CLEAR
    assert result.missing_fields == (key,)
    assert result.unconfirmed_fields == (key,)


@pytest.mark.parametrize("key", ["age_years", "pain_score"])
@pytest.mark.parametrize("bad", ["7", 7.0, True, False, [7], {"v": 7}, 7.5])
def test_integers_must_be_json_integers(key, bad):
    result = run(**{key: bad})
    assert result.fired_rules == ("R-UNCONFIRMED",)
    assert result.missing_fields == (key,)


def test_true_is_not_pain_score_one_and_false_is_not_age_zero():
    assert normalise(intake(pain_score=True)).pain_score is None
    assert normalise(intake(age_years=False)).age_years is None
    assert normalise(intake(age_years=0)).age_years == 0


@pytest.mark.parametrize(
    ("key", "bad"),
    [
        ("fever", "Yes"),
        ("fever", "YES"),
        ("fever", True),
        ("fever", "maybe"),
        ("legs_affected", "Both"),
        ("pain_duration", 6),
        ("clinician_assessed", "not_sure"),  # not_sure is not a value of this field
        ("blood_pressure_status", "unsure"),
        ("pregnancy", "unsure"),
        ("recent_injury", ["major"]),
    ],
)
def test_invalid_required_enum_counts_as_missing(key, bad):
    result = run(**{key: bad})
    assert result.fired_rules == ("R-UNCONFIRMED",)
    assert result.missing_fields == (key,)


@pytest.mark.parametrize(
    "key", [f for f in v.FIELD_KEYS if v.field(f).unconfirmed_values]
)
def test_unsure_safety_answer_is_unconfirmed_but_not_missing(key):
    result = run(**{key: "unsure"})
    assert result.fired_rules == ("R-UNCONFIRMED",)
    assert result.unconfirmed_fields == (key,)
    assert result.missing_fields == ()


@pytest.mark.parametrize(
    ("key", "bad", "default"),
    [
        ("onset", "Sudden", "not_sure"),
        ("onset", None, "not_sure"),
        ("onset", DROP, "not_sure"),
        ("symptom_extent_trend", 5, "not_sure"),
        ("symptom_extent_trend", "moving down", "not_sure"),
        ("suspected_cause", "sciatica", "unknown"),
        ("suspected_cause", DROP, "unknown"),
        ("cause_source", "doctor", "self_reported"),
        ("muscle_knots", "Yes", "no"),
        ("muscle_knots", None, "no"),
    ],
)
def test_invalid_optional_enum_takes_its_default(key, bad, default):
    answers = intake(**{key: bad})
    assert getattr(normalise(answers), key) == default
    assert run(answers).fired_rules == ()


def test_optional_defaults_are_the_gentlest_reading():
    answers = intake(
        **CHRONIC,
        **ASSESSED,
        suspected_cause=DROP,
        muscle_knots=DROP,
        onset=DROP,
        conditions=["osteoporosis"],
    )
    result = run(answers)
    # onset missing is not_sure, so no sudden-onset fracture referral.
    assert result.fired_rules == ("C-BONE-FRAGILITY",)
    assert result.technique_ranking == ("swedish",)


def test_muscle_knots_not_sure_counts_as_no():
    result = run(**CHRONIC, **ASSESSED, muscle_knots="not_sure")
    assert result.top_technique == "deep_tissue"
    assert "S-KNOTS" not in result.suggestion_rules


def test_unknown_keys_are_ignored():
    answers = intake(shoe_size=44, FEVER="yes", notes="lots of pain")
    answers[3] = "non-string key"  # type: ignore[index]
    assert run(answers) == run()


def test_duplicate_items_count_once():
    twice = run(medications=["antiplatelet", "antiplatelet"])
    once = run(medications=["antiplatelet"])
    assert twice == once
    assert normalise(intake(pain_locations=["calf", "calf"])).pain_locations == (
        "calf",
    )


def test_multi_select_items_are_kept_in_vocabulary_order():
    normalised = normalise(intake(pain_locations=["foot", "lower_back", "calf"]))
    assert normalised.pain_locations == ("lower_back", "calf", "foot")


@pytest.mark.parametrize("key", ["medications", "conditions"])
@pytest.mark.parametrize("bad", [[], ["bogus"], [None], "none", {"none": True}, 0])
def test_required_list_without_known_items_is_missing(key, bad):
    result = run(**{key: bad})
    assert result.fired_rules == ("R-UNCONFIRMED",)
    assert result.missing_fields == (key,)


@pytest.mark.parametrize(
    ("medications", "rules"),
    [
        (["none"], set()),
        (["none", "anticoagulant"], {"C-BLEEDING-RISK"}),
        (["anticoagulant", "none"], {"C-BLEEDING-RISK"}),
        (["none", "not_sure"], {"C-BLEEDING-RISK"}),
        (["not_sure"], {"C-BLEEDING-RISK"}),
        (["other"], set()),
        (["none", "other"], set()),
        (["nerve_pain_medicine", "opioid_painkiller"], set()),
        (["long_term_oral_steroid"], {"C-BONE-FRAGILITY"}),
        (["none", "bogus"], UNCONFIRMED),
        (["anticoagulant", "bogus"], {"C-BLEEDING-RISK", "R-UNCONFIRMED"}),
        (["anticoagulant", 3], {"C-BLEEDING-RISK", "R-UNCONFIRMED"}),
        (["anticoagulant", ["x"]], {"C-BLEEDING-RISK", "R-UNCONFIRMED"}),
        (("anticoagulant",), {"C-BLEEDING-RISK"}),
    ],
)
def test_medications(medications, rules):
    assert fired(medications=medications) == rules


def test_none_is_dropped_when_other_items_are_ticked():
    normalised = normalise(intake(medications=["none", "antiplatelet"]))
    assert normalised.medications == ("antiplatelet",)
    assert normalise(intake(conditions=["none"])).conditions == ("none",)


def test_unknown_items_keep_known_items_and_hold_booking():
    result = run(medications=["anticoagulant", "Warfarin"])
    assert result.outcome is Outcome.REFER
    assert result.fired_rules == ("R-UNCONFIRMED", "C-BLEEDING-RISK")
    assert result.unconfirmed_fields == ("medications",)
    assert result.missing_fields == ()
    assert normalise(intake(medications=["anticoagulant", "x"])).medications == (
        "anticoagulant",
    )


@pytest.mark.parametrize(
    ("locations", "rules", "extent"),
    [
        ([], set(), 0),
        (DROP, set(), 0),
        (None, set(), 0),
        ("calf", set(), 0),  # not an array: read as nothing ticked
        (["calf", "bogus"], UNCONFIRMED, 4),  # §1.4.2 applies to every multi-select
        (["none"], UNCONFIRMED, 0),
    ],
)
def test_pain_locations_normalisation(locations, rules, extent):
    result = run(pain_locations=locations)
    assert set(result.fired_rules) == rules
    assert result.extent_level == extent
    assert result.missing_fields == ()


def test_clinician_assessed_unsure_counts_as_not_assessed():
    assert run(clinician_assessed="unsure", age_years=60) == run(
        clinician_assessed="no", age_years=60
    )


@pytest.mark.parametrize("bad", [[], [CLEAR_INTAKE], "answers", None, 7, b"{}"])
def test_non_mapping_input_is_rejected(bad):
    with pytest.raises(ScreeningInputError, match="JSON object"):
        s.validate_mapping(bad)
    with pytest.raises(ScreeningInputError):
        screen(bad, emergency_number=EMERGENCY, urgent_care=URGENT_CARE)
    with pytest.raises(ValueError):
        normalise(bad)


def test_validate_mapping_returns_the_mapping():
    assert s.validate_mapping(CLEAR_INTAKE) is CLEAR_INTAKE


def test_empty_mapping_holds_every_required_field():
    result = run({})
    assert result.fired_rules == ("R-UNCONFIRMED",)
    assert result.missing_fields == v.REQUIRED_FIELDS
    assert result.unconfirmed_fields == v.REQUIRED_FIELDS


def test_normalised_answers_cover_the_vocabulary():
    names = [f.name for f in dataclasses.fields(s.NormalisedAnswers)]
    assert names[: len(v.FIELD_KEYS)] == list(v.FIELD_KEYS)


def test_normalise_does_not_mutate_its_input():
    answers = intake(medications=["none", "antiplatelet", "antiplatelet"])
    before = json.dumps(answers, sort_keys=True)
    run(answers)
    assert json.dumps(answers, sort_keys=True) == before


# --- derived values (§2.2) ---


@pytest.mark.parametrize(
    ("locations", "level"),
    [
        ([], 0),
        (["lower_back"], 0),
        (["buttock"], 1),
        (["lower_back", "thigh"], 2),
        (["knee"], 3),
        (["calf", "buttock"], 4),
        (["foot", "lower_back"], 5),
        (["lower_back", "buttock", "thigh", "knee", "calf", "foot"], 5),
    ],
)
def test_extent_level(locations, level):
    assert run(pain_locations=locations).extent_level == level


def test_extent_level_is_reported_even_when_blocked():
    result = run(pain_locations=["calf"], fever="yes")
    assert result.outcome is Outcome.REFER
    assert result.extent_level == 4


@pytest.mark.parametrize(
    ("changes", "bleeding", "fragile"),
    [
        ({}, False, False),
        ({"medications": ["anticoagulant"]}, True, False),
        ({"medications": ["not_sure"]}, True, False),
        ({"conditions": ["bleeding_disorder"]}, True, False),
        ({"medications": ["long_term_oral_steroid"]}, False, True),
        ({"conditions": ["osteoporosis", "bleeding_disorder"]}, True, True),
    ],
)
def test_derived_risks(changes, bleeding, fragile):
    normalised = normalise(intake(**changes))
    assert normalised.bleeding_risk is bleeding
    assert normalised.bone_fragility is fragile


@pytest.mark.parametrize(
    ("duration", "acute", "chronic"),
    [
        ("less_than_6_weeks", True, False),
        ("6_to_12_weeks", False, True),
        ("more_than_12_weeks", False, True),
        ("no_pain", False, False),
        (None, False, False),
    ],
)
def test_acute_and_chronic(duration, acute, chronic):
    normalised = normalise(intake(pain_duration=duration))
    assert (normalised.acute, normalised.chronic) == (acute, chronic)


# --- messages (§1.4.9-10) ---


def test_urgent_messages_are_not_diluted():
    result = run(**EVERYTHING, bladder_change="yes")
    assert result.client_messages == (
        s.rule("U-CES").client_message.replace("{emergency_number}", EMERGENCY),
        s.rule("U-DVT")
        .client_message.replace("{urgent_care}", URGENT_CARE)
        .replace("{emergency_number}", EMERGENCY),
    )
    assert REFER_FOOTER not in result.client_messages
    assert result.client_heading == ""


def test_placeholders_are_filled():
    result = run(one_leg_swollen_warm_red="yes")
    (message,) = result.client_messages
    assert "contact NHS 111 or an urgent GP appointment." in message
    assert "call 999." in message
    assert "{" not in message


def test_refer_messages_end_with_the_footer_once():
    result = run(history_of_cancer="yes", night_pain="yes", fever="unsure")
    assert result.client_messages == (
        s.rule("R-CANCER-HISTORY").client_message,
        s.rule("R-NIGHT-PAIN").client_message,
        s.rule("R-UNCONFIRMED").client_message,
        REFER_FOOTER,
    )


def test_no_footer_when_r_unconfirmed_is_the_only_refer_rule():
    result = run(fever="unsure", medications=["anticoagulant"])
    assert result.outcome is Outcome.REFER
    assert result.client_messages == (s.rule("R-UNCONFIRMED").client_message,)


def test_hypertension_message_has_the_emergency_number():
    result = run(bp_systolic_mmhg=200)
    assert result.client_messages == (
        "Your blood pressure needs checking by your doctor or nurse before massage. "
        "If you have a severe headache, vision changes, chest pain or confusion, "
        "call 999.",
        REFER_FOOTER,
    )


def test_caution_messages_in_fired_order():
    result = run(pregnancy="yes", pain_score=7)
    assert result.client_messages == (
        "Your therapist will use gentle pregnancy-safe techniques and positions.",
        "As your pain is quite high today, your therapist will keep the pressure "
        "gentle.",
    )
    assert result.client_heading == CAUTION_HEADING
    assert CAUTION_HEADING == (
        "Your therapist will adapt your treatment; some techniques are not suitable "
        "for you right now."
    )
    assert s.caution_heading == CAUTION_HEADING


def test_messages_are_plain_text():
    for rule in s.RULES:
        for text in (rule.client_message, rule.therapist_rationale, rule.citation):
            assert "**" not in text
            assert "`" not in text
    placeholders = {"{emergency_number}", "{urgent_care}"}
    for rule in s.RULES:
        stripped = rule.client_message
        for placeholder in placeholders:
            stripped = stripped.replace(placeholder, "")
        assert "{" not in stripped


def test_urgent_messages_say_nothing_was_booked():
    for rule in s.RULES:
        if rule.outcome is Outcome.URGENT:
            assert rule.client_message.endswith("We have not booked a massage.")


def test_therapist_notes_cover_every_fired_rule_in_order():
    result = run(**EVERYTHING)
    assert len(result.therapist_notes) == len(result.fired_rules)
    for rule_id, note in zip(result.fired_rules, result.therapist_notes, strict=True):
        assert note == f"{rule_id}: {s.rule(rule_id).therapist_rationale}"


# --- advisories (§6, §1.4.8) ---


@pytest.mark.parametrize(
    ("changes", "advisories"),
    [
        (NO_PAIN, ()),
        (
            {**NO_PAIN, "legs_affected": "left"},
            ("A-NO-HAMSTRING-STRETCH", "A-GENTLE-FIRST"),
        ),
        (
            {**NO_PAIN, "pain_locations": ["knee"]},
            ("A-NO-HAMSTRING-STRETCH", "A-GENTLE-FIRST"),
        ),
        ({**NO_PAIN, "pain_locations": ["buttock"]}, ("A-GENTLE-FIRST",)),
        ({**NO_PAIN, "pain_score": 2}, ("A-GENTLE-FIRST",)),
        (
            {"pain_locations": ["foot"]},
            ("A-NO-HAMSTRING-STRETCH", "A-GENTLE-FIRST", "A-NERVE-DOMINANT"),
        ),
        (
            {"pain_locations": ["calf"]},
            ("A-NO-HAMSTRING-STRETCH", "A-GENTLE-FIRST", "A-NERVE-DOMINANT"),
        ),
        (
            {**NO_PAIN, "medications": ["opioid_painkiller"]},
            ("A-SEDATING-MEDS",),
        ),
        (
            {**NO_PAIN, "medications": ["nerve_pain_medicine"]},
            ("A-SEDATING-MEDS",),
        ),
        ({**NO_PAIN, "blood_pressure_status": "not_sure"}, ("A-BP-UNKNOWN",)),
        ({**NO_PAIN, "symptom_extent_trend": "moving_up"}, ("A-CENTRALISING",)),
        (
            {
                "pain_locations": ["calf"],
                "medications": ["opioid_painkiller"],
                "blood_pressure_status": "not_sure",
                "symptom_extent_trend": "moving_up",
            },
            (
                "A-NO-HAMSTRING-STRETCH",
                "A-GENTLE-FIRST",
                "A-NERVE-DOMINANT",
                "A-SEDATING-MEDS",
                "A-BP-UNKNOWN",
                "A-CENTRALISING",
            ),
        ),
    ],
)
def test_advisories(changes, advisories):
    assert run(**changes).advisories == advisories


def test_advisories_only_for_bookable_outcomes():
    assert run(pain_locations=["calf"], pain_score=7).advisories != ()
    assert run(pain_locations=["calf"], pain_score=8).advisories == ()
    assert run(pain_locations=["calf"], bladder_change="yes").advisories == ()


def test_compression_socks_is_reference_text_only():
    socks = s.advisory("A-COMPRESSION-SOCKS")
    assert socks.condition is None
    assert "Compression socks" in socks.text
    assert [a.id for a in s.ADVISORIES] == [
        "A-NO-HAMSTRING-STRETCH",
        "A-GENTLE-FIRST",
        "A-NERVE-DOMINANT",
        "A-SEDATING-MEDS",
        "A-COMPRESSION-SOCKS",
        "A-BP-UNKNOWN",
        "A-CENTRALISING",
    ]


# --- clearance (§3.2) ---


def test_cleared_refer_rule_counts_as_caution_with_after_clearance_exclusions():
    note = Clearance(frozenset({"R-CANCER-HISTORY"}))
    result = run(clearances=(note,), history_of_cancer="yes")
    assert result.outcome is Outcome.CAUTION
    assert result.booking_allowed is True
    assert result.therapist_review_required is True
    assert result.fired_rules == ("R-CANCER-HISTORY",)
    assert result.cleared_rules == ("R-CANCER-HISTORY",)
    assert result.excluded_techniques == tuple(NO_DEEP)
    assert result.top_technique == "swedish"
    assert result.client_messages == ()
    assert result.advisories == ("A-NO-HAMSTRING-STRETCH", "A-GENTLE-FIRST")
    (note_text,) = result.therapist_notes
    assert note_text.startswith("R-CANCER-HISTORY: A past history of cancer")
    assert note_text.endswith(
        "[Cleared by a clinician note; now a caution. Excluded: NO_DEEP; no "
        "pressure over known tumour or treatment sites.]"
    )


def test_cleared_rule_without_after_clearance_exclusions():
    note = Clearance(frozenset({"R-HYPERTENSION"}))
    result = run(clearances=(note,), **CHRONIC, **ASSESSED, bp_diastolic_mmhg=125)
    assert result.outcome is Outcome.CAUTION
    assert result.excluded_techniques == ()
    assert result.top_technique == "deep_tissue"


def test_note_exclusions_replace_the_rule_defaults():
    note = Clearance(
        frozenset({"R-CANCER-HISTORY"}), excluded=frozenset({"deep_tissue"})
    )
    result = run(clearances=(note,), **CHRONIC, **ASSESSED, history_of_cancer="yes")
    assert result.excluded_techniques == ("deep_tissue",)
    assert result.top_technique == "trigger_point"
    assert result.suggestion_rules == ("S-BASE", "S-EXCLUDE")


def test_cleared_rule_exclusions_join_caution_exclusions():
    note = Clearance(frozenset({"R-HYPERTENSION"}), excluded=frozenset({"deep_tissue"}))
    result = run(
        clearances=(note,),
        blood_pressure_status="high_not_controlled",
        pregnancy="yes",
    )
    assert result.outcome is Outcome.CAUTION
    assert result.excluded_techniques == tuple(NO_DEEP)
    assert result.client_messages == (s.rule("C-PREGNANCY").client_message,)


def test_two_notes_for_one_rule_combine_by_union():
    notes = (
        Clearance(frozenset({"R-FEVER"}), excluded=frozenset({"deep_tissue"})),
        Clearance(frozenset({"R-FEVER"}), excluded=frozenset({"trigger_point"})),
    )
    result = run(clearances=notes, fever="yes")
    assert result.excluded_techniques == ("deep_tissue", "trigger_point")


def test_partial_clearance_still_refers():
    note = Clearance(frozenset({"R-CANCER-HISTORY"}))
    result = run(clearances=(note,), history_of_cancer="yes", fever="yes")
    assert result.outcome is Outcome.REFER
    assert result.cleared_rules == ("R-CANCER-HISTORY",)
    assert result.excluded_techniques == tuple(ALL)
    assert result.client_messages == (s.rule("R-FEVER").client_message, REFER_FOOTER)


def test_r_unconfirmed_is_never_cleared_by_a_note():
    note = Clearance(frozenset({"R-UNCONFIRMED", "R-FEVER"}), urgent_assessed=True)
    result = run(clearances=(note,), fever="yes", night_pain="unsure")
    assert result.outcome is Outcome.REFER
    assert result.cleared_rules == ("R-FEVER",)
    # Only R-UNCONFIRMED still blocks, so no clearance-note footer.
    assert result.client_messages == (s.rule("R-UNCONFIRMED").client_message,)


def test_urgent_rule_needs_an_urgent_assessment_note():
    plain = Clearance(frozenset({"U-DVT"}))
    result = run(clearances=(plain,), one_leg_swollen_warm_red="yes")
    assert result.outcome is Outcome.URGENT
    assert result.cleared_rules == ()
    assert result.clearance_lapsed is True

    assessed = Clearance(frozenset({"U-DVT"}), urgent_assessed=True)
    result = run(clearances=(assessed,), one_leg_swollen_warm_red="yes")
    assert result.outcome is Outcome.CAUTION
    assert result.cleared_rules == ("U-DVT",)
    assert result.clearance_lapsed is False
    assert result.excluded_techniques == tuple(NO_DEEP)
    assert "no massage of the affected leg" in result.therapist_notes[0]


def test_a_new_urgent_rule_makes_clearances_lapse():
    note = Clearance(frozenset({"R-CANCER-HISTORY"}))
    result = run(
        clearances=(note,), history_of_cancer="yes", breathless_or_chest_pain="yes"
    )
    assert result.outcome is Outcome.URGENT
    assert result.cleared_rules == ()
    assert result.clearance_lapsed is True
    assert result.therapist_notes[1] == (
        f"R-CANCER-HISTORY: {s.rule('R-CANCER-HISTORY').therapist_rationale}"
    )


def test_notes_for_rules_that_did_not_fire_change_nothing():
    note = Clearance(frozenset({"R-FEVER", "U-PE"}), urgent_assessed=True)
    assert run(clearances=(note,)) == run()


def test_clearance_of_a_caution_rule_changes_nothing():
    note = Clearance(frozenset({"C-PREGNANCY"}))
    with_note = run(clearances=(note,), pregnancy="yes")
    assert with_note == run(pregnancy="yes")


def test_clearance_validation():
    assert Clearance(["R-FEVER"]).rule_ids == frozenset({"R-FEVER"})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown rule ids"):
        Clearance(frozenset({"R-FEVERISH"}))
    with pytest.raises(ValueError, match="swedish"):
        Clearance(frozenset({"R-FEVER"}), excluded=frozenset({"swedish"}))
    with pytest.raises(ValueError, match="unknown techniques"):
        Clearance(frozenset({"R-FEVER"}), excluded=frozenset({"reiki"}))


def test_clearable_rules():
    blocking = {r.id for r in s.RULES if r.outcome != "caution"}
    assert blocking - {"R-UNCONFIRMED"} == s.CLEARABLE_RULE_IDS


# --- result serialisation and review table ---


def test_to_dict_has_exactly_the_contract_keys():
    result = run(**EVERYTHING)
    as_dict = result.to_dict()
    assert tuple(as_dict) == s.RESULT_KEYS
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["outcome"] == "urgent"
    assert as_dict["top_technique"] is None


def test_record_round_trip():
    note = Clearance(frozenset({"R-CANCER-HISTORY"}))
    result = run(clearances=(note,), history_of_cancer="yes", fever="unsure")
    record = json.loads(json.dumps(result.to_record()))
    assert set(record) == set(s.RESULT_KEYS) | {
        "cleared_rules",
        "clearance_lapsed",
        "suggestion_reason",
        "unconfirmed_fields",
        "missing_fields",
    }
    assert ScreeningResult.from_record(record) == result
    assert ScreeningResult.from_record(run().to_dict()).outcome is Outcome.CLEAR


def test_blocks_booking():
    assert s.blocks_booking(run(fever="yes")) is True
    assert s.blocks_booking(run(pain_score=7)) is False


def test_rules_table():
    rows = s.rules_table()
    assert [row.id for row in rows] == list(s.RULE_IDS)
    counts = {
        o: sum(row.outcome == o for row in rows) for o in ("urgent", "refer", "caution")
    }
    assert counts == {"urgent": 6, "refer": 14, "caution": 9}
    by_id = {row.id: row for row in rows}
    assert tuple(by_id["U-DVT"]) == (
        "U-DVT",
        "urgent",
        "ALL",
        "NO_DEEP; no massage of the affected leg until the clinician says so",
        "000_eabb878a156cbe20.txt; [NHS-DVT]; [NG158] §1.1; [MAYO]; [NCCIH].",
    )
    assert by_id["C-SPONDYLOLISTHESIS"].excluded == "deep_tissue"
    assert by_id["C-LOCAL-AVOID"].excluded == "none"
    assert by_id["R-HYPERTENSION"].after_clearance == "none"
    assert by_id["R-UNCONFIRMED"].after_clearance.startswith("cleared by completing")


def test_rule_table_invariants():
    for rule in s.RULES:
        assert rule.client_message and rule.therapist_rationale and rule.citation
        if rule.outcome is Outcome.CAUTION:
            assert "swedish" not in rule.excluded
            assert rule.after_clearance is None
        else:
            assert rule.excluded == v.ALL
            if rule.after_clearance is not None:
                assert "swedish" not in rule.after_clearance


def test_result_is_deterministic_and_frozen():
    result = run(**EVERYTHING)
    assert result == run(**EVERYTHING)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.outcome = Outcome.CLEAR  # type: ignore[misc]


# --- properties over generated intakes ---

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.text(max_size=4),
    st.integers(-3, 3),
)


def _answer(spec: v.Field) -> st.SearchStrategy[object]:
    if spec.kind is v.Kind.INTEGER:
        assert spec.minimum is not None and spec.maximum is not None
        valid = st.integers(spec.minimum - 2, spec.maximum + 2)
    elif spec.kind is v.Kind.ENUM:
        valid = st.sampled_from(spec.values)
    else:
        valid = st.lists(st.sampled_from((*spec.values, "bogus")), max_size=4)
    # Valid answers dominate so that bookable intakes are common.
    return st.one_of(valid, valid, valid, st.just(DROP), JUNK)


ANSWERS = st.fixed_dictionaries({f.key: _answer(f) for f in v.FIELDS}).map(
    lambda answers: {k: a for k, a in answers.items() if a is not DROP}
)
CLEARANCES = st.lists(
    st.builds(
        Clearance,
        st.frozensets(st.sampled_from(s.RULE_IDS), max_size=6),
        st.one_of(st.none(), st.frozensets(st.sampled_from(sorted(v.NO_DEEP)))),
        st.booleans(),
    ),
    max_size=2,
)


def _check_invariants(result: ScreeningResult) -> None:
    fired_outcomes = [s.rule(r).outcome for r in result.fired_rules]
    assert result.booking_allowed is (result.outcome in ("clear", "caution"))
    assert result.therapist_review_required is (result.outcome == "caution")
    if result.booking_allowed:
        # §1.1 invariant: a bookable client keeps swedish and gets a suggestion.
        assert "swedish" not in result.excluded_techniques
        assert result.top_technique is not None
        assert result.technique_ranking[0] == result.top_technique
        assert set(result.technique_ranking) == v.ALL - set(result.excluded_techniques)
        assert result.suggestion_rules[0] == "S-BASE"
    else:
        assert result.excluded_techniques == tuple(ALL)
        assert result.technique_ranking == ()
        assert result.top_technique is None
        assert result.suggestion_rules == ("S-BLOCKED",)
        assert result.advisories == ()
    if not result.cleared_rules:
        expected = max(fired_outcomes, key=lambda o: o.severity, default="clear")
        assert result.outcome == expected
    assert list(result.excluded_techniques) == sorted(result.excluded_techniques)
    assert [r for r in s.RULE_IDS if r in result.fired_rules] == list(
        result.fired_rules
    )
    assert "A-COMPRESSION-SOCKS" not in result.advisories
    assert ("R-UNCONFIRMED" in result.fired_rules) == bool(result.unconfirmed_fields)
    assert json.dumps(result.to_dict())


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(ANSWERS)
def test_generated_intakes_keep_the_invariants(answers):
    _check_invariants(run(answers))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(ANSWERS, CLEARANCES)
def test_generated_intakes_with_clearances_keep_the_invariants(answers, notes):
    result = run(answers, clearances=tuple(notes))
    _check_invariants(result)
    without = run(answers)
    # A note can only lower the outcome, never raise it.
    assert result.outcome.severity <= without.outcome.severity
    assert result.fired_rules == without.fired_rules
    assert set(result.cleared_rules) <= set(result.fired_rules) - {"R-UNCONFIRMED"}


@settings(max_examples=200)
@given(ANSWERS, st.sampled_from(["bladder_change", "bowel_change", "saddle_numbness"]))
def test_a_cauda_equina_answer_is_always_urgent(answers, key):
    result = run({**answers, key: "yes"})
    assert result.outcome is Outcome.URGENT
    assert "U-CES" in result.fired_rules


@settings(max_examples=200)
@given(ANSWERS)
def test_unsure_never_lowers_the_outcome(answers):
    before = run(answers).outcome.severity
    after = run({**answers, "night_pain": "unsure"}).outcome.severity
    assert after >= max(before, Outcome.REFER.severity)
