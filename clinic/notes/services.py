"""Session note use cases: write a draft, sign it, add an addendum (§7.1).

Only the booking's therapist writes its note, from 15 minutes before the
session starts, never for a cancelled or missed appointment, and only once
a caution screening has been acknowledged. A note cannot record a technique
the booking's screening excluded, nor firm pressure where deep work is
excluded. Signing locks the note (the database refuses any change after);
corrections are addenda by the author. Every write is audited here, with
nothing from the note's content in the audit row.

Services take a session, flush and never commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, ScalarSelect, bindparam, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from clinic.accounts.models import User
from clinic.audit.services import Actor, record
from clinic.booking.models import Booking, BookingStatus
from clinic.intake.models import Intake, IntakeKind
from clinic.intake.vocabulary import TECHNIQUE_KEYS, technique_name
from clinic.notes.advice import with_advice
from clinic.notes.models import (
    SECTION_MAX,
    NoteAddendum,
    NoteStatus,
    Pressure,
    Response,
    SessionNote,
)
from clinic.notes.queries import (
    NoteContext,
    context_for,
    note_of,
    previous_signed_note,
)

WRITE_FROM_BEFORE_START = timedelta(minutes=15)
EXTENT_TRENDS: tuple[str, ...] = (
    "moving_up", "moving_down", "no_change", "not_sure", "not_applicable",
)


class NoteError(Exception):
    """A refusal whose message is safe to show to the person asking."""


class NoteInvalid(NoteError):
    """Answers the note rules refuse, each message for its form field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(" ".join(errors.values()))
        self.errors = dict(errors)


@dataclass(frozen=True)
class NoteInput:
    """What the therapist wrote (validated for shape by the form)."""

    subjective: str = ""
    objective: str = ""
    assessment: str = ""
    plan: str = ""
    techniques_used: tuple[str, ...] = ()
    pressure: str | None = None
    areas_treated: str = ""
    areas_avoided: str = ""
    nprs_before: int | None = None
    nprs_after: int | None = None
    extent_level: int | None = None
    extent_trend: str | None = None
    home_care: str = ""
    advisories: tuple[str, ...] = ()
    previous_response: str | None = None


# ---------------------------------------------------------------- rules


def write_refusal(booking: Booking, user: User, now: datetime) -> str | None:
    """Why ``user`` may not write this booking's note now (None: they may)."""
    if user.id != booking.therapist_id:
        return "Only the therapist of this session can write its note."
    if booking.status is BookingStatus.CANCELLED:
        return "This appointment was cancelled, so it has no session note."
    if booking.status is BookingStatus.NO_SHOW:
        return "The client did not come to this appointment, so it has no session note."
    if now < booking.starts_at - WRITE_FROM_BEFORE_START:
        return "You can write this note from 15 minutes before the session starts."
    return None


ACKNOWLEDGE_FIRST = (
    "This client's screening for the session is a caution that has not been "
    "acknowledged. Please review and acknowledge it before starting the session."
)


def check_rules(context: NoteContext, data: NoteInput) -> None:
    """:raise NoteInvalid: an excluded or unknown technique, firm pressure
    where deep work is excluded, advice the screening did not offer."""
    errors: dict[str, str] = {}
    unknown = [t for t in data.techniques_used if t not in TECHNIQUE_KEYS]
    excluded = [t for t in data.techniques_used if t in context.excluded]
    if unknown:
        errors["techniques_used"] = "Please tick only the techniques shown."
    elif excluded:
        names = " and ".join(technique_name(t) for t in excluded)
        errors["techniques_used"] = (
            f"{names} cannot be recorded: this client's screening for the session "
            f"excluded {'it' if len(excluded) == 1 else 'them'}."
        )
    if data.pressure == Pressure.FIRM and context.no_deep:
        errors["pressure"] = (
            "Firm pressure cannot be recorded: this client's screening excludes deep "
            "work, so use light or moderate pressure."
        )
    if any(a not in context.advisories for a in data.advisories):
        errors["advisories"] = "Please tick only the advice shown."
    errors.update(_out_of_range(data))
    if errors:
        raise NoteInvalid(errors)


def _out_of_range(data: NoteInput) -> dict[str, str]:
    """Values the form should already have refused (the database would too)."""
    errors = {}
    for name in ("nprs_before", "nprs_after"):
        value = getattr(data, name)
        if value is not None and not 0 <= value <= 10:
            errors[name] = "Please enter a whole number from 0 (no pain) to 10."
    if data.extent_level is not None and not 0 <= data.extent_level <= 5:
        errors["extent_level"] = "Please choose one of the answers shown."
    choices = (("pressure", [p.value for p in Pressure]),
               ("extent_trend", EXTENT_TRENDS),
               ("previous_response", [r.value for r in Response]))
    for name, allowed in choices:
        value = getattr(data, name)
        if value is not None and value not in allowed:
            errors[name] = "Please choose one of the answers shown."
    return errors


def _check_complete(db: Session, booking: Booking, note: SessionNote) -> None:
    """What every signed note records (§7.1). :raise NoteInvalid:"""
    errors: dict[str, str] = {}
    if not note.techniques_used:
        errors["techniques_used"] = "Please tick the techniques you used."
    if note.pressure is None:
        errors["pressure"] = "Please choose the pressure you used."
    for name, label in (("nprs_before", "before"), ("nprs_after", "after")):
        if getattr(note, name) is None:
            errors[name] = f"Please enter the pain score {label} the session."
    if note.extent_level is None:
        errors["extent_level"] = "Please choose how far down the leg symptoms reach."
    if note.previous_response is None and previous_signed_note(db, booking):
        errors["previous_response"] = (
            "Please record how the client felt after the previous session."
        )
    if errors:
        raise NoteInvalid(errors)


# ---------------------------------------------------------------- writing


def save_note(
    db: Session, booking: Booking, author: User, data: NoteInput, *,
    actor: Actor, now: datetime, sign: bool = False,
) -> SessionNote:
    """Create or update the booking's draft note, and sign it if asked.

    :raise NoteError: not allowed now, or the note is already signed.
    :raise NoteInvalid: the rules refuse the answers, or signing finds them
        incomplete.
    """
    refusal = write_refusal(booking, author, now)
    if refusal is not None:
        raise NoteError(refusal)
    context = context_for(db, booking)
    if context.needs_acknowledgement:
        raise NoteError(ACKNOWLEDGE_FIRST)
    note = note_of(db, booking.id)
    if note is not None:
        db.refresh(note, with_for_update=True)  # a concurrent sign wins first
        if note.is_signed:
            raise NoteError(SIGNED_ALREADY)
        if note.author_id != author.id:
            raise NoteError("Only the author of this note can change it.")
    check_rules(context, data)
    home_care = with_advice(data.home_care, data.advisories)
    if len(home_care) > SECTION_MAX:
        raise NoteInvalid({"home_care": f"Please keep the advice to {SECTION_MAX} "
                                        "characters, including the ticked advice."})
    created = note is None
    if note is None:
        note = SessionNote(booking_id=booking.id, client_id=booking.client_id,
                           author_id=author.id, created_at=now)
        db.add(note)
    _fill(note, data, home_care, now)
    _flush(db)
    record(db, actor, "create" if created else "update", "session_note", note.id,
           subject_user_id=booking.client_id)
    if sign:
        _sign(db, booking, note, actor, now)
    return note


SIGNED_ALREADY = (
    "This note is signed and can no longer be changed. Add an addendum to "
    "correct or add to it."
)


def _fill(note: SessionNote, data: NoteInput, home_care: str, now: datetime) -> None:
    for name in ("subjective", "objective", "assessment", "plan", "areas_treated",
                 "areas_avoided", "nprs_before", "nprs_after", "extent_level",
                 "extent_trend"):
        setattr(note, name, getattr(data, name))
    note.techniques_used = sorted(set(data.techniques_used))
    note.pressure = Pressure(data.pressure) if data.pressure else None
    note.previous_response = (
        Response(data.previous_response) if data.previous_response else None
    )
    note.home_care = home_care
    note.advisories = sorted(set(data.advisories))
    note.updated_at = now


def _sign(
    db: Session, booking: Booking, note: SessionNote, actor: Actor, now: datetime
) -> None:
    _check_complete(db, booking, note)
    note.status = NoteStatus.SIGNED
    note.signed_at = now
    _flush(db)
    record(db, actor, "sign", "session_note", note.id,
           subject_user_id=booking.client_id)


def _flush(db: Session) -> None:
    """Flush, turning a lost race into a clear refusal instead of a 500."""
    try:
        db.flush()
    except IntegrityError as exc:
        if "append-only" in str(exc.orig):
            raise NoteError(SIGNED_ALREADY) from exc
        raise NoteError(
            "This note was just saved from another window. Please reload the page."
        ) from exc
    except DBAPIError as exc:
        if "append-only" in str(exc.orig):
            raise NoteError(SIGNED_ALREADY) from exc
        raise


def add_addendum(
    db: Session, note: SessionNote, author: User, text: str, *,
    actor: Actor, now: datetime,
) -> NoteAddendum:
    """A dated correction under a signed note, by its author.

    :raise NoteError: not the author, the note is still a draft, no text.
    """
    if author.id != note.author_id:
        raise NoteError("Only the author of this note can add an addendum to it.")
    if not note.is_signed:
        raise NoteError("This note is still a draft: change it directly instead.")
    text = text.strip()
    if not text:
        raise NoteInvalid({"text": "Please write the addendum."})
    if len(text) > SECTION_MAX:
        raise NoteInvalid({"text": f"Please use at most {SECTION_MAX} characters."})
    addendum = NoteAddendum(note_id=note.id, author_id=author.id, text=text,
                            created_at=now)
    db.add(addendum)
    db.flush()
    record(db, actor, "create", "note_addendum", addendum.id,
           subject_user_id=note.client_id, detail=f"note {note.id}")
    return addendum


# ---------------------------------------------------------------- booking gate


class SignedNotes(NamedTuple):
    """What the spread rule reads of a client's latest two signed notes."""

    trend: str | None  # the latest's extent trend
    level: int | None  # the latest's extent level
    signed_at: datetime | None  # None: no signed note at all
    previous_level: int | None  # the extent level of the one before


def _signed_note(column: Any, client_id: ColumnElement[int], *, skip: int = 0
                 ) -> ScalarSelect[Any]:
    return (select(column).join(Booking, Booking.id == SessionNote.booking_id)
            .where(SessionNote.client_id == client_id,
                   SessionNote.status == NoteStatus.SIGNED)
            .order_by(Booking.starts_at.desc(), SessionNote.id.desc())
            .limit(1).offset(skip).scalar_subquery())


def signed_notes_columns(client_id: ColumnElement[int]) -> list[ScalarSelect[Any]]:
    """``SignedNotes`` for ``client_id`` as columns another query can carry:
    the booking gate adds them to its own, so a booking reads them in the
    same round trip."""
    return [_signed_note(SessionNote.extent_trend, client_id),
            _signed_note(SessionNote.extent_level, client_id),
            _signed_note(SessionNote.signed_at, client_id),
            _signed_note(SessionNote.extent_level, client_id, skip=1)]


_SIGNED_NOTES = select(*signed_notes_columns(bindparam("client_id")))


def signed_notes(db: Session, client_id: int) -> SignedNotes:
    db.flush()  # what the session's autoflush would have done
    row = db.connection().execute(_SIGNED_NOTES, {"client_id": client_id}).one()
    return SignedNotes(*row)


def spread_needs_intake(db: Session, client_id: int,
                        notes: SignedNotes | None = None) -> bool:
    """Whether the latest signed note records symptoms spreading further down
    the leg and the client has completed no full intake since it was signed.

    Spreading: a higher extent level than the previous signed note's, or the
    extent trend ``moving_down`` (§7.2 peripheralising; R-WORSENING).
    ``notes``: already read with another query (else read here).
    """
    notes = signed_notes(db, client_id) if notes is None else notes
    if notes.signed_at is None:
        return False
    spread = notes.trend == "moving_down" or (
        notes.level is not None
        and notes.previous_level is not None
        and notes.level > notes.previous_level
    )
    if not spread:
        return False
    newer = db.scalar(
        select(Intake.id)
        .where(Intake.client_id == client_id, Intake.kind == IntakeKind.FULL,
               Intake.created_at > notes.signed_at)
        .limit(1)
    )
    return newer is None
