"""Controlled intake vocabulary as data (screening-rules.md, ruleset 1.0.0).

Everything a web form or a CLI needs to ask the intake questions lives here:
sections and fields (§2.1), allowed values in spec order with plain labels,
required flags, integer ranges, defaults for optional answers (§2.3), the
fields re-asked before every booking (§3.2) and the technique keys (§1.1).

Question wording is the spec's, with its markdown emphasis removed. Spec
labels keep their words; only the first letter is capitalised for display.
Pure standard library: no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType

RULESET_VERSION = "1.0.0"

# Shown wherever the sensitive sections are asked (§2.1, section E note).
CONFIDENTIALITY_NOTICE = (
    "Your answers are confidential. We use them only to keep your treatment safe."
)


class Kind(StrEnum):
    """How an answer is typed in the JSON intake (§2.3)."""

    INTEGER = "integer"
    ENUM = "enum"
    MULTI = "multi"


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    sensitive: bool = False


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    description: str = ""
    sensitive: bool = False


@dataclass(frozen=True)
class Field:
    """One intake question (a row of the §2.1 tables)."""

    key: str
    section: str
    kind: Kind
    question: str
    required: bool
    choices: tuple[Choice, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    help_text: str = ""
    # What an optional answer becomes when missing or invalid (§2.3).
    default: str | tuple[str, ...] | None = None
    # Values that hold booking through R-UNCONFIRMED (§4.2), e.g. "unsure".
    unconfirmed_values: frozenset[str] = frozenset()
    # The spec's "missing / unsure handling" column, for reviewers and help pages.
    handling: str = ""
    # Re-asked at every booking (§3.2).
    rescreen: bool = False
    # Read by no rule (cause_source).
    informational: bool = False

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(choice.value for choice in self.choices)

    @property
    def sensitive(self) -> bool:
        return SECTIONS_BY_KEY[self.section].sensitive

    def choice(self, value: str) -> Choice:
        """The choice for `value`; raises KeyError for a value outside the field."""
        for choice in self.choices:
            if choice.value == value:
                return choice
        raise KeyError(f"{self.key}: unknown value {value!r}")

    def label(self, value: str) -> str:
        return self.choice(value).label


@dataclass(frozen=True)
class Technique:
    key: str
    name: str
    description: str


# --- §1.1 techniques --------------------------------------------------------

TECHNIQUES: tuple[Technique, ...] = (
    Technique(
        "swedish",
        "Swedish massage",
        "Long, gliding strokes at light to moderate pressure. Aims at relaxation "
        "and indirect pain relief.",
    ),
    Technique(
        "deep_tissue",
        "Deep tissue massage",
        "Slow, sustained, firm pressure into deep muscle and connective tissue. "
        "Aims at chronic tension and tightness.",
    ),
    Technique(
        "trigger_point",
        "Trigger point therapy",
        'Focused, sustained ("ischaemic") pressure on specific tender knots that '
        "may press on or irritate the sciatic nerve.",
    ),
    Technique(
        "neuromuscular",
        "Neuromuscular therapy",
        "Systematic, focused pressure and friction aimed at muscle imbalances, "
        "trigger points and soft-tissue compression of a nerve. Piriformis is the "
        "typical target.",
    ),
)
TECHNIQUE_KEYS: tuple[str, ...] = tuple(t.key for t in TECHNIQUES)
TECHNIQUE_NAMES: MappingProxyType[str, str] = MappingProxyType(
    {t.key: t.name for t in TECHNIQUES}
)

# Named exclusion sets (§1.1). Sets, because exclusions are combined by union.
NO_DEEP: frozenset[str] = frozenset({"deep_tissue", "neuromuscular", "trigger_point"})
ALL: frozenset[str] = frozenset(TECHNIQUE_KEYS)

# --- §2.1 sections -------------------------------------------------------------

SECTIONS: tuple[Section, ...] = (
    Section("A", "About you"),
    Section("B", "Your pain"),
    Section("C", "Safety questions", sensitive=True),
    Section("D", "Medicines"),
    Section("E", "Health conditions", sensitive=True),
)
SECTIONS_BY_KEY: MappingProxyType[str, Section] = MappingProxyType(
    {s.key: s for s in SECTIONS}
)

# --- shared choice lists -------------------------------------------------------

_YES = Choice("yes", "Yes")
_NO = Choice("no", "No")
_UNSURE = Choice("unsure", "I'm not sure")
_NOT_SURE = Choice("not_sure", "I'm not sure")
YES_NO_UNSURE: tuple[Choice, ...] = (_YES, _NO, _UNSURE)

_UNSURE_HOLDS = frozenset({"unsure"})
_SAFETY_HANDLING = "Missing or unsure holds booking (R-UNCONFIRMED)."


def _safety(
    key: str,
    question: str,
    choices: tuple[Choice, ...] = YES_NO_UNSURE,
    help_text: str = "",
) -> Field:
    """A required section C question where `unsure` holds booking (§2.1)."""
    return Field(
        key=key,
        section="C",
        kind=Kind.ENUM,
        question=question,
        required=True,
        choices=choices,
        help_text=help_text,
        unconfirmed_values=_UNSURE_HOLDS,
        handling=_SAFETY_HANDLING,
        rescreen=True,
    )


# --- §2.1 fields, in spec order ---------------------------------------------------

_SECTION_A: tuple[Field, ...] = (
    Field(
        key="age_years",
        section="A",
        kind=Kind.INTEGER,
        question="How old are you (in years)?",
        required=True,
        minimum=0,
        maximum=120,
        handling="Missing or out of range holds booking (R-UNCONFIRMED).",
    ),
    Field(
        key="pregnancy",
        section="A",
        kind=Kind.ENUM,
        question="Are you pregnant, or could you be?",
        required=True,
        choices=(
            _NO,
            _YES,
            Choice(
                "yes_with_complications",
                "Yes, with complications",
                "Your midwife or doctor has said your pregnancy is high-risk, or you "
                "have high blood pressure or pre-eclampsia, bleeding, or have been "
                "told not to have massage.",
            ),
            _NOT_SURE,
            Choice("not_applicable", "This does not apply to me"),
        ),
        help_text=(
            "Yes, with complications: your midwife or doctor has said your pregnancy "
            "is high-risk, or you have high blood pressure or pre-eclampsia, "
            "bleeding, or have been told not to have massage."
        ),
        handling="not_sure counts as yes (C-PREGNANCY); not_applicable counts as no.",
    ),
)

_SECTION_B: tuple[Field, ...] = (
    Field(
        key="pain_score",
        section="B",
        kind=Kind.INTEGER,
        question=(
            "On a scale from 0 (no pain) to 10 (the worst pain you can imagine), how "
            "bad has your back or leg pain been on average over the last 24 hours?"
        ),
        required=True,
        minimum=0,
        maximum=10,
        handling="Missing or out of range holds booking (R-UNCONFIRMED).",
        rescreen=True,
    ),
    Field(
        key="pain_locations",
        section="B",
        kind=Kind.MULTI,
        question=(
            "Where do you feel pain, pins and needles or numbness? Tick every place."
        ),
        required=False,
        choices=(
            Choice("lower_back", "Lower back"),
            Choice("buttock", "Buttock"),
            Choice("thigh", "Thigh"),
            Choice("knee", "Knee"),
            Choice("calf", "Calf"),
            Choice("foot", "Foot"),
        ),
        default=(),
        handling="Missing counts as no places ticked.",
    ),
    Field(
        key="legs_affected",
        section="B",
        kind=Kind.ENUM,
        question="Which leg has pain, pins and needles or numbness?",
        required=True,
        choices=(
            Choice("none", "Neither leg"),
            Choice("left", "Left leg"),
            Choice("right", "Right leg"),
            Choice("both", "Both legs"),
        ),
        handling="Missing holds booking (R-UNCONFIRMED).",
        rescreen=True,
    ),
    Field(
        key="pain_duration",
        section="B",
        kind=Kind.ENUM,
        question="How long have you had this episode of pain?",
        required=True,
        choices=(
            Choice("less_than_6_weeks", "Less than 6 weeks"),
            Choice("6_to_12_weeks", "6 to 12 weeks"),
            Choice("more_than_12_weeks", "More than 12 weeks"),
            Choice("no_pain", "I have no pain"),
        ),
        handling="Missing holds booking (R-UNCONFIRMED).",
    ),
    Field(
        key="onset",
        section="B",
        kind=Kind.ENUM,
        question="Did this pain start suddenly, or come on gradually?",
        required=False,
        choices=(
            Choice("sudden", "Suddenly"),
            Choice("gradual", "Gradually"),
            _NOT_SURE,
        ),
        default="not_sure",
        handling="Missing counts as not_sure.",
    ),
    Field(
        key="pain_trend",
        section="B",
        kind=Kind.ENUM,
        question=(
            "Over the last week, is your pain getting better, staying about the "
            "same, or getting worse?"
        ),
        required=True,
        choices=(
            Choice("improving", "Getting better"),
            Choice("stable", "Staying about the same"),
            Choice("worsening", "Getting worse"),
            Choice("comes_and_goes", "It comes and goes"),
            Choice("no_pain", "I have no pain"),
        ),
        handling="Missing holds booking (R-UNCONFIRMED).",
        rescreen=True,
    ),
    Field(
        key="symptom_extent_trend",
        section="B",
        kind=Kind.ENUM,
        question=(
            "Think of the lowest point down your leg that the pain or tingling "
            "reaches. Since it started (or since your last visit), is that point "
            "moving up towards your buttock, moving down towards your calf or foot, "
            "or staying the same?"
        ),
        required=False,
        choices=(
            Choice("moving_up", "Moving up towards my buttock"),
            Choice("moving_down", "Moving down towards my calf or foot"),
            Choice("no_change", "Staying the same"),
            _NOT_SURE,
            Choice("not_applicable", "I have no pain or tingling in my leg"),
        ),
        default="not_sure",
        handling="Missing counts as not_sure.",
        rescreen=True,
    ),
    Field(
        key="suspected_cause",
        section="B",
        kind=Kind.ENUM,
        question="As far as you know, what is causing your pain?",
        required=False,
        choices=(
            Choice("disc_herniation_or_bulge", "Slipped or bulging disc"),
            Choice("spinal_stenosis", "Narrowing of the spine (spinal stenosis)"),
            Choice(
                "spondylolisthesis",
                "A vertebra that has slipped forward (spondylolisthesis)",
            ),
            Choice(
                "piriformis_syndrome",
                "Piriformis syndrome: a tight muscle deep in the buttock pressing on "
                "the nerve",
            ),
            Choice("tight_muscles", "Tight or overworked muscles"),
            Choice("other", "Something else"),
            Choice("unknown", "I don't know"),
        ),
        default="unknown",
        handling="Missing counts as unknown (Swedish first).",
    ),
    Field(
        key="cause_source",
        section="B",
        kind=Kind.ENUM,
        question=(
            "Did a doctor or physiotherapist tell you this, or is it your own idea?"
        ),
        required=False,
        choices=(
            Choice("clinician_diagnosed", "A doctor or physiotherapist told me"),
            Choice("self_reported", "It's my own idea"),
        ),
        default="self_reported",
        handling="Missing counts as self_reported. Informational only.",
        informational=True,
    ),
    Field(
        key="clinician_assessed",
        section="B",
        kind=Kind.ENUM,
        question=(
            "Has a doctor, physiotherapist or other registered health professional "
            "examined you about this episode of pain?"
        ),
        required=True,
        choices=YES_NO_UNSURE,
        handling="unsure counts as no; missing holds booking (R-UNCONFIRMED).",
    ),
    Field(
        key="muscle_knots",
        section="B",
        kind=Kind.ENUM,
        question=(
            "Can you feel specific tight, tender 'knots' in your buttock, lower back "
            "or the back of your thigh that make the pain worse when pressed?"
        ),
        required=False,
        choices=(_YES, _NO, _NOT_SURE),
        default="no",
        handling="Missing or not_sure counts as no.",
    ),
)

_SECTION_C: tuple[Field, ...] = (
    _safety(
        "bladder_change",
        "Since this pain started, have you had any new problems passing urine? For "
        "example: difficulty starting, a weak flow, not being able to tell when your "
        "bladder is full, or leaking or losing control.",
    ),
    _safety(
        "bowel_change",
        "Since this pain started, have you had any new loss of control of your "
        "bowels, or not been able to feel when you need to open them?",
    ),
    _safety(
        "saddle_numbness",
        "Do you have any new numbness, tingling or reduced feeling between your legs, "
        "around your bottom or genitals, or on your inner buttocks (the area that "
        "would sit on a saddle)? This includes not feeling the toilet paper when you "
        "wipe.",
    ),
    _safety(
        "leg_weakness",
        "Does either leg feel weak?",
        choices=(
            Choice("none", "No"),
            Choice(
                "mild",
                "Mild",
                "A little weaker, but I can walk, climb stairs and stand on my heels "
                "and toes as normal.",
            ),
            Choice(
                "significant",
                "Significant",
                "My foot drags or slaps, my leg gives way, I can't stand on my heels "
                "or toes, or the weakness is getting worse.",
            ),
            _UNSURE,
        ),
    ),
    _safety(
        "leg_numbness",
        "Do you have numbness or pins and needles in your leg or foot?",
        choices=(
            Choice("none", "No"),
            Choice(
                "tingling_or_patchy",
                "Tingling or patchy",
                "Pins and needles, or small numb patches.",
            ),
            Choice(
                "significant",
                "Significant",
                "A large area feels numb or 'dead', or the numbness is spreading or "
                "getting worse.",
            ),
            _UNSURE,
        ),
    ),
    _safety(
        "one_leg_swollen_warm_red",
        "Is one of your legs (usually the calf) swollen, and also painful or tender, "
        "warm, or red or darker than the other leg?",
    ),
    _safety(
        "breathless_or_chest_pain",
        "In the last few days, have you had sudden shortness of breath, chest pain "
        "that is worse when you breathe in, or coughed up blood?",
    ),
    _safety(
        "fever",
        "In the last week, have you had a temperature of 38°C (100.4°F) or higher, "
        "shivering or chills, or felt generally unwell as if you had an infection?",
    ),
    _safety("unexplained_weight_loss", "Have you lost weight recently without trying?"),
    _safety(
        "night_pain",
        "Do you have severe pain at night that is there all the time and does not "
        "ease whatever position you lie in?",
    ),
    _safety(
        "history_of_cancer",
        "Have you ever been diagnosed with, or treated for, cancer (not counting a "
        "basal cell skin cancer that was simply removed)?",
    ),
    _safety(
        "recent_injury",
        "Did this pain start after an injury?",
        choices=(
            Choice("none", "No"),
            Choice(
                "minor",
                "Minor",
                "Lifting, twisting, or a slip or fall from standing height.",
            ),
            Choice(
                "major",
                "Major",
                "A road accident, a fall from a height or down stairs, a sports "
                "collision or a heavy blow.",
            ),
            _UNSURE,
        ),
    ),
    _safety(
        "surgery_last_12_weeks",
        "In the last 12 weeks, have you had an operation of any kind, or an injection "
        "into your spine?",
    ),
    Field(
        key="blood_pressure_status",
        section="C",
        kind=Kind.ENUM,
        question=(
            "Has a doctor or nurse told you that you have high blood pressure? If so, "
            "is it under control?"
        ),
        required=True,
        choices=(
            Choice("no_known_problem", "No, I don't know of any problem"),
            Choice("high_controlled", "Yes, and it is under control"),
            Choice(
                "high_not_controlled",
                "Not controlled",
                "I've been told it's high and not under control, I've stopped my "
                "treatment, or my recent readings are above my doctor's target.",
            ),
            _NOT_SURE,
        ),
        handling=(
            "Missing holds booking (R-UNCONFIRMED). not_sure fires nothing (it adds "
            "advisory A-BP-UNKNOWN)."
        ),
        rescreen=True,
    ),
    Field(
        key="bp_systolic_mmhg",
        section="C",
        kind=Kind.INTEGER,
        question=(
            "If you know it, your most recent blood pressure reading (top number)."
        ),
        required=False,
        minimum=50,
        maximum=300,
        handling="Missing or out of range is ignored.",
        rescreen=True,
    ),
    Field(
        key="bp_diastolic_mmhg",
        section="C",
        kind=Kind.INTEGER,
        question="…and the bottom number.",
        required=False,
        minimum=20,
        maximum=200,
        handling="Missing or out of range is ignored.",
        rescreen=True,
    ),
)

_SECTION_D: tuple[Field, ...] = (
    Field(
        key="medications",
        section="D",
        kind=Kind.MULTI,
        question="Do you take any of these medicines? Tick all that apply, or 'none'.",
        required=True,
        choices=(
            Choice(
                "anticoagulant",
                "Blood thinners such as warfarin, apixaban, rivaroxaban, edoxaban, "
                "dabigatran, or heparin/enoxaparin injections",
            ),
            Choice(
                "antiplatelet",
                "Aspirin (including low dose), clopidogrel, ticagrelor, prasugrel",
            ),
            Choice(
                "long_term_oral_steroid",
                "Steroid tablets such as prednisolone, taken for 3 months or more in "
                "the last year",
            ),
            Choice(
                "nerve_pain_medicine",
                "Pregabalin (Lyrica), gabapentin, amitriptyline, duloxetine, "
                "nortriptyline",
            ),
            Choice("opioid_painkiller", "Codeine, tramadol, morphine, oxycodone"),
            Choice("other", "Other medicines"),
            Choice("none", "None of these"),
            _NOT_SURE,
        ),
        handling=(
            "Empty list or missing holds booking (R-UNCONFIRMED). none is ignored "
            "when other items are ticked. not_sure counts as a blood thinner "
            "(C-BLEEDING-RISK)."
        ),
    ),
)

_SECTION_E: tuple[Field, ...] = (
    Field(
        key="conditions",
        section="E",
        kind=Kind.MULTI,
        question="Do any of these apply to you? Tick all that apply, or 'none'.",
        required=True,
        choices=(
            Choice(
                "bleeding_disorder",
                "A bleeding or clotting disorder (e.g. haemophilia, von Willebrand "
                "disease) or a low platelet count",
            ),
            Choice(
                "osteoporosis",
                "Osteoporosis or 'thin bones', or a broken bone from a minor fall",
            ),
            Choice(
                "previous_dvt_or_pe",
                "A blood clot in a leg (DVT) or lung (pulmonary embolism) in the past",
            ),
            Choice("varicose_veins", "Varicose veins in your legs"),
            Choice(
                "skin_problem_in_treatment_area",
                "Broken skin, a wound, burn, rash or skin infection on your back, "
                "buttocks or legs",
            ),
            Choice(
                "immunosuppressed",
                "A weakened immune system, e.g. chemotherapy in the last year, "
                "transplant medicines, or other immune-suppressing treatment",
            ),
            Choice(
                "injects_drugs",
                "Injecting drugs not prescribed to you, now or in the last year",
                sensitive=True,
            ),
            Choice("none", "None of these"),
        ),
        help_text=CONFIDENTIALITY_NOTICE,
        handling=(
            "Empty list or missing holds booking (R-UNCONFIRMED). none is ignored "
            "when other items are ticked."
        ),
    ),
)

FIELDS: tuple[Field, ...] = (
    _SECTION_A + _SECTION_B + _SECTION_C + _SECTION_D + _SECTION_E
)
FIELDS_BY_KEY: MappingProxyType[str, Field] = MappingProxyType(
    {f.key: f for f in FIELDS}
)
FIELD_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS)
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.required)
# §3.2: section C plus four pain fields are re-asked at every booking.
RESCREEN_FIELDS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.rescreen)
SENSITIVE_FIELDS: tuple[str, ...] = tuple(f.key for f in FIELDS if f.sensitive)


def field(key: str) -> Field:
    """The field named `key`; raises KeyError for a key outside the vocabulary."""
    return FIELDS_BY_KEY[key]


def fields_in_section(section: str) -> tuple[Field, ...]:
    """The fields of one section ("A" to "E"), in form order."""
    return tuple(f for f in FIELDS if f.section == section)


def technique_name(key: str) -> str:
    return TECHNIQUE_NAMES[key]
