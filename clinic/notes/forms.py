"""Forms for session notes, addenda and the client's record.

The forms check shape only (lengths, ranges, known choices); the note rules
(excluded techniques, firm pressure, what a signed note needs) are the
service's, so they hold for every caller.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wtforms import IntegerField, RadioField, SelectMultipleField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.forms import ClinicForm, max_length, strip_filter
from clinic.intake.vocabulary import TECHNIQUES
from clinic.notes.advice import HOME_CARE
from clinic.notes.models import AREA_MAX, SECTION_MAX
from clinic.notes.progress import EXTENT_LABELS
from clinic.notes.services import NoteInput

CHOOSE_SHOWN = "Please choose one of the answers shown."
TICK_SHOWN = "Please tick only the answers shown."
SCORE_MESSAGE = "Please enter a whole number from 0 (no pain) to 10."

PRESSURE_CHOICES = [("light", "Light"), ("moderate", "Moderate"), ("firm", "Firm")]
EXTENT_CHOICES = [
    (str(level), f"{level}: {label[0].upper()}{label[1:]}")
    for level, label in enumerate(EXTENT_LABELS)
]
EXTENT_TREND_CHOICES = [
    ("moving_up", "Moving up towards the buttock (improving)"),
    ("moving_down", "Moving down towards the calf or foot (spreading)"),
    ("no_change", "No change"),
    ("not_sure", "Not sure"),
    ("not_applicable", "Not applicable (no leg symptoms)"),
]
RESPONSE_CHOICES = [("better", "Better"), ("same", "The same"), ("worse", "Worse")]


def options(pairs: Sequence[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs (tuples are deprecated)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def _values(field: SelectMultipleField | RadioField) -> set[str]:
    return {choice.value for choice in field.choices}  # type: ignore[union-attr]


class OptionalRadioField(RadioField):
    """Radio buttons that may be left unanswered (drafts)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            return
        if self.data not in _values(self):
            raise ValidationError(CHOOSE_SHOWN)

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.data = valuelist[0] if valuelist and valuelist[0] else None


class TickBoxesField(SelectMultipleField):
    """A group of checkboxes, rendered in a fieldset by the template."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:
        known = _values(self)
        if any(value not in known for value in self.data or ()):
            raise ValidationError(TICK_SHOWN)


def _text(label: str, size: int = SECTION_MAX, **kwargs: Any) -> TextAreaField:
    return TextAreaField(label, filters=[strip_filter],
                         validators=[Optional(), max_length(size)], **kwargs)


def _score(label: str) -> IntegerField:
    return IntegerField(
        label,
        validators=[Optional(), NumberRange(0, 10, message=SCORE_MESSAGE)],
        invalid_value_message=SCORE_MESSAGE,
        render_kw={"min": 0, "max": 10, "inputmode": "numeric"},
    )


class NoteForm(ClinicForm):
    subjective = _text("Subjective: what the client tells you",
                       description="Started from the client's answers before "
                       "this booking; change it to what they tell you today.")
    objective = _text("Objective: what you found")
    assessment = _text("Assessment")
    plan = _text("Plan", description="The client sees the plan in their record "
                 "once the note is signed.")
    techniques_used = TickBoxesField(
        "Techniques used", choices=options([(t.key, t.name) for t in TECHNIQUES]))
    pressure = OptionalRadioField("Pressure", choices=options(PRESSURE_CHOICES))
    areas_treated = _text("Areas treated", AREA_MAX)
    areas_avoided = _text("Areas avoided", AREA_MAX,
                          description="For example a skin problem, varicose veins "
                          "or a recent operation site.")
    nprs_before = _score("Pain score before the session (0 to 10)")
    nprs_after = _score("Pain score after the session (0 to 10)")
    extent_level = OptionalRadioField(
        "How far down the leg symptoms reach today", choices=options(EXTENT_CHOICES))
    extent_trend = OptionalRadioField(
        "Since the last visit, the lowest point of the symptoms is",
        choices=options(EXTENT_TREND_CHOICES))
    home_care = _text("Home-care advice", description="The client sees this advice "
                      "in their record once the note is signed.")
    advisories = TickBoxesField("Add advice from the screening", choices=[])
    previous_response = OptionalRadioField(
        "How did the client feel in the day or two after the previous session?",
        choices=options(RESPONSE_CHOICES))

    def offer_advisories(self, advisory_ids: Sequence[str]) -> None:
        self.advisories.choices = options([(a, HOME_CARE[a]) for a in advisory_ids])

    def to_input(self) -> NoteInput:
        level = self.extent_level.data
        return NoteInput(
            subjective=self.subjective.data or "",
            objective=self.objective.data or "",
            assessment=self.assessment.data or "",
            plan=self.plan.data or "",
            techniques_used=tuple(self.techniques_used.data or ()),
            pressure=self.pressure.data,
            areas_treated=self.areas_treated.data or "",
            areas_avoided=self.areas_avoided.data or "",
            nprs_before=self.nprs_before.data,
            nprs_after=self.nprs_after.data,
            extent_level=int(level) if level is not None else None,
            extent_trend=self.extent_trend.data,
            home_care=self.home_care.data or "",
            advisories=tuple(self.advisories.data or ()),
            previous_response=self.previous_response.data,
        )


class AddendumForm(ClinicForm):
    text = TextAreaField(
        "Addendum",
        filters=[strip_filter],
        validators=[DataRequired("Please write the addendum."),
                    max_length(SECTION_MAX)],
        description="Dated and signed with your name. The original note stays "
        "as it was.",
    )
