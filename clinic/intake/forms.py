"""Intake forms: the questionnaire and re-screen built from the vocabulary,
and the staff forms for clearance notes and the client search.

The answer forms are made by a factory from ``vocabulary.FIELDS``, so the
wording, choices, ranges and required flags are the spec's in one place, and
``answers()`` gives exactly the JSON vocabulary the screening reads (§2):
integers as ints, multi-selects as lists, unanswered optional fields left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from wtforms import (
    BooleanField,
    DateField,
    Field,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.accounts.models import NAME_MAX
from clinic.forms import ClinicForm, max_length, strip_filter
from clinic.intake import vocabulary
from clinic.intake.models import ReceivedVia
from clinic.intake.vocabulary import Kind, Section

CHOOSE_SHOWN = "Please choose one of the answers shown."
TICK_SHOWN = "Please tick only the answers shown."


class WholeNumberField(IntegerField):
    """An integer answer whose every error says what a valid answer is."""

    def __init__(self, *args: Any, message: str, **kwargs: Any) -> None:
        super().__init__(*args, invalid_value_message=message, **kwargs)


class AnswerField(RadioField):
    """Radio buttons; no answer is left to the required check (or is fine for an
    optional question) instead of WTForms' "Not a valid choice"."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_choice_message", CHOOSE_SHOWN)
        super().__init__(*args, **kwargs)

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            return
        super().pre_validate(form)


class TickBoxesField(SelectMultipleField):
    """A group of checkboxes (rendered in a fieldset by the template)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("invalid_choice_message", TICK_SHOWN)
        super().__init__(*args, **kwargs)


class TickedAtLeastOne:
    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        if not field.data:
            raise ValidationError(self.message)


def _label(spec: vocabulary.Field) -> str:
    return spec.question if spec.required else f"{spec.question} (optional)"


def _range_message(spec: vocabulary.Field) -> str:
    return f"Please enter a whole number from {spec.minimum} to {spec.maximum}."


def _integer_field(spec: vocabulary.Field) -> Field:
    assert spec.minimum is not None and spec.maximum is not None
    message = _range_message(spec)
    presence = InputRequired(message) if spec.required else Optional()
    return WholeNumberField(
        _label(spec),
        validators=[presence, NumberRange(spec.minimum, spec.maximum, message)],
        message=message,
        render_kw={"min": spec.minimum, "max": spec.maximum, "inputmode": "numeric"},
    )


def _choice_field(spec: vocabulary.Field) -> Field:
    presence = (
        InputRequired("Please choose an answer.") if spec.required else Optional()
    )
    return AnswerField(
        _label(spec), validators=[presence], choices=_choices(spec.choices)
    )


def _multi_field(spec: vocabulary.Field) -> Field:
    validators: list[Any] = [
        TickedAtLeastOne("Please tick at least one answer, or “None of these”.")
    ] if spec.required else []
    return TickBoxesField(
        _label(spec), validators=validators, choices=_choices(spec.choices)
    )


def _choices(choices: Iterable[vocabulary.Choice]) -> list[SelectChoice]:
    return options((choice.value, choice.label) for choice in choices)


def options(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs (tuples are deprecated)."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


_FIELD_MAKERS = {
    Kind.INTEGER: _integer_field,
    Kind.ENUM: _choice_field,
    Kind.MULTI: _multi_field,
}


@dataclass(frozen=True)
class Question:
    """One form field with the vocabulary entry it asks (for the template)."""

    field: Field
    spec: vocabulary.Field

    @property
    def hint(self) -> str:
        """Help shown under the question; the section shows the confidentiality
        notice and each option its own description, so neither is repeated."""
        if self.spec.kind is Kind.MULTI and self.spec.key in _NONE_EXPLAINED:
            return "If none of them apply, tick “None of these”."
        if any(choice.description for choice in self.spec.choices):
            return ""  # the options explain themselves (pregnancy's help is one)
        text = self.spec.help_text
        return "" if text == vocabulary.CONFIDENTIALITY_NOTICE else text

    def description(self, value: str) -> str:
        return self.spec.choice(value).description


_NONE_EXPLAINED = frozenset({"medications", "conditions"})
# Read together: the two numbers of one blood pressure reading.
BP_GROUP = ("bp_systolic_mmhg", "bp_diastolic_mmhg")
BP_LEGEND = "Your most recent blood pressure reading, if you know it (optional)"


class AnswersForm(ClinicForm):
    """Base of the generated answer forms."""

    specs: ClassVar[tuple[vocabulary.Field, ...]] = ()

    def answers(self) -> dict[str, Any]:
        """The answers in the spec's JSON vocabulary; unanswered ones left out."""
        answers: dict[str, Any] = {}
        for spec in self.specs:
            value = self[spec.key].data
            if value is None or value in ("", []):
                continue
            # A box sent twice (a tampered form) counts once, as in §1.4.1.
            answers[spec.key] = (
                list(dict.fromkeys(value)) if spec.kind is Kind.MULTI else value
            )
        return answers

    def sections(self) -> list[tuple[Section, list[Question]]]:
        """The questions grouped by section, in the spec's order."""
        grouped: dict[str, list[Question]] = {}
        for spec in self.specs:
            grouped.setdefault(spec.section, []).append(Question(self[spec.key], spec))
        return [
            (section, grouped[section.key])
            for section in vocabulary.SECTIONS
            if section.key in grouped
        ]


def answers_form_class(
    specs: Sequence[vocabulary.Field], name: str
) -> type[AnswersForm]:
    """A form class asking `specs` in order (the form factory)."""
    attrs: dict[str, Any] = {spec.key: _FIELD_MAKERS[spec.kind](spec) for spec in specs}
    attrs["specs"] = tuple(specs)
    return type(name, (AnswersForm,), attrs)


QuestionnaireForm = answers_form_class(vocabulary.FIELDS, "QuestionnaireForm")
RescreenForm = answers_form_class(
    [vocabulary.field(key) for key in vocabulary.RESCREEN_FIELDS], "RescreenForm"
)


def age_on(born: date, today: date) -> int:
    birthday_passed = (today.month, today.day) >= (born.month, born.day)
    return today.year - born.year - (0 if birthday_passed else 1)


# ---------------------------------------------------------------- staff forms

PROFESSIONS: tuple[tuple[str, str], ...] = (
    ("doctor", "Doctor or GP"),
    ("physiotherapist", "Registered physiotherapist"),
    ("midwife", "Midwife"),
    ("nurse", "Nurse"),
    ("other", "Other registered clinician"),
)
PROFESSION_MAX = 60  # Clearance.profession
RESTRICTIONS_MAX = 500  # Clearance.restrictions
OLDEST_NOTE = timedelta(days=365)
EXCLUDABLE = tuple(key for key in vocabulary.TECHNIQUE_KEYS if key != "swedish")


class FriendlyDateField(DateField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "invalid_value_message",
            "Please enter a date as year-month-day, for example 2026-03-14.",
        )
        super().__init__(*args, **kwargs)


class ClearanceForm(ClinicForm):
    """A clinician's clearance note (§3.2). `rule_ids` choices are set by the
    view to the clearable rules the latest screening fired."""

    clinician_name = StringField(
        "Clinician's name",
        filters=[strip_filter],
        validators=[DataRequired("Please enter the clinician's name."),
                    max_length(NAME_MAX)],
    )
    profession = AnswerField(
        "Profession",
        choices=options(PROFESSIONS),
        validators=[InputRequired("Please choose the clinician's profession.")],
    )
    profession_other = StringField(
        "If other: their profession",
        filters=[strip_filter],
        validators=[max_length(PROFESSION_MAX)],
    )
    note_date = FriendlyDateField(
        "Date of the note",
        validators=[InputRequired("Please enter the date of the note.")],
    )
    rule_ids = TickBoxesField("Rules this note covers")
    restrictions = TextAreaField(
        "Restrictions the note gives (optional)",
        filters=[strip_filter],
        validators=[max_length(RESTRICTIONS_MAX)],
    )
    exclusions = AnswerField(
        "Techniques to exclude after clearance",
        choices=options([
            ("standard", "Each rule's standard after-clearance exclusions"),
            ("note", "The techniques ticked below instead, as the note says"),
        ]),
        default="standard",
        validators=[InputRequired("Please choose which exclusions apply.")],
    )
    excluded = TickBoxesField(
        "Techniques the note excludes",
        choices=options((key, vocabulary.technique_name(key)) for key in EXCLUDABLE),
        description="Swedish massage always stays available.",
    )
    urgent_assessed = BooleanField(
        "The note states that urgent or emergency assessment has taken place and "
        "massage is acceptable"
    )
    received_via = AnswerField(
        "How the note was received",
        choices=options((via.value, via.label) for via in ReceivedVia),
        validators=[InputRequired("Please choose how the note was received.")],
    )

    def __init__(self, *args: Any, today: date, urgent_rules: Iterable[str] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.urgent_rules = frozenset(urgent_rules)

    def validate_profession_other(self, field: StringField) -> None:
        if self.profession.data == "other" and not field.data:
            raise ValidationError("Please say which profession the clinician has.")

    def validate_note_date(self, field: DateField) -> None:
        if field.data is None:
            return
        if field.data > self.today:
            raise ValidationError("The date of the note cannot be in the future.")
        if field.data < self.today - OLDEST_NOTE:
            raise ValidationError(
                "This note is more than a year old. Please ask for a recent one."
            )

    def validate_rule_ids(self, field: TickBoxesField) -> None:
        if not field.data:
            raise ValidationError("Please tick the rules this note covers.")

    def validate_urgent_assessed(self, field: BooleanField) -> None:
        if set(self.rule_ids.data or ()) & self.urgent_rules and not field.data:
            raise ValidationError(
                "An urgent rule can only be cleared by a note stating that urgent "
                "or emergency assessment has taken place."
            )

    @property
    def profession_text(self) -> str:
        if self.profession.data == "other":
            return self.profession_other.data or ""
        return dict(PROFESSIONS)[self.profession.data]

    @property
    def excluded_override(self) -> frozenset[str] | None:
        if self.exclusions.data != "note":
            return None
        return frozenset(self.excluded.data or ())


SEARCH_MAX = 100


class ClientSearchForm(ClinicForm):
    """The staff client search (a GET form, so no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(
        "Name or email",
        filters=[strip_filter],
        validators=[max_length(SEARCH_MAX)],
        render_kw={"type": "search", "autocomplete": "off"},
    )
