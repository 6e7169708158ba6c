"""One import point for every model: Alembic's env.py and the tests use it."""

from clinic.accounts.models import LoginAttempt, PasswordResetToken, Role, User
from clinic.audit.models import AuditEvent
from clinic.mail.models import OutboxMessage
from clinic.settings.models import ClinicSettings

__all__ = [
    "AuditEvent",
    "ClinicSettings",
    "LoginAttempt",
    "OutboxMessage",
    "PasswordResetToken",
    "Role",
    "User",
]
