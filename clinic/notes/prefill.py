"""What a new note starts with: the client's answers before this booking.

The subjective section, the pain score before the session and the extent of
symptoms come from the booking's screening (its intake answers); the pressure
starts where the previous session left it, one class lighter after a flare
(§7.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from sqlalchemy.orm import Session

from clinic.booking.models import Booking
from clinic.intake.vocabulary import field as intake_field
from clinic.notes import progress
from clinic.notes.history import point
from clinic.notes.models import SessionNote
from clinic.notes.queries import NoteContext, previous_signed_note
from clinic.notes.services import EXTENT_TRENDS

_PAIN_TREND = {
    "improving": "getting better",
    "stable": "staying about the same",
    "worsening": "getting worse",
    "comes_and_goes": "coming and going",
}
_EXTENT_TREND = {
    "moving_up": "symptoms moving up towards the buttock",
    "moving_down": "symptoms moving down towards the calf or foot",
    "no_change": "no change in how far down the leg symptoms reach",
    "not_sure": "not sure whether symptoms reach further down the leg",
}
_LEGS = {
    "none": "neither leg affected",
    "left": "left leg affected",
    "right": "right leg affected",
    "both": "both legs affected",
}


@dataclass(frozen=True)
class Prefill:
    values: dict[str, Any] = field(default_factory=dict)
    previous: SessionNote | None = None
    flare: progress.Flare | None = None  # after the previous session, as far
    # as the client's answers before this booking show


def subjective_summary(answers: Mapping[str, Any]) -> str:
    """The client's pain answers as one short sentence (never raw keys)."""
    parts = []
    score = answers.get("pain_score")
    trend = _PAIN_TREND.get(str(answers.get("pain_trend")))
    if isinstance(score, int) and not isinstance(score, bool):
        parts.append(f"pain {score}/10 on average over the last 24 hours"
                     + (f", {trend} over the last week" if trend else ""))
    elif trend:
        parts.append(f"pain {trend} over the last week")
    for value, phrases in ((answers.get("symptom_extent_trend"), _EXTENT_TREND),
                           (answers.get("legs_affected"), _LEGS)):
        if isinstance(value, str) and value in phrases:
            parts.append(phrases[value])
    places = _locations(answers.get("pain_locations"))
    if places:
        parts.append(f"felt in the {places}")
    if not parts:
        return ""
    return "Before this visit the client reported " + "; ".join(parts) + "."


def _locations(value: Any) -> str:
    spec = intake_field("pain_locations")
    if not isinstance(value, list):
        return ""
    names = [spec.label(v).lower() for v in value if v in spec.values]
    if len(names) < 2:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def prefill(db: Session, context: NoteContext, zone: tzinfo) -> Prefill:
    """Form defaults for a new note of ``context.booking``."""
    answers: Mapping[str, Any] = (
        context.screening.intake.answers if context.screening is not None else {}
    )
    score = answers.get("pain_score")
    score = score if isinstance(score, int) and 0 <= score <= 10 else None
    level = context.screening.extent_level if context.screening is not None else None
    trend = answers.get("symptom_extent_trend")
    values: dict[str, Any] = {
        "subjective": subjective_summary(answers),
        "nprs_before": score,
        "extent_level": level,
        "extent_trend": trend if trend in EXTENT_TRENDS else None,
    }
    previous = previous_signed_note(db, context.booking)
    flare = None
    if previous is not None:
        earlier = db.get(Booking, previous.booking_id)
        assert earlier is not None  # a foreign key
        flare = progress.flare_after(
            point(previous, earlier, zone),
            progress.SessionPoint(
                on=context.booking.starts_at.astimezone(zone).date(),
                nprs_before=score, nprs_after=None, extent_level=level),
        )
        pressure = previous.pressure.value if previous.pressure else None
        values["pressure"] = progress.lighter(pressure) if flare else pressure
    if values.get("pressure") == "firm" and context.no_deep:
        values["pressure"] = "moderate"
    return Prefill(values, previous, flare)
