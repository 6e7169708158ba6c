"""Home-care advice from the screening's advisories (§6), in words for the
client. The therapist ticks the ones that apply; their text is appended to
the note's advice, which the client sees once the note is signed.

Pure standard library.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

HOME_CARE: Mapping[str, str] = {
    "A-NO-HAMSTRING-STRETCH": (
        "No hamstring stretching: don't stretch the backs of your thighs, even if "
        "they feel tight, because stretching pulls on the nerve. A foam roller or "
        "smooth massage ball, used gently, is fine."
    ),
    "A-GENTLE-FIRST": (
        "Keep it gentle: stay active, but stop before your muscles get tired, and "
        "use only gentle pressure on any sore spots."
    ),
    "A-NERVE-DOMINANT": (
        "Don't press hard into your buttock or the back of your thigh with a ball "
        "or roller: keep any self-massage there light."
    ),
    "A-SEDATING-MEDS": (
        "Your medicines can make you drowsy or dizzy: take your time getting up "
        "after lying down."
    ),
    "A-BP-UNKNOWN": (
        "Please have your blood pressure checked (for example at a pharmacy) and "
        "bring the reading to your next visit."
    ),
    "A-CENTRALISING": (
        "Your symptoms are moving up towards your buttock, which is a good sign: "
        "keep doing what you are doing."
    ),
}


def with_advice(home_care: str, advisories: Sequence[str]) -> str:
    """The advice with each ticked advisory's text appended once."""
    text = home_care.strip()
    for advisory_id in advisories:
        advice = HOME_CARE[advisory_id]
        if advice not in text:
            text = f"{text}\n{advice}" if text else advice
    return text
