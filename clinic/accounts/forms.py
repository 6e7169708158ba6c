"""Account forms: registration, login, password reset and change."""

from __future__ import annotations

from datetime import date

from wtforms import DateField, EmailField, PasswordField, StringField, TelField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Regexp,
    ValidationError,
)

from clinic.accounts.models import EMAIL_MAX, NAME_MAX, PHONE_MAX
from clinic.forms import ClinicForm, PasswordStrength, max_length, strip_filter

OLDEST_AGE_YEARS = 120


def _email_field(label: str = "Email") -> EmailField:
    return EmailField(
        label,
        filters=[strip_filter],
        validators=[
            DataRequired("Please enter your email address."),
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


class RegisterForm(ClinicForm):
    full_name = StringField(
        "Full name",
        filters=[strip_filter],
        validators=[DataRequired("Please enter your name."), max_length(NAME_MAX)],
        render_kw={"autocomplete": "name"},
    )
    email = _email_field()
    phone = TelField(
        "Phone number",
        filters=[strip_filter],
        validators=[
            DataRequired("Please enter a phone number so we can reach you."),
            max_length(PHONE_MAX),
            Regexp(
                r"^\+?[0-9 ()-]{6,}$",
                message="Please use digits, spaces and an optional leading +.",
            ),
        ],
        render_kw={"autocomplete": "tel"},
    )
    date_of_birth = DateField(
        "Date of birth",
        validators=[InputRequired("Please enter your date of birth.")],
        render_kw={"autocomplete": "bday"},
    )
    password, confirm = _new_password_fields("Password")

    def validate_date_of_birth(self, field: DateField) -> None:
        if field.data is None:
            return  # the field's own "not a valid date" error stands
        today = date.today()
        if field.data > today:
            raise ValidationError("The date of birth cannot be in the future.")
        if today.year - field.data.year > OLDEST_AGE_YEARS:
            raise ValidationError("Please check the year of birth.")


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
    current_password = PasswordField(
        "Current password",
        validators=[
            InputRequired("Please enter your current password."),
            max_length(128),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    password, confirm = _new_password_fields()


class EmptyForm(ClinicForm):
    """A form with only the CSRF token, for buttons such as 'Log out'."""
