"""The controlled vocabulary matches screening-rules.md §1.1, §2.1 and §3.2."""

from __future__ import annotations

import pytest

from clinic.intake import vocabulary as v

SPEC_FIELD_ORDER = (
    "age_years",
    "pregnancy",
    "pain_score",
    "pain_locations",
    "legs_affected",
    "pain_duration",
    "onset",
    "pain_trend",
    "symptom_extent_trend",
    "suspected_cause",
    "cause_source",
    "clinician_assessed",
    "muscle_knots",
    "bladder_change",
    "bowel_change",
    "saddle_numbness",
    "leg_weakness",
    "leg_numbness",
    "one_leg_swollen_warm_red",
    "breathless_or_chest_pain",
    "fever",
    "unexplained_weight_loss",
    "night_pain",
    "history_of_cancer",
    "recent_injury",
    "surgery_last_12_weeks",
    "blood_pressure_status",
    "bp_systolic_mmhg",
    "bp_diastolic_mmhg",
    "medications",
    "conditions",
)

YNU = ("yes", "no", "unsure")

SPEC_VALUES = {
    "pregnancy": (
        "no",
        "yes",
        "yes_with_complications",
        "not_sure",
        "not_applicable",
    ),
    "pain_locations": ("lower_back", "buttock", "thigh", "knee", "calf", "foot"),
    "legs_affected": ("none", "left", "right", "both"),
    "pain_duration": (
        "less_than_6_weeks",
        "6_to_12_weeks",
        "more_than_12_weeks",
        "no_pain",
    ),
    "onset": ("sudden", "gradual", "not_sure"),
    "pain_trend": ("improving", "stable", "worsening", "comes_and_goes", "no_pain"),
    "symptom_extent_trend": (
        "moving_up",
        "moving_down",
        "no_change",
        "not_sure",
        "not_applicable",
    ),
    "suspected_cause": (
        "disc_herniation_or_bulge",
        "spinal_stenosis",
        "spondylolisthesis",
        "piriformis_syndrome",
        "tight_muscles",
        "other",
        "unknown",
    ),
    "cause_source": ("clinician_diagnosed", "self_reported"),
    "clinician_assessed": YNU,
    "muscle_knots": ("yes", "no", "not_sure"),
    "bladder_change": YNU,
    "bowel_change": YNU,
    "saddle_numbness": YNU,
    "leg_weakness": ("none", "mild", "significant", "unsure"),
    "leg_numbness": ("none", "tingling_or_patchy", "significant", "unsure"),
    "one_leg_swollen_warm_red": YNU,
    "breathless_or_chest_pain": YNU,
    "fever": YNU,
    "unexplained_weight_loss": YNU,
    "night_pain": YNU,
    "history_of_cancer": YNU,
    "recent_injury": ("none", "minor", "major", "unsure"),
    "surgery_last_12_weeks": YNU,
    "blood_pressure_status": (
        "no_known_problem",
        "high_controlled",
        "high_not_controlled",
        "not_sure",
    ),
    "medications": (
        "anticoagulant",
        "antiplatelet",
        "long_term_oral_steroid",
        "nerve_pain_medicine",
        "opioid_painkiller",
        "other",
        "none",
        "not_sure",
    ),
    "conditions": (
        "bleeding_disorder",
        "osteoporosis",
        "previous_dvt_or_pe",
        "varicose_veins",
        "skin_problem_in_treatment_area",
        "immunosuppressed",
        "injects_drugs",
        "none",
    ),
}

# §4.2 R-UNCONFIRMED: these thirteen hold booking when answered `unsure`.
UNSURE_HOLDS = (
    "bladder_change",
    "bowel_change",
    "saddle_numbness",
    "leg_weakness",
    "leg_numbness",
    "one_leg_swollen_warm_red",
    "breathless_or_chest_pain",
    "fever",
    "unexplained_weight_loss",
    "night_pain",
    "history_of_cancer",
    "recent_injury",
    "surgery_last_12_weeks",
)


def test_fields_are_in_spec_order():
    assert v.FIELD_KEYS == SPEC_FIELD_ORDER


@pytest.mark.parametrize(("key", "values"), sorted(SPEC_VALUES.items()))
def test_allowed_values_in_spec_order(key, values):
    assert v.field(key).values == values


def test_integer_fields_and_ranges():
    ranges = {
        f.key: (f.minimum, f.maximum) for f in v.FIELDS if f.kind is v.Kind.INTEGER
    }
    assert ranges == {
        "age_years": (0, 120),
        "pain_score": (0, 10),
        "bp_systolic_mmhg": (50, 300),
        "bp_diastolic_mmhg": (20, 200),
    }


def test_kinds():
    multi = {f.key for f in v.FIELDS if f.kind is v.Kind.MULTI}
    assert multi == {"pain_locations", "medications", "conditions"}
    enums = {f.key for f in v.FIELDS if f.kind is v.Kind.ENUM}
    assert enums == set(SPEC_VALUES) - multi


def test_required_fields():
    optional = {f.key for f in v.FIELDS if not f.required}
    assert optional == {
        "pain_locations",
        "onset",
        "symptom_extent_trend",
        "suspected_cause",
        "cause_source",
        "muscle_knots",
        "bp_systolic_mmhg",
        "bp_diastolic_mmhg",
    }
    assert set(v.REQUIRED_FIELDS) == set(SPEC_FIELD_ORDER) - optional


def test_optional_defaults():
    defaults = {f.key: f.default for f in v.FIELDS if not f.required}
    assert defaults == {
        "pain_locations": (),
        "onset": "not_sure",
        "symptom_extent_trend": "not_sure",
        "suspected_cause": "unknown",
        "cause_source": "self_reported",
        "muscle_knots": "no",
        "bp_systolic_mmhg": None,
        "bp_diastolic_mmhg": None,
    }


def test_defaults_are_allowed_values():
    for f in v.FIELDS:
        if isinstance(f.default, str):
            assert f.default in f.values, f.key


def test_sections():
    assert [(s.key, s.title) for s in v.SECTIONS] == [
        ("A", "About you"),
        ("B", "Your pain"),
        ("C", "Safety questions"),
        ("D", "Medicines"),
        ("E", "Health conditions"),
    ]
    assert [f.key for f in v.fields_in_section("A")] == ["age_years", "pregnancy"]
    assert [f.key for f in v.fields_in_section("D")] == ["medications"]
    assert [f.key for f in v.fields_in_section("E")] == ["conditions"]
    assert len(v.fields_in_section("B")) == 11
    assert len(v.fields_in_section("C")) == 16


def test_section_c_is_required_except_bp_readings():
    optional_c = [f.key for f in v.fields_in_section("C") if not f.required]
    assert optional_c == ["bp_systolic_mmhg", "bp_diastolic_mmhg"]


def test_unsure_holds_exactly_the_listed_safety_fields():
    holds = tuple(f.key for f in v.FIELDS if f.unconfirmed_values)
    assert holds == UNSURE_HOLDS
    assert all(v.field(k).unconfirmed_values == {"unsure"} for k in UNSURE_HOLDS)


def test_rescreen_fields_are_section_c_plus_four_pain_fields():
    section_c = {f.key for f in v.fields_in_section("C")}
    assert set(v.RESCREEN_FIELDS) == section_c | {
        "pain_score",
        "pain_trend",
        "symptom_extent_trend",
        "legs_affected",
    }


def test_sensitive_fields_and_items():
    assert set(v.SENSITIVE_FIELDS) == {
        f.key for f in v.FIELDS if f.section in ("C", "E")
    }
    sensitive_items = [
        (f.key, c.value) for f in v.FIELDS for c in f.choices if c.sensitive
    ]
    assert sensitive_items == [("conditions", "injects_drugs")]
    assert "confidential" in v.CONFIDENTIALITY_NOTICE
    assert v.field("conditions").help_text == v.CONFIDENTIALITY_NOTICE


@pytest.mark.parametrize("spec_field", v.FIELDS, ids=lambda f: f.key)
def test_every_field_is_displayable(spec_field):
    assert spec_field.question
    assert "**" not in spec_field.question
    assert spec_field.handling
    labels = [c.label for c in spec_field.choices]
    assert all(labels)
    assert len(set(labels)) == len(labels)
    assert all("**" not in c.label + c.description for c in spec_field.choices)


@pytest.mark.parametrize(
    ("key", "question"),
    [
        ("age_years", "How old are you (in years)?"),
        ("pregnancy", "Are you pregnant, or could you be?"),
        (
            "pain_score",
            "On a scale from 0 (no pain) to 10 (the worst pain you can imagine), how "
            "bad has your back or leg pain been on average over the last 24 hours?",
        ),
        ("leg_weakness", "Does either leg feel weak?"),
        ("unexplained_weight_loss", "Have you lost weight recently without trying?"),
        (
            "medications",
            "Do you take any of these medicines? Tick all that apply, or 'none'.",
        ),
        ("bp_diastolic_mmhg", "…and the bottom number."),
    ],
)
def test_question_wording_is_the_spec_wording(key, question):
    assert v.field(key).question == question


@pytest.mark.parametrize(
    ("key", "value", "label"),
    [
        ("suspected_cause", "disc_herniation_or_bulge", "Slipped or bulging disc"),
        ("suspected_cause", "unknown", "I don't know"),
        ("leg_weakness", "mild", "Mild"),
        ("medications", "opioid_painkiller", "Codeine, tramadol, morphine, oxycodone"),
        ("conditions", "varicose_veins", "Varicose veins in your legs"),
        ("fever", "unsure", "I'm not sure"),
    ],
)
def test_labels(key, value, label):
    assert v.field(key).label(value) == label


def test_mild_and_significant_descriptions():
    weakness = v.field("leg_weakness")
    assert weakness.choice("mild").description == (
        "A little weaker, but I can walk, climb stairs and stand on my heels and "
        "toes as normal."
    )
    assert "getting worse" in weakness.choice("significant").description
    numbness = v.field("leg_numbness")
    assert numbness.choice("tingling_or_patchy").description == (
        "Pins and needles, or small numb patches."
    )


def test_pregnancy_help_text():
    help_text = v.field("pregnancy").help_text
    assert "pre-eclampsia" in help_text
    assert help_text.startswith("Yes, with complications:")


def test_cause_source_is_informational():
    assert [f.key for f in v.FIELDS if f.informational] == ["cause_source"]


def test_unknown_lookups_raise():
    with pytest.raises(KeyError):
        v.field("shoe_size")
    with pytest.raises(KeyError):
        v.field("fever").choice("maybe")


def test_techniques():
    assert v.TECHNIQUE_KEYS == (
        "swedish",
        "deep_tissue",
        "trigger_point",
        "neuromuscular",
    )
    assert v.technique_name("trigger_point") == "Trigger point therapy"
    assert v.TECHNIQUE_NAMES["neuromuscular"] == "Neuromuscular therapy"
    assert all(t.description for t in v.TECHNIQUES)


def test_named_exclusion_sets():
    assert sorted(v.NO_DEEP) == ["deep_tissue", "neuromuscular", "trigger_point"]
    assert sorted(v.ALL) == ["deep_tissue", "neuromuscular", "swedish", "trigger_point"]
    assert "swedish" not in v.NO_DEEP


def test_vocabulary_is_immutable():
    spec_field = v.field("fever")
    with pytest.raises(AttributeError):
        spec_field.required = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        v.FIELDS_BY_KEY["fever"] = spec_field  # type: ignore[index]


def test_ruleset_version():
    assert v.RULESET_VERSION == "1.0.0"
