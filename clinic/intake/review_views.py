"""Staff pages: the review queue, the client list, a client's screening record,
acknowledging a caution and recording a clinician's clearance note.

Routed by ``clinic.intake.views`` (the blueprint's URL map). Every page that
shows clinical content leaves exactly one audit row per read.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from clinic import clock
from clinic.accounts.forms import EmptyForm
from clinic.accounts.models import Role
from clinic.accounts.permissions import role_required
from clinic.audit.services import record
from clinic.db import get_session
from clinic.intake import queries, services, vocabulary
from clinic.intake import screening as engine
from clinic.intake.access import (
    audit_read,
    client_or_404,
    screening_or_404,
    staff_or_403,
)
from clinic.intake.forms import ClearanceForm, ClientSearchForm, options
from clinic.intake.models import IntakeKind, ReceivedVia, Screening
from clinic.intake.vocabulary import Kind, Section
from clinic.web import actor, commit, rollback, settings, signed_in

STAFF = (Role.THERAPIST, Role.ADMIN)


# ---------------------------------------------------------------- lists


@role_required(*STAFF)
def review_queue() -> str:
    """Urgent alerts, clients awaiting clearance, cautions to acknowledge."""
    entries = queries.review_queue(get_session())
    audit_read("list", "screening", None, subject_user_id=None)
    groups: dict[str, list[queries.ClientStatus]] = {
        "urgent": [], "clearance": [], "acknowledge": []
    }
    for entry in entries:
        groups[entry.attention].append(entry)
    booked = queries.booked_cautions(get_session(), clock.now())
    return render_template("intake/review_queue.html", groups=groups, booked=booked)


@role_required(*STAFF)
def clients() -> str:
    """Clients with their current screening status, searchable by name or email."""
    form = ClientSearchForm(formdata=request.args)
    search = (form.q.data or "") if form.validate() else ""
    page = request.args.get("page", 1, type=int)
    listing = queries.client_overview(get_session(), search, page)
    audit_read("list", "screening", None, subject_user_id=None)
    return render_template("intake/clients.html", form=form, listing=listing,
                           search=search)


# ---------------------------------------------------------------- a client's record


@dataclass(frozen=True)
class ScreeningView:
    """One screening as the staff record shows it."""

    screening: Screening
    result: engine.ScreeningResult
    kind: str
    fired: list[tuple[str, str, str]]  # rule id, title, therapist rationale
    answers: list[tuple[Section, list[tuple[str, str]]]]


@login_required
def client_record(client_id: int) -> str:
    """Every screening of one client with its reasons, answers and clearances."""
    staff_or_403("view", "intake", client_id)
    db = get_session()
    client = client_or_404(db, client_id, "view", "intake")
    history = services.screening_history(db, client.id)
    firsts = queries.first_screening_ids(db, client.id)
    latest = history[0] if history else None
    audit_read("view", "intake", latest.intake_id if latest else None,
               subject_user_id=client.id)
    return render_template(
        "intake/client.html",
        client=client,
        views=[_view(s, firsts) for s in history],
        latest=latest,
        booked=queries.booked_screenings(db, client.id),
        clearable=_clearable(latest),
        clearances=queries.clearances_of(db, client.id),
        now=clock.now(),
        socks=engine.advisory("A-COMPRESSION-SOCKS"),
        advisory_text=lambda advisory_id: engine.advisory(advisory_id).text,
        ack_form=EmptyForm(),
    )


def _view(shown: Screening, firsts: set[int]) -> ScreeningView:
    result = services.result_of(shown)
    fired = [
        (rule_id, engine.rule(rule_id).title, note.removeprefix(f"{rule_id}: "))
        for rule_id, note in zip(result.fired_rules, result.therapist_notes,
                                 strict=False)
    ]
    return ScreeningView(shown, result, kind_label(shown, firsts), fired,
                         readable_answers(shown.intake.answers))


def kind_label(shown: Screening, firsts: set[int]) -> str:
    if shown.id not in firsts:
        return "After a clearance note"
    if shown.intake.kind is IntakeKind.FULL:
        return "Full questionnaire"
    return "Re-screen before booking"


def readable_answers(
    answers: Mapping[str, Any],
) -> list[tuple[Section, list[tuple[str, str]]]]:
    """The answers as question and label, grouped by section (never raw keys)."""
    return [
        (section, [(spec.question, answer_text(spec, answers.get(spec.key)))
                   for spec in vocabulary.fields_in_section(section.key)])
        for section in vocabulary.SECTIONS
    ]


def answer_text(spec: vocabulary.Field, value: Any) -> str:
    if value is None or value == []:
        return "Not answered"
    if spec.kind is Kind.INTEGER:
        return str(value)
    if spec.kind is Kind.ENUM:
        return _label(spec, value)
    if not isinstance(value, list):
        return _label(spec, value)
    return "; ".join(_label(spec, item) for item in value)


def _label(spec: vocabulary.Field, value: Any) -> str:
    if isinstance(value, str) and value in spec.values:
        return spec.label(value)
    return f"Not a listed answer ({value!r})"


def _clearable(latest: Screening | None) -> list[str]:
    """The rules of the latest screening a clinician's note can clear."""
    if latest is None:
        return []
    return [r for r in latest.fired_rules if r in engine.CLEARABLE_RULE_IDS]


# ---------------------------------------------------------------- actions


@role_required(*STAFF)
def acknowledge(screening_id: int) -> Response:
    """Record that this therapist reviewed a caution (who and when)."""
    db = get_session()
    shown = screening_or_404(db, screening_id, action="acknowledge")
    back = url_for(".client_record", client_id=shown.client_id,
                   _anchor=f"screening-{shown.id}")
    try:
        services.acknowledge(db, shown, current_user, clock.now())
        record(db, actor(), "acknowledge", "screening", shown.id,
               subject_user_id=shown.client_id)
        commit(db)
    except services.IntakeError as exc:
        rollback(db)
        flash(str(exc), "error")
    except IntegrityError:
        rollback(db)  # another therapist acknowledged it at the same moment
        flash("This screening has just been acknowledged by someone else.", "info")
    else:
        flash("Acknowledged. The session can go ahead with these precautions.",
              "success")
    return redirect(back)


@login_required
def clearance(client_id: int) -> Response | str:
    """Record a clinician's clearance note and re-screen with it (§3.2)."""
    staff_or_403("view", "clearance", client_id)
    db = get_session()
    client = client_or_404(db, client_id, "view", "clearance")
    latest = services.latest_screening(db, client.id)
    clearable = _clearable(latest)
    form = _clearance_form(clearable)
    if request.method == "GET":
        audit_read("view", "screening", latest.id if latest else None,
                   subject_user_id=client.id)
    elif not clearable:
        form.form_errors.append("Nothing in the latest answers needs a clearance note.")
    elif form.validate_on_submit():
        try:
            recorded = services.record_clearance(
                db, client, _note(form), by=signed_in(), settings=settings(),
                now=clock.now(),
            )
        except services.IntakeError as exc:
            rollback(db)
            form.form_errors.append(str(exc))
        else:
            record(db, actor(), "create", "clearance", recorded.clearance.id,
                   subject_user_id=client.id)
            commit(db)
            flash(f"Clearance note recorded. The outcome is now "
                  f"{recorded.screening.outcome}.", "success")
            return redirect(url_for(".client_record", client_id=client.id))
    return render_template("intake/clearance.html", form=form, client=client,
                           latest=latest, clearable=clearable,
                           valid_days=settings().clearance_valid_days)


def _clearance_form(clearable: Sequence[str]) -> ClearanceForm:
    urgent = [r for r in clearable if engine.rule(r).outcome is engine.Outcome.URGENT]
    today = clock.now().astimezone(settings().zone).date()
    form = ClearanceForm(today=today, urgent_rules=urgent)
    form.rule_ids.choices = options(
        (r, f"{r}: {engine.rule(r).title}") for r in clearable
    )
    return form


def _note(form: ClearanceForm) -> services.ClearanceNote:
    return services.ClearanceNote(
        clinician_name=form.clinician_name.data,
        profession=form.profession_text,
        note_date=form.note_date.data,
        rule_ids=frozenset(form.rule_ids.data),
        restrictions=form.restrictions.data or "",
        excluded_override=form.excluded_override,
        urgent_assessed=form.urgent_assessed.data,
        received_via=ReceivedVia(form.received_via.data),
    )
