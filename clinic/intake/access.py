"""Who may open which intake record, and the audit row every attempt leaves.

A client sees only their own screenings; therapists and admins see every
client's. Someone else's record answers 404 (never 403, so ids do not leak),
and the attempt is audited with ``allowed=False`` before the 404.
"""

from __future__ import annotations

from flask import abort, request
from flask_login import current_user
from sqlalchemy.orm import Session

from clinic.accounts.models import Role, User
from clinic.accounts.permissions import can_view_client_record, is_staff
from clinic.audit.services import record
from clinic.db import READ_ONLY_METHODS, get_session, new_session
from clinic.intake.models import Screening
from clinic.web import actor, commit


def audit_read(
    action: str,
    record_type: str,
    record_id: int | None,
    *,
    subject_user_id: int | None,
    allowed: bool = True,
) -> None:
    """Append one audit row for a read (or a refused attempt), committed now.

    A GET request's session never writes (clinic.db), so the row gets its own
    short transaction. A POST's session already holds the write lock (on
    SQLite a second writer would wait for it), so the row goes there; refusals
    happen before a POST has written anything else.
    """
    if request.method in READ_ONLY_METHODS:
        with new_session() as db:
            _record(db, action, record_type, record_id, subject_user_id, allowed)
            db.commit()
    else:
        db = get_session()
        _record(db, action, record_type, record_id, subject_user_id, allowed)
        commit(db)


def _record(db: Session, action: str, record_type: str, record_id: int | None,
            subject_user_id: int | None, allowed: bool) -> None:
    record(db, actor(), action, record_type, record_id,
           subject_user_id=subject_user_id, allowed=allowed)


def screening_or_404(db: Session, screening_id: int, action: str = "view") -> Screening:
    """The screening, if the current user may see it. :raise 404: (audited)"""
    screening = db.get(Screening, screening_id)
    owner = screening.client_id if screening is not None else None
    if owner is None or not can_view_client_record(current_user, owner):
        audit_read(action, "screening", screening_id,
                   subject_user_id=owner, allowed=False)
        abort(404)
    assert screening is not None
    return screening


def staff_or_403(action: str, record_type: str, client_id: int) -> None:
    """Client records are for staff. :raise 403: (audited: a denied attempt)"""
    if not is_staff(current_user):
        audit_read(action, record_type, None, subject_user_id=_existing(client_id),
                   allowed=False)
        abort(403)


def client_or_404(db: Session, client_id: int, action: str, record_type: str) -> User:
    """A client account for a staff page. :raise 404: (audited)"""
    user = db.get(User, client_id)
    if user is None or user.role is not Role.CLIENT:
        audit_read(action, record_type, None,
                   subject_user_id=user.id if user is not None else None,
                   allowed=False)
        abort(404)
    return user


def _existing(user_id: int) -> int | None:
    """`user_id` if such a user exists (the audit row's subject is a foreign key)."""
    with new_session(write=False) as db:
        return user_id if db.get(User, user_id) is not None else None
