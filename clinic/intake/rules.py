"""The screening data tables (screening-rules.md, ruleset 1.0.0), for review.

- §1.3: the named thresholds the rule conditions use.
- §1.2: `Outcome`, ordered by severity.
- §4: `RULES`, one `Rule` per row in §4.4 order, with the spec's client
  messages, therapist rationales, exclusions and after-clearance exclusions.
- §6: `ADVISORIES` for the therapist.
- `rules_table` lays the rule table out for `flask clinic rules`.

The engine that evaluates these tables is `clinic.intake.screening`, which
re-exports every public name here. Each condition is a function of the
normalised answers (`screening.NormalisedAnswers`, §2.2-2.3).

Pure standard library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from types import MappingProxyType
from typing import TYPE_CHECKING, NamedTuple

from clinic.intake.vocabulary import ALL, NO_DEEP

if TYPE_CHECKING:  # conditions read the engine's normalised answers
    from clinic.intake.screening import NormalisedAnswers


# --- §1.3 thresholds ---

SEVERE_PAIN_MIN = 8
HIGH_PAIN_VALUE = 7
MIN_AGE = 18
REVIEW_AGE = 50
BP_SYS_MIN = 180
BP_DIA_MIN = 120


# §4.2: appended once, last, to refer messages (§1.4.9).
REFER_FOOTER = (
    "Once you've been checked, ask them for a short note (or let us contact them) "
    "confirming massage is OK, then we'll book you in. If things get worse "
    "(especially bladder, bowel, saddle-area changes or new weakness), seek urgent "
    "help."
)


class Outcome(StrEnum):
    """§1.2 outcomes; `severity` orders them and the most severe wins."""

    CLEAR = "clear"
    CAUTION = "caution"
    REFER = "refer"
    URGENT = "urgent"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @property
    def booking_allowed(self) -> bool:
        return self in (Outcome.CLEAR, Outcome.CAUTION)


_SEVERITY = MappingProxyType(
    {Outcome.CLEAR: 0, Outcome.CAUTION: 1, Outcome.REFER: 2, Outcome.URGENT: 3}
)


# --- §4 rule table ---


@dataclass(frozen=True)
class Rule:
    """One row of §4. Urgent and refer rules exclude ALL while uncleared (§1.4.3).

    `after_clearance` is None for rules a clinician note cannot clear (caution
    rules, and R-UNCONFIRMED, which needs a completed intake instead).
    """

    id: str
    title: str
    outcome: Outcome
    condition: Callable[[NormalisedAnswers], bool]
    client_message: str
    therapist_rationale: str
    citation: str
    excluded: frozenset[str] = frozenset()
    after_clearance: frozenset[str] | None = None
    after_clearance_note: str = ""

    @property
    def clearable(self) -> bool:
        return self.after_clearance is not None


# Urgent and refer rules exclude ALL while uncleared (§1.2, §1.4.3); the
# default after-clearance exclusion for urgent rules is NO_DEEP (§3.2).
_urgent = partial(Rule, outcome=Outcome.URGENT, excluded=ALL, after_clearance=NO_DEEP)
_refer = partial(Rule, outcome=Outcome.REFER, excluded=ALL)
_caution = partial(Rule, outcome=Outcome.CAUTION)


def _bilateral_needs_urgent(a: NormalisedAnswers) -> bool:
    """U-BILATERAL: both legs, and new, unassessed or worsening."""
    return a.legs_affected == "both" and (
        not a.assessed
        or a.acute
        or a.pain_trend == "worsening"
        or a.symptom_extent_trend == "moving_down"
    )


def _at_least(value: int | None, threshold: int) -> bool:
    return value is not None and value >= threshold


_NONE: frozenset[str] = frozenset()

# Texts are the spec's, as plain text (markdown emphasis removed). Each rule's
# condition is written over the normalised answers exactly as §4 states it.
RULES: tuple[Rule, ...] = (
    # §4.1 urgent rules: seek care now or today.
    _urgent(
        id="U-CES",
        title="Possible cauda equina syndrome",
        # §1.4.4: fires whether or not there is pain.
        condition=lambda a: (
            "yes" in (a.bladder_change, a.bowel_change, a.saddle_numbness)
        ),
        client_message=(
            "You've told us about changes in bladder or bowel control, or numbness "
            "between your legs or around your bottom. Together with back or leg pain, "
            "these can mean the nerves at the base of the spine are being squeezed, "
            "which needs checking straight away. Please go to an emergency department "
            "now or call {emergency_number}. Do not wait to see if it settles. We have "
            "not booked a massage."
        ),
        therapist_rationale=(
            "New bladder or bowel dysfunction or saddle sensory change with back or "
            "leg pain are CES red flags. The national pathway is immediate "
            "emergency-department referral for MRI. No single symptom is reliable, and "
            "clients often don't volunteer these symptoms unless asked. Do not treat "
            "and do not reassure."
        ),
        citation=(
            "000_eabb878a156cbe20.txt, 004_acd78c244661ae3e.txt; [GIRFT-CES]; "
            '[NHS-SCI]; [CKS-SCI] "interpreting red flags".'
        ),
    ),
    _urgent(
        id="U-BILATERAL",
        title="New, unassessed or worsening symptoms in both legs",
        condition=_bilateral_needs_urgent,
        client_message=(
            "Pain, tingling or numbness in both legs that is new, getting worse, or "
            "hasn't been checked by a doctor needs urgent medical assessment today. "
            "Please go to an emergency department or call {emergency_number}, "
            "especially if you have any bladder, bowel or saddle-area changes. We have "
            "not booked a massage."
        ),
        therapist_rationale=(
            'Bilateral radicular symptoms are an early CES warning sign (GIRFT: "new '
            'onset bilateral leg pain"; NHS: "sciatica on both sides", go to A&E). If '
            "bilateral symptoms are already assessed, chronic and stable, "
            "C-BILATERAL-KNOWN applies instead."
        ),
        citation="[GIRFT-CES]; [NHS-SCI]; [CKS-SCI].",
    ),
    _urgent(
        id="U-NEURO-DEFICIT",
        title="Significant or progressing leg weakness or numbness",
        condition=lambda a: (
            a.leg_weakness == "significant" or a.leg_numbness == "significant"
        ),
        client_message=(
            "Significant or worsening weakness or numbness in your leg (for example "
            "your foot dragging, or a leg giving way) should be checked by a doctor "
            "today. Please contact {urgent_care}, or go to an emergency department if "
            "it is getting worse quickly or you also have bladder, bowel or "
            "saddle-area changes. We have not booked a massage."
        ),
        therapist_rationale=(
            "The seeds say significant leg weakness or numbness needs immediate "
            "attention. Guidance treats severe or progressive motor deficit (e.g. foot "
            "drop) as needing urgent specialist review. Mild, stable tingling is "
            "common in sciatica and is handled by C-MILD-NEURO."
        ),
        citation=(
            "000_eabb878a156cbe20.txt, 004_acd78c244661ae3e.txt, "
            "003_eec2c57c668b132c.txt; [CKS-SCI]; [NHS-SCI]."
        ),
    ),
    _urgent(
        id="U-DVT",
        title="Possible deep vein thrombosis",
        condition=lambda a: a.one_leg_swollen_warm_red == "yes",
        client_message=(
            "A swollen, painful, warm or red calf or leg on one side can be a blood "
            "clot (DVT). Please get medical help today: contact {urgent_care}. If you "
            "also become breathless or have chest pain, call {emergency_number}. "
            "Please don't rub or massage the leg. We have not booked a massage."
        ),
        therapist_rationale=(
            "The seed describes compression therapy and DVT prevention. A DVT can "
            "mimic sciatic calf pain, and massage over a suspected clot is a "
            "recognised contraindication. Suspected DVT needs same-day clinical "
            "assessment. Never massage a limb with a suspected clot. Compression socks "
            "are not a test for or treatment of a suspected clot."
        ),
        citation="000_eabb878a156cbe20.txt; [NHS-DVT]; [NG158] §1.1; [MAYO]; [NCCIH].",
        after_clearance_note=(
            "no massage of the affected leg until the clinician says so"
        ),
    ),
    _urgent(
        id="U-PE",
        title="Possible pulmonary embolism",
        condition=lambda a: a.breathless_or_chest_pain == "yes",
        client_message=(
            "Sudden breathlessness, chest pain that is worse when you breathe in, or "
            "coughing up blood needs emergency care. Call {emergency_number} now. We "
            "have not booked a massage."
        ),
        therapist_rationale=(
            "Possible PE or other cardiorespiratory emergency. This is outside massage "
            "scope."
        ),
        citation="[NHS-DVT]; [NG158].",
    ),
    _urgent(
        id="U-SPINAL-INFECTION",
        title="Fever with infection risk factors",
        condition=lambda a: (
            a.fever == "yes"
            and (
                "immunosuppressed" in a.conditions
                or "injects_drugs" in a.conditions
                or a.surgery_last_12_weeks == "yes"
            )
        ),
        client_message=(
            "Back pain with a fever is more worrying when your immune system is "
            "weakened, after a recent operation or spinal injection, or if you inject "
            "drugs. Please get medical help today: contact {urgent_care}, or go to an "
            "emergency department if you feel very unwell or have new weakness or "
            "numbness. We have not booked a massage."
        ),
        therapist_rationale=(
            "Fever plus immunosuppression, injecting drug use or a recent procedure "
            "raises the probability of spinal infection (discitis, epidural abscess). "
            "Guidance says exclude infection. R-FEVER also fires."
        ),
        citation="[NG59] rec 1.1.1; [CKS-SCI]; [VERHAGEN16].",
    ),
    # §4.2 refer rules: booking blocked until clinician clearance.
    _refer(
        id="R-SEVERE-PAIN",
        title="NPRS 8 to 10",
        condition=lambda a: _at_least(a.pain_score, SEVERE_PAIN_MIN),
        after_clearance=NO_DEEP,
        client_message=(
            "Your pain is severe right now. Please see your doctor or physiotherapist "
            "before booking, so the cause and pain relief can be reviewed."
        ),
        therapist_rationale=(
            "Both seeds say severe pain needs a professional. A score of 8 or more is "
            '"severe" on interference-based cut-offs. A score of 7 is severe on other '
            "schemes, so 7 gives caution, not a block (C-HIGH-PAIN). Firm work is "
            "likely to flare nerve pain."
        ),
        citation="004_acd78c244661ae3e.txt, 001_451ef5fa31b1111c.txt; [BOONSTRA16].",
    ),
    _refer(
        id="R-WORSENING",
        title="Worsening pain, or symptoms spreading further down the leg",
        condition=lambda a: (
            a.pain_trend == "worsening" or a.symptom_extent_trend == "moving_down"
        ),
        after_clearance=NO_DEEP,
        client_message=(
            "Your pain is getting worse, or reaching further down your leg. That's a "
            "sign the nerve is more irritated, and it should be checked by a doctor or "
            "physiotherapist before massage."
        ),
        therapist_rationale=(
            "The physio seed says symptoms moving down toward the calf mean the "
            "condition is worsening. The other seeds say worsening pain needs "
            "professional review. Peripheralisation is an adverse prognostic sign. "
            "Progressive neurology is a red flag."
        ),
        citation=(
            "002_1b3cee4fca61ca78.txt, 000_eabb878a156cbe20.txt, "
            "004_acd78c244661ae3e.txt; [WERNEKE01]; [CKS-SCI]."
        ),
    ),
    _refer(
        id="R-CANCER-HISTORY",
        title="History of cancer",
        condition=lambda a: a.history_of_cancer == "yes",
        after_clearance=NO_DEEP,
        client_message=(
            "Because you've had cancer, we ask that a doctor checks new back or leg "
            "pain before massage. This is a routine precaution, not a sign that "
            "something is wrong."
        ),
        therapist_rationale=(
            "A past history of cancer is the most informative single red flag for "
            "spinal malignancy. Guidance also advises no deep pressure near tumour "
            "sites without medical approval."
        ),
        citation="[NG59] rec 1.1.1; [DOWNIE13]; [NCCIH].",
        after_clearance_note="no pressure over known tumour or treatment sites",
    ),
    _refer(
        id="R-WEIGHT-LOSS",
        title="Unexplained weight loss",
        condition=lambda a: a.unexplained_weight_loss == "yes",
        after_clearance=_NONE,
        client_message=(
            "Losing weight without trying, together with back pain, should be checked "
            "by your doctor before massage."
        ),
        therapist_rationale=(
            "Unintentional weight loss is a guideline red flag for malignancy or "
            "infection. Its diagnostic accuracy on its own is limited."
        ),
        citation="[NG59] rec 1.1.1; [VERHAGEN16]; [DOWNIE13].",
        after_clearance_note="as the note specifies",
    ),
    _refer(
        id="R-NIGHT-PAIN",
        title="Constant, non-mechanical night pain",
        condition=lambda a: a.night_pain == "yes",
        after_clearance=_NONE,
        client_message=(
            "Severe, constant pain at night that doesn't ease with any position should "
            "be checked by your doctor before massage."
        ),
        therapist_rationale=(
            "Pain that does not ease at rest or at night is a common guideline red "
            "flag for tumour or infection. It is non-specific."
        ),
        citation="[VERHAGEN16]; [CKS-SCI].",
        after_clearance_note="as the note specifies",
    ),
    _refer(
        id="R-FEVER",
        title="Fever or acute infection",
        condition=lambda a: a.fever == "yes",
        after_clearance=_NONE,
        client_message=(
            "Massage isn't suitable while you have a fever or feel unwell with an "
            "infection, and back pain with a fever should be checked by a doctor. "
            "Please see your doctor, and re-book once you've been well for a week."
        ),
        therapist_rationale=(
            "Fever or acute systemic infection is a general contraindication to "
            "massage. Back pain with fever needs infection excluded."
        ),
        citation="[NG59] rec 1.1.1; [NHS-FEVER] (38°C); [MAYO]; [BATAVIA04].",
        after_clearance_note=(
            "also cleared by a new intake answering fever = no (no fever in the "
            "last 7 days)"
        ),
    ),
    _refer(
        id="R-FRACTURE-RISK",
        title="Fracture risk",
        condition=lambda a: (
            a.recent_injury == "major"
            or (
                a.bone_fragility and (a.recent_injury == "minor" or a.onset == "sudden")
            )
        ),
        after_clearance=NO_DEEP,
        client_message=(
            "Because your pain started after an injury (or suddenly, and you have thin "
            "bones or take steroid tablets), a doctor should rule out a fracture "
            "before massage."
        ),
        therapist_rationale=(
            "Severe trauma and prolonged corticosteroid use raise the probability of "
            "vertebral fracture. In osteoporosis, minor trauma or spontaneous sudden "
            "pain is enough. Massage over a fracture is contraindicated."
        ),
        citation="[NG59] rec 1.1.1; [DOWNIE13]; [VERHAGEN16]; [MAYO].",
    ),
    _refer(
        id="R-RECENT-SURGERY",
        title="Operation or spinal injection in the last 12 weeks",
        condition=lambda a: a.surgery_last_12_weeks == "yes",
        after_clearance=NO_DEEP,
        client_message=(
            "As you've had an operation or spinal injection in the last 12 weeks, "
            "please get the OK from your surgeon, doctor or physiotherapist first."
        ),
        therapist_rationale=(
            "Recent surgery is a local contraindication and increases clot risk. "
            "Sources advise 6-12 weeks, depending on the procedure; the conservative "
            "end is used."
        ),
        citation="[BATAVIA04]; [MAYO] (healing wounds); [NCCIH].",
        after_clearance_note="avoid the surgical or injection site",
    ),
    _refer(
        id="R-HYPERTENSION",
        title="Uncontrolled or severely raised blood pressure",
        condition=lambda a: (
            a.blood_pressure_status == "high_not_controlled"
            or _at_least(a.bp_systolic_mmhg, BP_SYS_MIN)
            or _at_least(a.bp_diastolic_mmhg, BP_DIA_MIN)
        ),
        after_clearance=_NONE,
        client_message=(
            "Your blood pressure needs checking by your doctor or nurse before "
            "massage. If you have a severe headache, vision changes, chest pain or "
            "confusion, call {emergency_number}."
        ),
        therapist_rationale=(
            "Severe or uncontrolled hypertension is a commonly listed general "
            "contraindication. 180/120 is NICE's severe (stage 3) threshold. "
            "Controlled hypertension fires no rule."
        ),
        citation="[NG136]; [BATAVIA04].",
    ),
    _refer(
        id="R-PREGNANCY-COMPLICATED",
        title="Pregnancy with complications",
        condition=lambda a: a.pregnancy == "yes_with_complications",
        after_clearance=NO_DEEP,
        client_message=(
            "As your pregnancy has complications, please check with your midwife or "
            "doctor that massage is OK, and bring their note."
        ),
        therapist_rationale=(
            "Trials of pregnancy massage excluded complicated pregnancies, so there is "
            "no safety evidence for them. Mayo lists high-risk pregnancy. "
            "Pre-eclampsia: see also R-HYPERTENSION."
        ),
        citation="[MUELLER21]; [MAYO]; [NCCIH].",
        after_clearance_note="prenatal positioning",
    ),
    _refer(
        id="R-UNDER-18",
        title="Under 18",
        condition=lambda a: a.age_years is not None and a.age_years < MIN_AGE,
        after_clearance=_NONE,
        client_message=(
            "For anyone under 18 we need a parent or guardian's consent and a note "
            "from a doctor or physiotherapist before booking massage for back or leg "
            "pain."
        ),
        therapist_rationale=(
            "This is a product policy, not a guideline threshold (NG59 covers people "
            "aged 16 and over). Consent requirements apply, and back pain in young "
            "people warrants assessment."
        ),
        citation="Product policy; [NG59] scope (≥16).",
        after_clearance_note="as the note specifies, plus documented guardian consent",
    ),
    _refer(
        id="R-AGE-50-UNASSESSED",
        title="Aged 50 or over and not assessed",
        condition=lambda a: (
            _at_least(a.age_years, REVIEW_AGE) and a.has_pain and not a.assessed
        ),
        after_clearance=_NONE,
        client_message=(
            "For people aged 50 and over, we ask that a doctor or physiotherapist "
            "checks new back or leg pain before massage. This is a standard "
            "precaution."
        ),
        therapist_rationale=(
            "Older age increases the probability of fracture and, less clearly, of "
            "malignancy. Many guidelines list age over 50 with a new episode as a red "
            "flag. Low specificity: this rule will mostly block people with benign "
            "pain (§9)."
        ),
        citation="[DOWNIE13]; [VERHAGEN16].",
    ),
    _refer(
        id="R-PERSISTENT-UNASSESSED",
        title="Pain for 6 weeks or more, never examined",
        condition=lambda a: a.has_pain and a.chronic and not a.assessed,
        after_clearance=_NONE,
        client_message=(
            "Your pain has lasted six weeks or more and hasn't been checked yet. A "
            "doctor or physiotherapist can find the cause and make sure massage is the "
            "right choice."
        ),
        therapist_rationale=(
            'Seed: "For persistent or worsening pain, consulting a healthcare '
            'professional is necessary to identify the specific cause." Most sciatica '
            "settles within about 4-6 weeks. NG59 recommends massage only as part of a "
            "package with exercise, which needs a clinician."
        ),
        citation=(
            "000_eabb878a156cbe20.txt, 001_451ef5fa31b1111c.txt; [NG59] rec 1.2.7."
        ),
    ),
    _refer(
        id="R-UNCONFIRMED",
        title="Required safety answers missing or unsure",
        condition=lambda a: bool(a.unconfirmed_fields),
        after_clearance=None,  # §3.2: needs no note; cleared by completing the intake.
        client_message=(
            "We couldn't confirm some of the safety questions, so we can't book yet. "
            "Please complete them (or call us and we'll go through them with you). If "
            "you're unsure about bladder, bowel or saddle-area changes, please speak "
            "to a doctor today."
        ),
        therapist_rationale=(
            "This is the fail-safe default. A red flag cannot be excluded by an "
            "unanswered or 'unsure' item. Other rules still fire, so an urgent answer "
            "elsewhere still produces urgent."
        ),
        citation=(
            "Product safety policy; [CKS-SCI] (red flags must be explicitly asked)."
        ),
        after_clearance_note=(
            "cleared by completing the intake (re-screened), never by a note"
        ),
    ),
    # §4.3 caution rules: booking allowed, exclusions, therapist must review.
    _caution(
        id="C-BLEEDING-RISK",
        title="Bleeding risk",
        condition=lambda a: a.bleeding_risk,
        excluded=NO_DEEP,
        client_message=(
            "Because of your medicine or condition, you bruise more easily, so your "
            "therapist will use gentle techniques only."
        ),
        therapist_rationale=(
            "Avoid forceful or deep tissue work and sustained focal pressure. Use "
            "light to moderate Swedish only. Check for bruising."
        ),
        citation="[NCCIH]; [MAYO].",
    ),
    _caution(
        id="C-PREGNANCY",
        title="Pregnancy",
        # §1.4.5: yes_with_complications is R-PREGNANCY-COMPLICATED instead.
        condition=lambda a: a.pregnancy in ("yes", "not_sure"),
        excluded=NO_DEEP,
        client_message=(
            "Your therapist will use gentle pregnancy-safe techniques and positions."
        ),
        therapist_rationale=(
            "Side-lying or supported positioning; no deep or sustained pressure on the "
            "legs (VTE risk is raised in pregnancy). Trial evidence covers only ≥12 "
            "weeks' gestation and uncomplicated pregnancies, so extra care is needed "
            "in the first trimester (§9). Low back or buttock pain in pregnancy may be "
            "pelvic girdle pain rather than sciatica."
        ),
        citation="[MUELLER21]; [NCCIH].",
    ),
    _caution(
        id="C-BONE-FRAGILITY",
        title="Bone fragility",
        condition=lambda a: a.bone_fragility,
        excluded=NO_DEEP,
        client_message=(
            "To protect your bones, your therapist will use gentle pressure."
        ),
        therapist_rationale=(
            "Osteoporosis or long-term oral steroids: no firm or focal pressure over "
            "the spine, ribs or pelvis. Steroids also thin the skin."
        ),
        citation="[MAYO] (severe osteoporosis); [DOWNIE13].",
    ),
    _caution(
        id="C-CLOT-HISTORY",
        title="Previous blood clot",
        condition=lambda a: "previous_dvt_or_pe" in a.conditions,
        excluded=NO_DEEP,
        client_message=(
            "Because you've had a blood clot before, your therapist will use gentle "
            "techniques on your legs."
        ),
        therapist_rationale=(
            "No deep or sustained pressure on the lower limbs. Re-check the U-DVT "
            "question verbally at every visit."
        ),
        citation="000_eabb878a156cbe20.txt; [NHS-DVT]; [MAYO].",
    ),
    _caution(
        id="C-LOCAL-AVOID",
        title="Skin problem or varicose veins in the treatment area",
        condition=lambda a: (
            "skin_problem_in_treatment_area" in a.conditions
            or "varicose_veins" in a.conditions
        ),
        excluded=_NONE,
        client_message="Your therapist will avoid the affected area of skin or veins.",
        therapist_rationale=(
            "This is a local contraindication: do not massage over broken, infected or "
            "inflamed skin or over varicosities. The rest of the treatment can "
            "proceed. If the skin is hot, red, spreading and one-sided on the leg, ask "
            "the U-DVT question again."
        ),
        citation="[NCCIH] (weak skin/wounds); [MAYO]; [BATAVIA04].",
    ),
    _caution(
        id="C-HIGH-PAIN",
        title="NPRS exactly 7",
        condition=lambda a: a.pain_score == HIGH_PAIN_VALUE,
        excluded=NO_DEEP,
        client_message=(
            "As your pain is quite high today, your therapist will keep the pressure "
            "gentle."
        ),
        therapist_rationale=(
            "The seed says firm pressure flares nerve pain, and a score of 7 is "
            '"severe" in some schemes. Start gently and stop if symptoms spread down '
            "the leg."
        ),
        citation="002_1b3cee4fca61ca78.txt; [BOONSTRA16].",
    ),
    _caution(
        id="C-SPONDYLOLISTHESIS",
        title="Spondylolisthesis",
        condition=lambda a: a.suspected_cause == "spondylolisthesis",
        excluded=frozenset({"deep_tissue"}),
        client_message="Your therapist will avoid deep pressure on your lower back.",
        therapist_rationale=(
            "The slipped segment narrows the nerve exit. Avoid deep sustained pressure "
            "over the lumbar spine and prolonged prone extension positions. This is "
            "expert-opinion caution (§9)."
        ),
        citation="000_eabb878a156cbe20.txt, 003_eec2c57c668b132c.txt; [BATAVIA04].",
    ),
    _caution(
        id="C-MILD-NEURO",
        title="Mild, stable weakness or tingling",
        condition=lambda a: (
            a.leg_weakness == "mild" or a.leg_numbness == "tingling_or_patchy"
        ),
        excluded=frozenset({"deep_tissue"}),
        client_message=(
            "Your therapist will adjust pressure around the areas where you have "
            "tingling or weakness."
        ),
        therapist_rationale=(
            "The nerve is irritated, and altered sensation makes the client's feedback "
            "on pressure unreliable. Avoid deep pressure along the nerve path. "
            "Re-check for progression at each visit: if it has become significant or "
            "is getting worse, that is U-NEURO-DEFICIT."
        ),
        citation="003_eec2c57c668b132c.txt, 002_1b3cee4fca61ca78.txt.",
    ),
    _caution(
        id="C-BILATERAL-KNOWN",
        title="Two-leg symptoms already assessed, chronic and not worsening",
        condition=lambda a: (
            a.legs_affected == "both" and not _bilateral_needs_urgent(a)
        ),
        excluded=_NONE,
        client_message=(
            "Your therapist will check a few safety questions with you at each visit."
        ),
        therapist_rationale=(
            "Bilateral symptoms have been assessed (e.g. known stenosis). Re-ask the "
            "CES questions (bladder, bowel, saddle) verbally before every session."
        ),
        citation="[GIRFT-CES]; [CKS-SCI].",
    ),
)
RULES_BY_ID: MappingProxyType[str, Rule] = MappingProxyType({r.id: r for r in RULES})
RULE_IDS: tuple[str, ...] = tuple(r.id for r in RULES)
CLEARABLE_RULE_IDS: frozenset[str] = frozenset(r.id for r in RULES if r.clearable)


def rule(rule_id: str) -> Rule:
    """The rule with this id; raises KeyError for an unknown id."""
    return RULES_BY_ID[rule_id]


# --- §6 advisories ---


@dataclass(frozen=True)
class Advisory:
    """A therapist advisory (§6). It never changes the outcome.

    `condition` is None for reference text that is never emitted (§1.4.8).
    """

    id: str
    when: str
    text: str
    citation: str
    condition: Callable[[NormalisedAnswers], bool] | None


_LEG_LOCATIONS = frozenset({"thigh", "knee", "calf", "foot"})

ADVISORIES: tuple[Advisory, ...] = (
    Advisory(
        id="A-NO-HAMSTRING-STRETCH",
        when="legs_affected != none, or any of thigh/knee/calf/foot in pain_locations",
        text=(
            "No passive hamstring stretching or straight-leg stretch positions. Treat "
            "hamstrings in a shortened (not stretched) position. Don't give \"stretch "
            'your hamstrings" homework.'
        ),
        citation="002_1b3cee4fca61ca78.txt",
        condition=lambda a: (
            a.legs_affected != "none" or bool(_LEG_LOCATIONS & set(a.pain_locations))
        ),
    ),
    Advisory(
        id="A-GENTLE-FIRST",
        when="has_pain",
        text=(
            "Start gentle and titrate to feedback: \"Too gentle and it's ineffective, "
            "but too firm and it'll flare it up\". Serious massage harms mostly come "
            "from excessive pressure."
        ),
        citation="002_1b3cee4fca61ca78.txt; [MAYO]; [ERNST03]",
        condition=lambda a: a.has_pain,
    ),
    Advisory(
        id="A-NERVE-DOMINANT",
        when="calf or foot in pain_locations",
        text=(
            "The pattern extends below the knee and is nerve-dominant. Avoid sustained "
            "pressure along the sciatic nerve path (deep buttock, mid-posterior "
            "thigh)."
        ),
        citation="002_1b3cee4fca61ca78.txt",
        condition=lambda a: "calf" in a.pain_locations or "foot" in a.pain_locations,
    ),
    Advisory(
        id="A-SEDATING-MEDS",
        when="nerve_pain_medicine or opioid_painkiller in medications",
        text=(
            "These can cause drowsiness or dizziness and blunt pain feedback. Use "
            "moderate pressure and take care on getting up."
        ),
        citation="clinical judgement (§9)",
        condition=lambda a: (
            "nerve_pain_medicine" in a.medications
            or "opioid_painkiller" in a.medications
        ),
    ),
    Advisory(
        id="A-COMPRESSION-SOCKS",
        when="always available as a talking point",
        text=(
            "Compression socks don't treat the cause of sciatica; at most they give "
            "indirect comfort. New one-sided swelling → ask the U-DVT question again."
        ),
        citation="000_eabb878a156cbe20.txt, 001_451ef5fa31b1111c.txt",
        condition=None,
    ),
    Advisory(
        id="A-BP-UNKNOWN",
        when="blood_pressure_status == not_sure",
        text=(
            "Offer a BP reading with a validated device if the clinic has one. Enter "
            "it into bp_* and re-screen."
        ),
        citation="[NG136]",
        condition=lambda a: a.blood_pressure_status == "not_sure",
    ),
    Advisory(
        id="A-CENTRALISING",
        when="symptom_extent_trend == moving_up",
        text="Log as improving (centralisation) and keep the current approach.",
        citation="002_1b3cee4fca61ca78.txt; [WERNEKE01]",
        condition=lambda a: a.symptom_extent_trend == "moving_up",
    ),
)
ADVISORIES_BY_ID: MappingProxyType[str, Advisory] = MappingProxyType(
    {adv.id: adv for adv in ADVISORIES}
)


def advisory(advisory_id: str) -> Advisory:
    """The advisory with this id; raises KeyError for an unknown id."""
    return ADVISORIES_BY_ID[advisory_id]


# --- review helpers (flask clinic rules) ---


class RuleRow(NamedTuple):
    id: str
    outcome: str
    excluded: str
    after_clearance: str
    citation: str


def format_exclusions(excluded: frozenset[str] | None) -> str:
    """Name the §1.1 sets (ALL, NO_DEEP) and spell out anything else."""
    if excluded is None:
        return "-"
    if excluded == ALL:
        return "ALL"
    if excluded == NO_DEEP:
        return "NO_DEEP"
    return ", ".join(sorted(excluded)) or "none"


def rules_table() -> tuple[RuleRow, ...]:
    """One row per screening rule in §4.4 order, for clinical review."""
    return tuple(
        RuleRow(
            r.id,
            r.outcome.value,
            format_exclusions(r.excluded),
            _after_clearance_text(r),
            r.citation,
        )
        for r in RULES
    )


def _after_clearance_text(r: Rule) -> str:
    if r.outcome is Outcome.CAUTION:
        return "-"
    if r.after_clearance is None:
        return r.after_clearance_note
    return with_note(r.after_clearance, r.after_clearance_note)


def with_note(excluded: frozenset[str], note: str) -> str:
    text = format_exclusions(excluded)
    return f"{text}; {note}" if note else text
