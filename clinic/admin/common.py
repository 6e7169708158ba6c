"""Helpers the admin views share: errors onto fields, the "which bookings
does this touch" question, 404s."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import abort, render_template, request
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session

from clinic.booking.admin_schedule import DecisionNeeded, Handling
from clinic.booking.admin_services import AdminError, NotFound
from clinic.booking.models import Booking
from clinic.web import rollback

# Fields of the decision step; everything else on the page is the change
# itself, carried through the question in hidden inputs.
DECISION_FIELDS = frozenset({"csrf_token", "seen", "decision", "cancel_reason"})


def get_or_404(db: Session, model: type[Any], record_id: int) -> Any:
    found = db.get(model, record_id)
    if found is None:
        abort(404)
    return found


def show_error(db: Session, form: FlaskForm, exc: AdminError) -> None:
    """Undo the request's work and put the message next to its field.
    :raise 404: for a record that does not exist."""
    rollback(db)
    if isinstance(exc, NotFound):
        abort(404)
    if exc.field and exc.field in form:
        form[exc.field].errors = [*form[exc.field].errors, str(exc)]
    else:
        form.form_errors.append(str(exc))


def handling(decision: Any) -> Handling | None:
    """The admin's answer, when this request is the reply to the question."""
    if "seen" not in request.form or not decision.validate():
        return None
    reason = decision.cancel_reason.data if decision.decision.data == "cancel" else None
    return Handling(decision.seen_ids(), reason)


def ask(db: Session, exc: DecisionNeeded, decision: Any, form: FlaskForm,
        **page: Any) -> str:
    """The confirmation page: the affected bookings and the choices.

    ``page`` gives title, summary, confirm (button), back_url and back."""
    rollback(db)
    changed = changed_since_seen(decision, exc)
    decision.seen.data = ",".join(str(b.id) for b in exc.bookings)
    carried = [(name, value) for name, value in request.form.items(multi=True)
               if name not in DECISION_FIELDS]
    replying = "seen" in request.form
    return render_template(
        "admin/confirm.html", bookings=exc.bookings, decision=decision, form=form,
        carried=carried, changed=changed, replying=replying, **page)


def changed_since_seen(decision: Any, exc: DecisionNeeded) -> bool:
    """Whether this is a reply about a different set of bookings than the
    ones now affected (someone booked or cancelled meanwhile)."""
    return "seen" in request.form and decision.seen_ids() != {
        b.id for b in exc.bookings}


def cancelled_note(bookings: Sequence[Booking]) -> str:
    if not bookings:
        return ""
    count = len(bookings)
    noun = "booking was" if count == 1 else "bookings were"
    return f" {count} {noun} cancelled and the clients emailed."
