"""Session notes, progress and the client's own record.

This module owns the blueprint and its URL map. The note page (write, sign,
addenda) is here; the progress page and the client's record live in
``progress_views`` and ``record_views`` and join the same blueprint below.
Every page that shows clinical content leaves exactly one audit row per read.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from clinic import clock
from clinic.accounts.permissions import is_staff
from clinic.booking.models import Booking
from clinic.db import get_session
from clinic.intake import screening as engine
from clinic.intake.vocabulary import technique_name
from clinic.notes import progress, progress_views, queries, record_views, services
from clinic.notes.access import (
    audit_read,
    booking_or_404,
    may_read,
    staff_or_403,
)
from clinic.notes.forms import (
    EXTENT_TREND_CHOICES,
    RESPONSE_CHOICES,
    AddendumForm,
    NoteForm,
)
from clinic.notes.models import SessionNote
from clinic.notes.prefill import prefill
from clinic.web import actor, commit, rollback, settings

bp = Blueprint("notes", __name__, url_prefix="/notes")

_EXTENT_TRENDS = dict(EXTENT_TREND_CHOICES)
_RESPONSES = dict(RESPONSE_CHOICES)

bp.add_url_rule("/clients/<id:client_id>/progress",
                view_func=progress_views.client_progress, endpoint="progress")
bp.add_url_rule("/my-record", view_func=record_views.my_record)
bp.add_url_rule("/my-record.json", view_func=record_views.my_record_json)


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "technique_name": technique_name,
        "technique_names": lambda keys: ", ".join(technique_name(k) for k in keys),
        "extent_trend_label": lambda value: _EXTENT_TRENDS.get(value, "Not recorded"),
        "response_label": lambda value: _RESPONSES.get(
            getattr(value, "value", value), "Not recorded"),
        "extent_label": progress.extent_label,
        "advisory_text": lambda advisory_id: engine.advisory(advisory_id).text,
    }


@bp.app_context_processor
def _notes_link() -> dict[str, Any]:
    """Other features' pages (the client's screening record) link to the
    progress page only for staff who may open it, without importing notes."""

    def progress_url(client_id: int) -> str | None:
        if not is_staff(current_user) or not may_read(get_session(), client_id):
            return None
        return url_for("notes.progress", client_id=client_id)

    return {"progress_url": progress_url}


@bp.route("/booking/<id:booking_id>", methods=["GET", "POST"])
@login_required
def session_note(booking_id: int) -> Response | str:
    """A session's note: the form for its therapist until signed, then the
    signed note with its addenda. Other permitted staff read it."""
    writing = request.method == "POST"
    staff_or_403("update" if writing else "view", "session_note")
    db = get_session()
    booking = booking_or_404(db, booking_id, "update" if writing else "view",
                             write=writing)
    if writing:
        return _save(db, booking)
    note = queries.note_of(db, booking.id)
    audit_read("view", "session_note", note.id if note else None,
               subject_user_id=booking.client_id)
    return _render(db, booking, note)


def _save(db: Session, booking: Booking) -> Response | str:
    context = queries.context_for(db, booking)
    form = NoteForm()
    form.offer_advisories(context.advisories)
    sign = request.form.get("intent") == "sign"
    if not form.validate_on_submit():
        return _render(db, booking, queries.note_of(db, booking.id), form=form)
    try:
        services.save_note(db, booking, current_user, form.to_input(),
                           actor=actor(), now=clock.now(), sign=sign)
    except services.NoteInvalid as exc:
        rollback(db)
        for name, message in exc.errors.items():
            form[name].errors = [*form[name].errors, message]
    except services.NoteError as exc:
        rollback(db)
        note = queries.note_of(db, booking.id)
        audit_read("update", "session_note", note.id if note else None,
                   subject_user_id=booking.client_id, allowed=False)
        return _render(db, booking, note, form=form, refusal=str(exc))
    else:
        commit(db)
        flash("Note signed. It can no longer be changed; add an addendum to "
              "correct it." if sign else "Draft saved.", "success")
        return redirect(url_for(".session_note", booking_id=booking.id))
    return _render(db, booking, queries.note_of(db, booking.id), form=form)


@bp.post("/booking/<id:booking_id>/addenda")
@login_required
def add_addendum(booking_id: int) -> Response | str:
    """A dated correction under a signed note, by its author."""
    staff_or_403("create", "note_addendum")
    db = get_session()
    booking = booking_or_404(db, booking_id, "create", "note_addendum", write=True)
    note = queries.note_of(db, booking.id)
    form = AddendumForm()
    if form.validate_on_submit():
        try:
            services.add_addendum(db, note_or_refuse(note), current_user,
                                  form.text.data, actor=actor(), now=clock.now())
        except services.NoteError as exc:
            rollback(db)
            audit_read("create", "note_addendum", None,
                       subject_user_id=booking.client_id, allowed=False)
            form.text.errors = [*form.text.errors, str(exc)]
        else:
            commit(db)
            flash("Addendum added under the note.", "success")
            return redirect(url_for(".session_note", booking_id=booking.id,
                                    _anchor="addenda"))
    return _render(db, booking, queries.note_of(db, booking.id), addendum_form=form)


def note_or_refuse(note: SessionNote | None) -> SessionNote:
    if note is None:
        raise services.NoteError("There is no signed note to add to yet.")
    return note


def _render(
    db: Session, booking: Booking, note: SessionNote | None, *,
    form: NoteForm | None = None, addendum_form: AddendumForm | None = None,
    refusal: str | None = None,
) -> str:
    context = queries.context_for(db, booking)
    writer = booking.therapist_id == current_user.id
    blocked = [reason for reason in (
        services.write_refusal(booking, current_user, clock.now()),
        services.ACKNOWLEDGE_FIRST if context.needs_acknowledgement else None,
    ) if reason]
    signed = note is not None and note.is_signed
    start = None
    if writer and not signed and not blocked and form is None:
        start = prefill(db, context, settings().zone)
        values = _form_values(note) if note else dict(start.values)
        if values.get("extent_level") is not None:
            values["extent_level"] = str(values["extent_level"])
        form = NoteForm(data=values)
        form.offer_advisories(context.advisories)
    if writer and signed and addendum_form is None:
        addendum_form = AddendumForm(formdata=None)
    return render_template(
        "notes/note.html", booking=booking, note=note, context=context,
        writer=writer, blocked=blocked if writer else [], refusal=refusal,
        form=form if writer and not signed and not blocked else None,
        addendum_form=addendum_form if writer and signed else None,
        start=start, client_page=progress_views.client_page(booking.client_id),
    )


def _form_values(note: SessionNote) -> dict[str, Any]:
    values = {name: getattr(note, name) for name in (
        "subjective", "objective", "assessment", "plan", "areas_treated",
        "areas_avoided", "nprs_before", "nprs_after", "extent_trend", "home_care",
        "techniques_used", "advisories")}
    values["pressure"] = note.pressure.value if note.pressure else None
    values["previous_response"] = (
        note.previous_response.value if note.previous_response else None
    )
    values["extent_level"] = note.extent_level
    return values
