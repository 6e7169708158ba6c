"""One import point for every model: Alembic's env.py and the tests use it."""

from clinic.accounts.models import LoginAttempt, PasswordResetToken, Role, User
from clinic.audit.models import AuditEvent
from clinic.booking.models import (
    Booking,
    Closure,
    Room,
    Service,
    Therapist,
    TherapistTechnique,
    TimeOff,
    WorkingHours,
)
from clinic.intake.models import Acknowledgement, Clearance, Intake, Screening
from clinic.mail.models import OutboxMessage
from clinic.notes.models import NoteAddendum, SessionNote
from clinic.settings.models import ClinicSettings

__all__ = [
    "Acknowledgement",
    "AuditEvent",
    "Booking",
    "Clearance",
    "ClinicSettings",
    "Closure",
    "Intake",
    "LoginAttempt",
    "NoteAddendum",
    "OutboxMessage",
    "PasswordResetToken",
    "Role",
    "Room",
    "Screening",
    "Service",
    "SessionNote",
    "Therapist",
    "TherapistTechnique",
    "TimeOff",
    "User",
    "WorkingHours",
]
