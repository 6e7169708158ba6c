"""Who may open which note, and the audit row every refused attempt leaves.

Notes are for staff: anyone else gets 403. A therapist who may not see this
client's notes, or a booking that does not exist, gets 404 (never 403, so
ids do not leak). Every refusal is audited with ``allowed=False`` before the
abort, in its own transaction (``audit_read``), because the request's own
work is rolled back or never written.
"""

from __future__ import annotations

from flask import abort
from flask_login import current_user
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.accounts.permissions import is_staff
from clinic.booking.models import Booking
from clinic.intake.access import audit_read
from clinic.notes import queries
from clinic.web import settings

__all__ = ["audit_read", "booking_or_404", "client_or_404", "staff_or_403"]


def staff_or_403(action: str, record_type: str) -> None:
    """:raise 403: for a client (audited as a refused attempt)."""
    if not is_staff(current_user):
        audit_read(action, record_type, None, subject_user_id=None, allowed=False)
        abort(403)


def may_read(db: Session, client_id: int) -> bool:
    return queries.can_read_notes(
        db, current_user, client_id,
        all_therapists=settings().notes_visible_to_all_therapists,
    )


def booking_or_404(
    db: Session, booking_id: int, action: str, record_type: str = "session_note",
    *, write: bool = False,
) -> Booking:
    """The booking, if the current user may read its note (``write``: may
    write it, i.e. is its therapist). :raise 404: (audited)"""
    booking = db.get(Booking, booking_id)
    if booking is not None and (
        booking.therapist_id == current_user.id
        or (not write and may_read(db, booking.client_id))
    ):
        return booking
    audit_read(action, record_type, None,
               subject_user_id=booking.client_id if booking else None, allowed=False)
    abort(404)


def client_or_404(db: Session, client_id: int, action: str) -> User:
    """A client whose notes the current user may read. :raise 404: (audited)"""
    client = db.get(User, client_id)
    if client is not None and client.role is Role.CLIENT and may_read(db, client.id):
        return client
    audit_read(action, "session_note", None,
               subject_user_id=client.id if client else None, allowed=False)
    abort(404)
