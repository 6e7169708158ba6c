"""Signed notes, addenda and audit rows cannot change, even with direct SQL.

The triggers come from the migrations; these run on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from clinic.accounts.models import Role
from clinic.audit.models import AuditEvent
from clinic.audit.services import Actor, record
from clinic.db import utcnow
from clinic.notes import services
from clinic.notes.models import NoteAddendum, SessionNote
from tests.factories import make_person
from tests.test_notes_support import (
    actor_for,
    arrange_clinic,
    hours_ago,
    session_at,
    write_note,
)

READ_ONLY = {"GET", "HEAD", "OPTIONS"}


@pytest.fixture
def signed(db: Session) -> SessionNote:
    clinic = arrange_clinic(db)
    return write_note(db, session_at(db, clinic, hours_ago(1)), clinic.therapist_user)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE session_note SET plan = 'Rewritten' WHERE id = :id",
     "UPDATE session_note SET status = 'draft', signed_at = NULL WHERE id = :id",
     "DELETE FROM session_note WHERE id = :id"],
)
def test_a_signed_note_cannot_be_updated_or_deleted(
    db: Session, signed: SessionNote, statement: str
) -> None:
    with pytest.raises(DBAPIError, match="session_note rows are append-only"):
        db.execute(text(statement), {"id": signed.id})
    db.rollback()
    db.expire_all()
    kept = db.get(SessionNote, signed.id)
    assert (kept.plan, kept.is_signed) == ("Weekly sessions for three weeks.", True)


def test_the_orm_cannot_change_a_signed_note_either(
    db: Session, signed: SessionNote
) -> None:
    signed.plan = "Rewritten"
    with pytest.raises(DBAPIError, match="session_note rows are append-only"):
        db.flush()
    db.rollback()


def test_a_draft_can_be_updated_and_signed(db: Session) -> None:
    clinic = arrange_clinic(db)
    booking = session_at(db, clinic, hours_ago(1))
    draft = write_note(db, booking, clinic.therapist_user, sign=False)
    result = db.execute(text("UPDATE session_note SET plan = 'Revised' WHERE id = :id"),
                        {"id": draft.id})
    assert result.rowcount == 1
    db.expire_all()
    assert db.get(SessionNote, draft.id).plan == "Revised"
    # Signing is the draft's last change (the trigger looks at the old row).
    write_note(db, booking, clinic.therapist_user, sign=True)
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(text("UPDATE session_note SET plan = 'Again' WHERE id = :id"),
                   {"id": draft.id})


@pytest.mark.parametrize(
    "statement",
    ["UPDATE note_addendum SET text = 'Rewritten' WHERE id = :id",
     "DELETE FROM note_addendum WHERE id = :id"],
)
def test_an_addendum_cannot_be_updated_or_deleted(
    db: Session, signed: SessionNote, statement: str
) -> None:
    author = signed.author
    addendum = services.add_addendum(db, signed, author, "Correction",
                                     actor=actor_for(author), now=utcnow())
    db.commit()
    with pytest.raises(DBAPIError, match="note_addendum rows are append-only"):
        db.execute(text(statement), {"id": addendum.id})
    db.rollback()
    db.expire_all()
    assert db.get(NoteAddendum, addendum.id).text == "Correction"


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_event SET allowed = :no WHERE id = :id",
     "DELETE FROM audit_event WHERE id = :id"],
)
def test_an_audit_row_cannot_be_updated_or_deleted(
    db: Session, app: Flask, statement: str
) -> None:
    admin = make_person(db, Role.ADMIN)
    event_id = record(db, Actor(user=admin, ip="127.0.0.1"), "view", "session_note", 1)
    db.commit()
    with pytest.raises(DBAPIError, match="audit_event rows are append-only"):
        db.execute(text(statement), {"id": event_id, "no": False})
    db.rollback()
    db.expire_all()
    assert db.get(AuditEvent, event_id).allowed is True


def test_no_page_edits_or_deletes_a_note_or_an_audit_row(app: Flask) -> None:
    """Only two note pages take a POST (write a draft, add an addendum), the
    audit pages only read, and nothing answers DELETE, PUT or PATCH."""
    writing: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        methods = set(rule.methods or ()) - READ_ONLY
        assert not methods & {"DELETE", "PUT", "PATCH"}, rule
        if methods and rule.endpoint.split(".")[0] in ("notes", "audit"):
            writing[rule.endpoint] = methods
    assert writing == {"notes.session_note": {"POST"}, "notes.add_addendum": {"POST"}}
