"""Forms of the staff schedule pages.

The filters come by GET (no CSRF: they change nothing) and are parsed
leniently: a date that cannot be read, or an unknown therapist, gives one
friendly sentence and the page falls back to its default, never a 500.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired

from clinic.booking.forms import choices, parse_id
from clinic.booking.models import REASON_MAX, BookingStatus
from clinic.forms import ClinicForm, max_length, strip_filter

# Schedules are for running a clinic: years far away are typing mistakes
# (and year 9999 plus a week would overflow the date arithmetic).
FIRST_YEAR, LAST_YEAR = 2000, 2100
BAD_DATE = "Please enter a date like 2027-03-28."
OUT_OF_RANGE = f"Please choose a date between {FIRST_YEAR} and {LAST_YEAR}."

VIEWS = choices([("day", "Day"), ("week", "Week")])
ACTIVE = "active"
STATUS_CHOICES = choices([
    (ACTIVE, "Booked"),
    ("all", "All"),
    *((s.value, s.label) for s in BookingStatus),
])


class LocalDateField(StringField):
    """A calendar date typed as YYYY-MM-DD (what <input type=date> sends)."""

    widget_type = "date"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"type": "date"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[Any]) -> None:
        first = valuelist[0] if valuelist else ""
        raw = first.strip() if isinstance(first, str) else ""
        self.raw_text = raw[:20]
        self.data = None
        if not raw:
            return
        try:
            value = date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            value = None
        if value is None:
            raise ValueError(BAD_DATE)
        if not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValueError(OUT_OF_RANGE)
        self.data = value

    def _value(self) -> str:
        if isinstance(self.data, date):
            return self.data.isoformat()
        return getattr(self, "raw_text", "")


def _id_or_none(value: Any) -> int | None:
    """An id, None for "all", and -1 (never a choice, so refused with the
    friendly message) for anything else."""
    if value is None or value == "" or value == "None":
        return None
    if isinstance(value, int):
        return value
    parsed = parse_id(value)
    return -1 if parsed is None else parsed


class QueryForm(ClinicForm):
    class Meta:
        csrf = False


class WeekQuery(QueryForm):
    week = LocalDateField("Show the week of")


class DayQuery(QueryForm):
    date = LocalDateField("Show the day")


class ClinicQuery(QueryForm):
    date = LocalDateField("Date")
    view = SelectField("Show", choices=VIEWS, default="day",
                       invalid_choice_message="Please choose a day or a week.")
    therapist = SelectField("Therapist", coerce=_id_or_none, validate_choice=True,
                            invalid_choice_message="Please choose a therapist "
                                                   "from the list.")
    status = SelectField("Status", choices=STATUS_CHOICES, default=ACTIVE,
                         invalid_choice_message="Please choose a status from "
                                                "the list.")

    def set_therapists(self, pairs: list[tuple[object, str]]) -> None:
        self.therapist.choices = choices([("", "All therapists"), *pairs])

    def clean(self, field: Field, default: Any) -> Any:
        """The field's value if it passed validation, else ``default``."""
        return default if field.errors or field.data is None else field.data


class CancelForm(ClinicForm):
    reason = TextAreaField(
        "Reason for cancelling",
        validators=[DataRequired("Please give a reason for cancelling."),
                    max_length(REASON_MAX)],
        filters=[strip_filter],
        description="The client is sent this reason with the cancellation.",
    )


_NOT_LISTED = "Please choose one of the therapists listed."


class MoveForm(ClinicForm):
    """Which free therapist takes a session over (choices set by the view)."""

    therapist_id = RadioField(
        "Move the session to", coerce=int,
        validators=[InputRequired(_NOT_LISTED)],
        invalid_choice_message=_NOT_LISTED, invalid_value_message=_NOT_LISTED,
    )
    next = HiddenField()
