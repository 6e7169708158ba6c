"""Booking forms. They check shape only (ids are ids, times are instants);
whether a choice can be booked is the service's job, inside its transaction.

Query-string forms (choosing, browsing times) have no CSRF token: they
change nothing. Hidden values are parsed leniently, so tampered input gives
a friendly sentence and never a coercion error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from wtforms import Field, HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, StopValidation

from clinic.booking.models import REASON_MAX, TECHNIQUE_MAX
from clinic.db import MAX_ID
from clinic.forms import ClinicForm, max_length, strip_filter

MAX_INSTANT_LENGTH = 40
CHOOSE_TIME = "That time could not be read. Please choose one of the times shown."


def parse_id(raw: object) -> int | None:
    """A positive database id from text, else None (never raises)."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None


def parse_instant(raw: object) -> datetime | None:
    """An aware ISO 8601 instant in UTC, else None (naive, garbage, overflow)."""
    if not isinstance(raw, str) or len(raw) > MAX_INSTANT_LENGTH:
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
        if value.tzinfo is None or value.utcoffset() is None:
            return None
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _first(valuelist: list[Any]) -> str:
    value = valuelist[0] if valuelist else ""
    return value.strip() if isinstance(value, str) else ""


class Required:
    """The field parsed to a value; else one friendly sentence."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        if field.data is None or field.data == "":
            if field.process_errors:
                raise StopValidation()  # the field already said what is wrong
            raise StopValidation(self.message)


class IdField(HiddenField):
    """A record id; None when empty. Bad text is an error, not a 500."""

    def __init__(self, *args: Any, invalid: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.invalid = invalid

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = _first(valuelist)
        self.data = parse_id(raw) if raw else None
        if raw and self.data is None:
            raise ValueError(self.invalid)

    def _value(self) -> str:
        return "" if self.data is None else str(self.data)


class InstantField(HiddenField):
    """A slot's start as a UTC ISO instant (``Slot.start.isoformat()``)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = _first(valuelist)
        self.data = parse_instant(raw) if raw else None
        if raw and self.data is None:
            raise ValueError(CHOOSE_TIME)

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, datetime) else ""


class WeekField(HiddenField):
    """Which week of free times to show: 0 is this week; bad input is 0."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = _first(valuelist)
        self.data = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 4 else 0

    def _value(self) -> str:
        return str(self.data or 0)


def _optional_int(value: Any) -> int | None:
    return value if isinstance(value, int) else parse_id(value)


def choices(pairs: Sequence[tuple[object, str]]) -> list[SelectChoice]:
    return [SelectChoice(value=str(value), label=label) for value, label in pairs]


class StartForm(ClinicForm):
    """Service, technique and (optionally) therapist, sent by GET."""

    class Meta:
        csrf = False

    service = RadioField(
        "Service", coerce=_optional_int,
        invalid_choice_message="Please choose a service.",
    )
    technique = RadioField(
        "Technique", invalid_choice_message="Please choose a technique from the list."
    )
    therapist = SelectField(
        "Therapist", coerce=_optional_int,
        invalid_choice_message="Please choose a therapist from the list.",
    )
    screening = IdField(invalid="Please answer the safety questions again.")


class TimesQuery(ClinicForm):
    """The query string of the free-times page."""

    class Meta:
        csrf = False

    service = IdField(validators=[Required("Please choose a service first.")],
                      invalid="Please choose a service first.")
    technique = HiddenField(
        validators=[Required("Please choose a technique first."),
                    max_length(TECHNIQUE_MAX)],
        filters=[strip_filter],
    )
    therapist = IdField(invalid="Please choose a therapist from the list.")
    screening = IdField(invalid="Please answer the safety questions again.")
    week = WeekField()


class ConfirmForm(ClinicForm):
    """Book the chosen slot (POST; every value is re-checked by the service)."""

    service_id = IdField(validators=[Required("Please choose a service.")],
                         invalid="Please choose a service.")
    technique = HiddenField(
        validators=[Required("Please choose a technique."), max_length(TECHNIQUE_MAX)],
        filters=[strip_filter],
    )
    therapist_id = IdField(invalid="Please choose a therapist from the list.")
    screening_id = IdField(invalid="Please answer the safety questions again.")
    start = InstantField(validators=[Required("Please choose a time.")])


class RescheduleForm(ClinicForm):
    therapist_id = IdField(invalid="Please choose a therapist from the list.")
    start = InstantField(validators=[Required("Please choose a time.")])


class CancelForm(ClinicForm):
    reason = TextAreaField(
        "Reason (optional)",
        validators=[Optional(), max_length(REASON_MAX)],
        filters=[strip_filter],
        description="Only the clinic's staff see this.",
    )


def first_error(form: ClinicForm) -> str:
    """The first error message of a form, for a one-sentence answer."""
    for errors in form.errors.values():
        for error in errors:
            return str(error)
    return "Something in that request could not be read. Please try again."
