"""Forms for schedule changes: weekly hours, time off and closures, and the
decision about bookings such a change affects."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from wtforms import DateField, Field, HiddenField, RadioField, StringField, TimeField
from wtforms.validators import InputRequired, Optional, ValidationError

from clinic import clock
from clinic.admin.forms import options
from clinic.booking.admin_schedule import HOURS_GRID_MINUTES
from clinic.booking.models import REASON_MAX
from clinic.forms import ClinicForm, max_length, strip_filter

# Dates further out than this are typing mistakes (and year 9999 would
# overflow once a duration is added).
DATE_RANGE_YEARS = 3

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
            "Sunday")
INTERVALS_PER_DAY = 3
TIME_FORMATS = ["%H:%M", "%H:%M:%S"]


def _time(label: str) -> TimeField:
    return TimeField(label, validators=[Optional()], format=TIME_FORMATS,
                     invalid_value_message="Please enter a time like 09:30.")


class HoursForm(ClinicForm):
    """A weekly grid: up to three intervals a day, each a start and an end.
    Fields are named ``d{weekday}_{n}_start`` / ``_end``."""

    def intervals(self) -> list[tuple[int, int, Field, Field]]:
        return [(day, n, self[f"d{day}_{n}_start"], self[f"d{day}_{n}_end"])
                for day in range(7) for n in range(INTERVALS_PER_DAY)]

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for day in range(7):
            valid = _check_day(self, day) and valid
        return valid

    def weekly(self) -> list[tuple[int, time, time]]:
        return [(day, start.data, end.data) for day, _, start, end in
                self.intervals() if start.data is not None and end.data is not None]

    def fill(self, hours: list[tuple[int, time, time]]) -> None:
        used = dict.fromkeys(range(7), 0)
        for weekday, start, end in sorted(hours):
            n = used[weekday]
            if n < INTERVALS_PER_DAY:
                self[f"d{weekday}_{n}_start"].data = start
                self[f"d{weekday}_{n}_end"].data = end
                used[weekday] += 1


for _day, _name in enumerate(WEEKDAYS):
    for _n in range(INTERVALS_PER_DAY):
        _label = f"{_name}, interval {_n + 1}"
        setattr(HoursForm, f"d{_day}_{_n}_start", _time(f"{_label}, from"))
        setattr(HoursForm, f"d{_day}_{_n}_end", _time(f"{_label}, until"))


def _check_day(form: HoursForm, day: int) -> bool:
    """Both ends or neither, start before end, a 5-minute grid, no overlaps."""
    valid = True
    seen: list[tuple[time, time]] = []
    for _, _, start, end in (i for i in form.intervals() if i[0] == day):
        if start.errors or end.errors:
            valid = False
            continue
        if (start.data is None) != (end.data is None):
            empty = start if start.data is None else end
            empty.errors.append("Please give both a start and an end, or neither.")
            valid = False
            continue
        if start.data is None:
            continue
        problem = _interval_problem(start.data, end.data, seen)
        if problem is None:
            seen.append((start.data, end.data))
            continue
        message, at_end = problem
        (end if at_end else start).errors.append(message)
        valid = False
    return valid


def _off_grid(value: time) -> bool:
    return bool(value.minute % HOURS_GRID_MINUTES or value.second)


def _interval_problem(start: time, end: time, seen: list[tuple[time, time]]
                      ) -> tuple[str, bool] | None:
    """What is wrong with one interval, and whether it is the end's fault."""
    grid = "Please use a time on a 5-minute grid, like 09:05."
    if _off_grid(start):
        return grid, False
    if _off_grid(end):
        return grid, True
    if end <= start:
        return "The end must be after the start.", True
    for other_start, other_end in seen:
        if start < other_end and other_start < end:
            return (f"This overlaps {other_start:%H:%M} to {other_end:%H:%M} on the "
                    "same day."), False
    return None


def _date(label: str) -> DateField:
    return DateField(
        label, validators=[InputRequired(f"Please enter the {label.lower()}.")],
        invalid_value_message="Please enter a date like 2027-03-28.")


class PeriodForm(ClinicForm):
    """A period in the clinic's local time: time off or a closure."""

    start_date = _date("Start date")
    start_time = TimeField(
        "Start time", format=TIME_FORMATS,
        validators=[InputRequired("Please enter the start time.")],
        invalid_value_message="Please enter a time like 09:30.")
    end_date = _date("End date")
    end_time = TimeField(
        "End time", format=TIME_FORMATS,
        validators=[InputRequired("Please enter the end time.")],
        invalid_value_message="Please enter a time like 17:00.",
        description="For whole days, end at 00:00 on the day after the last one.")
    reason = StringField(
        "Reason (for staff only)", filters=[strip_filter],
        validators=[Optional(), max_length(REASON_MAX)])

    def validate_start_date(self, field: DateField) -> None:
        _check_date_range(field.data)

    def validate_end_date(self, field: DateField) -> None:
        _check_date_range(field.data)

    def validate_end_time(self, field: TimeField) -> None:
        start = (self.start_date.data, self.start_time.data)
        end = (self.end_date.data, field.data)
        if None not in (*start, *end) and end <= start:
            raise ValidationError("The end must be after the start.")


def _check_date_range(value: date | None) -> None:
    if value is None:
        return
    today = clock.now().date()
    if abs(value - today) > timedelta(days=365 * DATE_RANGE_YEARS):
        raise ValidationError(
            f"Please choose a date within {DATE_RANGE_YEARS} years of today.")


class DecisionForm(ClinicForm):
    """What to do with the bookings a change affects. The page's own form
    carries the CSRF token, so this one has none."""

    class Meta:
        csrf = False

    seen = HiddenField()
    decision = RadioField(
        "What should happen to these bookings?",
        validators=[InputRequired("Please choose what happens to the bookings.")],
        invalid_choice_message="Please choose one of the options.")
    # No Optional(): it would stop the chain before validate_cancel_reason.
    cancel_reason = StringField(
        "Reason for cancelling", filters=[strip_filter],
        validators=[max_length(REASON_MAX)],
        description="Recorded with each booking and given to the client in the "
                    "cancellation email.")

    def __init__(self, *, may_keep: bool, keep_label: str = "", **kwargs: Any):
        super().__init__(**kwargs)
        self.may_keep = may_keep
        pairs = [("cancel", "Cancel them and email each client")]
        if may_keep:
            pairs.append(("keep", keep_label))
        self.decision.choices = options(pairs)

    def validate_cancel_reason(self, field: StringField) -> None:
        if self.decision.data == "cancel" and not field.data:
            raise ValidationError("Please give a reason for cancelling.")

    def seen_ids(self) -> frozenset[int]:
        """The booking ids the admin was shown; anything odd counts as none,
        so the service asks again rather than guessing."""
        parts = (self.seen.data or "").split(",")
        if not all(p.isascii() and p.isdigit() and len(p) < 12 for p in parts if p):
            return frozenset()
        return frozenset(int(p) for p in parts if p)


