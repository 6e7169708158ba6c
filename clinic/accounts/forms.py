"""Account forms: registration, login, password reset and change, and
changing one's own details and email address."""

from __future__ import annotations

from datetime import date

from wtforms import DateField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Optional,
    Regexp,
    ValidationError,
)

from clinic.accounts.models import EMAIL_MAX, NAME_MAX, PHONE_MAX
from clinic.forms import ClinicForm, PasswordStrength, max_length, strip_filter

OLDEST_AGE_YEARS = 120


def _email_field(label: str = "Email", whose: str = "your") -> EmailField:
    return EmailField(
        label,
        filters=[strip_filter],
        validators=[
            DataRequired(f"Please enter {whose} email address."),
            max_length(EMAIL_MAX),
            Email("Please enter a valid email address, like name@example.com."),
        ],
        render_kw={"autocomplete": "email"},
    )


def _new_password_fields(
    label: str = "New password",
) -> tuple[PasswordField, PasswordField]:
    password = PasswordField(
        label,
        validators=[InputRequired("Please choose a password."), PasswordStrength()],
        description="At least 12 characters. A short sentence works well.",
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        "Repeat the password",
        validators=[
            InputRequired("Please repeat the password."),
            EqualTo("password", "The two passwords are not the same."),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    return password, confirm


def _name_field(whose: str = "your") -> StringField:
    return StringField(
        "Full name",
        filters=[strip_filter],
        validators=[DataRequired(f"Please enter {whose} name."), max_length(NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )


def _phone_field(*, required: bool = True) -> TelField:
    first = (DataRequired("Please enter a phone number so we can reach you.")
             if required else Optional())
    return TelField(
        "Phone number",
        filters=[strip_filter],
        validators=[
            first,
            max_length(PHONE_MAX),
            Regexp(
                r"^\+?[0-9 ()-]{6,}$",
                message="Please use digits, spaces and an optional leading +.",
            ),
        ],
        render_kw={"autocomplete": "tel"},
    )


def _birth_date_field() -> DateField:
    return DateField(
        "Date of birth",
        validators=[InputRequired("Please enter your date of birth."),
                    _plausible_birth],
        render_kw={"autocomplete": "bday"},
    )


def _plausible_birth(form: ClinicForm, field: DateField) -> None:
    if field.data is None:
        return  # the field's own "not a valid date" error stands
    today = date.today()
    if field.data > today:
        raise ValidationError("The date of birth cannot be in the future.")
    if today.year - field.data.year > OLDEST_AGE_YEARS:
        raise ValidationError("Please check the year of birth.")


class RegisterForm(ClinicForm):
    full_name = _name_field()
    email = _email_field()
    phone = _phone_field()
    date_of_birth = _birth_date_field()
    password, confirm = _new_password_fields("Password")


class DetailsForm(ClinicForm):
    """A therapist's or admin's own name and phone."""

    full_name = _name_field()
    phone = _phone_field(required=False)


class ClientDetailsForm(DetailsForm):
    """A client's: the clinic needs a phone number and the date of birth."""

    phone = _phone_field()
    date_of_birth = _birth_date_field()


class ClientContactForm(ClientDetailsForm):
    """What an admin may correct for a client, the login address included."""

    full_name = _name_field(whose="the client's")
    email = _email_field(whose="the client's")


def _current_password_field() -> PasswordField:
    return PasswordField(
        "Current password",
        validators=[
            InputRequired("Please enter your current password."),
            max_length(128),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class ChangeEmailForm(ClinicForm):
    email = _email_field("New email address")
    current_password = _current_password_field()


class CloseAccountForm(ClinicForm):
    current_password = _current_password_field()


class LoginForm(ClinicForm):
    email = _email_field()
    password = PasswordField(
        "Password",
        validators=[InputRequired("Please enter your password."), max_length(128)],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(ClinicForm):
    email = _email_field()


class ResetPasswordForm(ClinicForm):
    password, confirm = _new_password_fields()


class ChangePasswordForm(ClinicForm):
    current_password = _current_password_field()
    password, confirm = _new_password_fields()


class EmptyForm(ClinicForm):
    """A form with only the CSRF token, for buttons such as 'Log out'."""
