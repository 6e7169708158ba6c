"""Admin forms. They check the shape of what was typed and say what is wrong
next to the field; the services check the rest (names taken, bookings)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from wtforms import (
    BooleanField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from clinic.accounts.models import EMAIL_MAX, NAME_MAX, PHONE_MAX
from clinic.booking.admin_services import MAX_PRICE_PENCE
from clinic.booking.models import BUFFER_MINUTES, DURATION_MINUTES
from clinic.forms import ClinicForm, max_length, strip_filter
from clinic.intake.vocabulary import TECHNIQUES

PHONE_PATTERN = r"^\+?[0-9 ()-]{3,}$"
PRICE_PATTERN = re.compile(r"^£?\s*(\d{1,7})(\.\d{1,2})?$")
SLOT_STEPS = (5, 10, 15, 20, 30, 60)


def _integer(label: str, low: int, high: int, unit: str, **kwargs: Any) -> IntegerField:
    return IntegerField(
        label,
        validators=[
            InputRequired(f"Please enter the {label.lower()}."),
            NumberRange(low, high, f"Please enter {low} to {high} {unit}."),
        ],
        invalid_value_message="Please enter a whole number, like 30.",
        **kwargs,
    )


def _phone(label: str, required: bool) -> TelField:
    first = (DataRequired(f"Please enter the {label.lower()}.") if required
             else Optional())
    return TelField(
        label, filters=[strip_filter],
        validators=[first, max_length(PHONE_MAX), Regexp(
            PHONE_PATTERN, message="Please use digits, spaces and an optional "
            "leading +.")],
    )


def options(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    """Choices the way WTForms 3.3 wants them (tuples are deprecated)."""
    return [SelectChoice(value=str(value), label=label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    """Checkboxes for a set of choices; the template's ``choices`` macro
    renders them in a fieldset with a legend."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label: str, **kwargs: Any) -> None:
        super().__init__(
            label,
            invalid_choice_message="Please choose from the list.",
            invalid_value_message="Please choose from the list.",
            **kwargs,
        )


# ------------------------------------------------------------ services, rooms


class ServiceForm(ClinicForm):
    name = StringField(
        "Name", filters=[strip_filter],
        validators=[DataRequired("Please enter a name."), max_length(100)])
    description = TextAreaField(
        "Description", filters=[strip_filter],
        validators=[Optional(), max_length(1000)],
        description="Shown to clients when they choose a service.")
    duration_minutes = _integer(
        "Duration", *DURATION_MINUTES, "minutes",
        description="Minutes, {} to {}.".format(*DURATION_MINUTES))
    price = StringField(
        "Price (£)", filters=[strip_filter],
        validators=[DataRequired("Please enter a price, like 55.00.")],
        description="Pounds and pence, like 55.00.")
    buffer_minutes = _integer(
        "Buffer after the session", *BUFFER_MINUTES, "minutes",
        description="Minutes kept free after each session, {} to {}.".format(
            *BUFFER_MINUTES))

    def validate_price(self, field: StringField) -> None:
        if self.price_pence is None:
            raise ValidationError(
                "Please enter a price in pounds and pence, like 55.00, up to "
                f"£{MAX_PRICE_PENCE // 100:,}.00.")

    @property
    def price_pence(self) -> int | None:
        match = PRICE_PATTERN.match(self.price.data or "")
        if match is None:
            return None
        try:
            pence = int(Decimal(match.group(0).lstrip("£").strip()) * 100)
        except InvalidOperation:  # pragma: no cover - the pattern rules it out
            return None
        return pence if pence <= MAX_PRICE_PENCE else None


class RoomForm(ClinicForm):
    name = StringField(
        "Room name", filters=[strip_filter],
        validators=[DataRequired("Please enter a name."), max_length(60)])


# ------------------------------------------------------------ staff


class StaffForm(ClinicForm):
    full_name = StringField(
        "Full name", filters=[strip_filter],
        validators=[DataRequired("Please enter a name."), max_length(NAME_MAX)])
    email = EmailField(
        "Email", filters=[strip_filter],
        validators=[DataRequired("Please enter an email address."),
                    max_length(EMAIL_MAX),
                    Email("Please enter a valid email address, like "
                          "name@example.com.")],
        description="We email a link to choose a password. It works for 3 days.")
    phone = _phone("Phone number", required=False)


class TherapistForm(StaffForm):
    bio = TextAreaField(
        "About the therapist", filters=[strip_filter],
        validators=[Optional(), max_length(1000)],
        description="Shown to clients when they choose a therapist.")
    services = CheckboxesField("Services offered", coerce=int)
    techniques = CheckboxesField(
        "Techniques offered", choices=options((t.key, t.name) for t in TECHNIQUES))


# ------------------------------------------------------------ settings


class SettingsForm(ClinicForm):
    clinic_name = StringField(
        "Clinic name", filters=[strip_filter],
        validators=[DataRequired("Please enter the clinic's name."),
                    max_length(120)])
    clinic_phone = _phone("Clinic phone number", required=True)
    emergency_number = StringField(
        "Emergency number", filters=[strip_filter],
        validators=[DataRequired("Please enter the emergency number."),
                    max_length(20),
                    Regexp(r"^[0-9 +]+$", message="Please use digits only, "
                           "like 999.")],
        description="Shown in urgent screening messages.")
    urgent_care = StringField(
        "Urgent care wording", filters=[strip_filter],
        validators=[DataRequired("Please enter where clients get urgent care."),
                    max_length(200)],
        description='Completes "Please contact … today", e.g. NHS 111 or an '
                    "urgent GP appointment.")
    clearance_valid_days = _integer(
        "Clearance validity", 1, 730, "days",
        description="Days a clinician's clearance note stays valid.")
    notes_visible_to_all_therapists = BooleanField(
        "All therapists may read every client's session notes")
    min_notice_minutes = _integer(
        "Minimum notice", 0, 10080, "minutes",
        description="Minutes between booking and the session (up to a week).")
    horizon_days = _integer("Booking horizon", 1, 365, "days",
                            description="How many days ahead clients may book.")
    cancel_cutoff_hours = _integer(
        "Cancellation cut-off", 0, 168, "hours",
        description="Clients may cancel up to this many hours before.")
    slot_step_minutes = SelectField(
        "Slot step", coerce=int,
        choices=options((step, f"Every {step} minutes") for step in SLOT_STEPS),
        validators=[InputRequired("Please choose a slot step.")],
        invalid_choice_message="Please choose one of the listed steps.",
        invalid_value_message="Please choose one of the listed steps.",
        description="How far apart the start times offered to clients are.")

    SETTINGS_FIELDS = (
        "clinic_name", "clinic_phone", "emergency_number", "urgent_care",
        "clearance_valid_days", "notes_visible_to_all_therapists",
        "min_notice_minutes", "horizon_days", "cancel_cutoff_hours",
        "slot_step_minutes",
    )

    def values(self) -> dict[str, Any]:
        return {name: self[name].data for name in self.SETTINGS_FIELDS}
