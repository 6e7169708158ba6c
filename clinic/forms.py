"""The base form every page uses, and validators shared across features.

Flask-WTF adds a CSRF token to every form (and ``CSRFProtect`` refuses any
state-changing request without one). The base form also refuses control
characters: PostgreSQL rejects NUL bytes with a 500 where SQLite stores them,
so both databases must see the same clean text (pitfalls.md).
"""

from __future__ import annotations

import re
from typing import Any

from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

# Tab, newline and carriage return are fine in free text; nothing else below 32.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class ClinicForm(FlaskForm):
    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field, StringField | TextAreaField) and _has_control(field):
                field.errors = [*field.errors, "Please remove unusual characters."]
                valid = False
        return valid


def _has_control(field: Field) -> bool:
    return isinstance(field.data, str) and bool(_CONTROL.search(field.data))


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def max_length(column_size: int) -> Length:
    """The form's limit is the column's, so both databases accept the same."""
    return Length(
        max=column_size, message=f"Please use at most {column_size} characters."
    )


class PasswordStrength:
    """At least 12 characters, at most 128, and not only one kind of character."""

    MIN = 12
    MAX = 128

    def __call__(self, form: Any, field: Field) -> None:
        value = field.data or ""
        if len(value) < self.MIN:
            raise ValidationError(f"Use at least {self.MIN} characters.")
        if len(value) > self.MAX:
            raise ValidationError(f"Use at most {self.MAX} characters.")
        if value.isdigit() or value.isalpha():
            raise ValidationError("Mix letters with numbers or other characters.")
