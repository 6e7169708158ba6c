"""Intake questionnaire, outcome pages, therapist review and clearances.

This module owns the blueprint and its whole URL map. The client's pages are
defined here; the staff pages live in ``review_views`` and are added to the
same blueprint below with ``add_url_rule`` (one blueprint, so every endpoint
is ``intake.<name>``; no import-at-the-bottom, and importing the package's
pure modules never drags the views in).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import (
    Blueprint,
    current_app,
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
from clinic.accounts.models import Role, User
from clinic.accounts.permissions import role_required
from clinic.accounts.views import safe_next
from clinic.audit.services import record
from clinic.db import get_session
from clinic.intake import queries, review_views, screening, services, vocabulary
from clinic.intake.access import (
    audit_read,
    client_or_404,
    screening_or_404,
)
from clinic.intake.forms import (
    BP_GROUP,
    BP_LEGEND,
    QuestionnaireForm,
    RescreenForm,
    age_on,
)
from clinic.intake.models import Screening
from clinic.web import actor, commit, rollback, settings, signed_in

bp = Blueprint("intake", __name__, url_prefix="/intake")

bp.add_url_rule("/review", view_func=review_views.review_queue)
bp.add_url_rule("/clients", view_func=review_views.clients)
bp.add_url_rule("/clients/<id:client_id>", view_func=review_views.client_record)
bp.add_url_rule("/clients/<id:client_id>/clearance",
                view_func=review_views.clearance, methods=["GET", "POST"])
bp.add_url_rule("/screenings/<id:screening_id>/acknowledge",
                view_func=review_views.acknowledge, methods=["POST"])


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "technique_name": vocabulary.technique_name,
        "outcome_label": lambda outcome: OUTCOME_LABELS[outcome],
        "client_outcome_label": lambda outcome: CLIENT_OUTCOME_LABELS[outcome],
        "kind_label": review_views.kind_label,
        "bp_group": BP_GROUP,
        "bp_legend": BP_LEGEND,
        "confidentiality_notice": vocabulary.CONFIDENTIALITY_NOTICE,
    }


OUTCOME_LABELS = {"urgent": "Urgent", "refer": "Refer", "caution": "Caution",
                  "clear": "Clear"}
CLIENT_OUTCOME_LABELS = {
    "urgent": "Get medical help now",
    "refer": "See a clinician before booking",
    "caution": "You can book (with some precautions)",
    "clear": "You can book",
}


# ---------------------------------------------------------------- questionnaire


@bp.route("/", methods=["GET", "POST"])
@role_required(Role.CLIENT)
def questionnaire() -> Response | str:
    """The full questionnaire; each submission is a new, immutable intake."""
    db = get_session()
    target = safe_next(request.args.get("next"))
    age = _age_from_birth_date()
    form = QuestionnaireForm() if request.method == "POST" else QuestionnaireForm(
        age_years=age
    )
    if form.validate_on_submit():
        me = signed_in()
        result = services.submit_intake(db, me, form.answers(), by=me,
                                        settings=settings(), now=clock.now())
        record(db, actor(), "create", "intake", result.intake_id,
               subject_user_id=me.id)
        commit(db)
        return _after_screening(result, target)
    previous = services.latest_full_intake(db, current_user.id)
    return render_template("intake/questionnaire.html", form=form, target=target,
                           previous=previous, age_prefilled=age is not None)


def _age_from_birth_date() -> int | None:
    born = current_user.date_of_birth
    if born is None:
        return None
    return age_on(born, clock.now().astimezone(settings().zone).date())


@bp.route("/rescreen", methods=["GET", "POST"])
@role_required(Role.CLIENT)
def rescreen() -> Response | str:
    """The safety questions again before a booking (§3.2).

    Bookable: back to ``next`` with ``screening=<id>`` added for the booking
    flow's gate. Not bookable: the outcome page.
    """
    db = get_session()
    target = safe_next(request.args.get("next"))
    if not services.has_full_intake(db, current_user.id):
        flash("Before your first booking, please answer the health questions.", "info")
        return redirect(url_for(".questionnaire", next=target))
    form = RescreenForm()
    if form.validate_on_submit():
        result = _save_rescreen(db, signed_in(), form)
        if result is not None:
            return _after_screening(result, target)
    return render_template("intake/rescreen.html", form=form, target=target)


def _save_rescreen(db: Session, client: User, form: RescreenForm) -> Screening | None:
    """Screen the re-asked answers for ``client`` and commit, or put the
    refusal on the form and return None."""
    try:
        result = services.submit_rescreen(db, client, form.answers(),
                                          by=signed_in(), settings=settings(),
                                          now=clock.now())
    except services.IntakeError as exc:
        rollback(db)
        form.form_errors.append(str(exc))
        return None
    record(db, actor(), "create", "intake", result.intake_id,
           subject_user_id=client.id, detail="rescreen")
    commit(db)
    return result


@bp.route("/clients/<id:client_id>/rescreen", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def rescreen_for(client_id: int) -> Response | str:
    """An admin reads the safety questions to a client (on the phone) before
    booking for them. Bookable: on to ``next`` with ``screening=<id>``; not
    bookable: the client's staff record, where the reasons are."""
    db = get_session()
    client = client_or_404(db, client_id, "create", "intake")
    target = safe_next(request.args.get("next"))
    form = RescreenForm()
    if form.validate_on_submit():
        result = _save_rescreen(db, client, form)
        if result is not None:
            return _after_staff_screening(result, client, target)
    return render_template("intake/rescreen_for.html", form=form, target=target,
                           client=client,
                           has_intake=services.has_full_intake(db, client.id))


def _after_staff_screening(result: Screening, client: User,
                           target: str | None) -> Response:
    if result.booking_allowed and target:
        return redirect(with_screening(target, result.id))
    if result.booking_allowed:
        flash(f"{client.full_name} can book.", "success")
    else:
        flash(f"{client.full_name} cannot be booked now: "
              f"{OUTCOME_LABELS[result.outcome]}. The reasons are below.", "warning")
    return redirect(url_for(".client_record", client_id=client.id))


def _after_screening(result: Screening, target: str | None) -> Response:
    if result.booking_allowed and target:
        return redirect(with_screening(target, result.id))
    return redirect(url_for(".outcome", screening_id=result.id))


def with_screening(target: str, screening_id: int) -> str:
    """`target` (a safe local path) with ``screening=<id>`` in its query."""
    parts = urlsplit(target)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(key, value) for key, value in pairs if key != "screening"]
    query.append(("screening", str(screening_id)))
    return urlunsplit(("", "", parts.path, urlencode(query), parts.fragment))


# ---------------------------------------------------------------- outcome pages


@bp.get("/screenings/<id:screening_id>")
@login_required
def outcome(screening_id: int) -> str:
    """What a screening means for the client (§3.1). :raise 404: not theirs."""
    db = get_session()
    shown = screening_or_404(db, screening_id)
    audit_read("view", "screening", shown.id, subject_user_id=shown.client_id)
    result = services.result_of(shown)
    latest = services.latest_screening(db, shown.client_id)
    return render_template(
        "intake/outcome.html",
        screening=shown,
        result=result,
        is_latest=latest is not None and latest.id == shown.id,
        booking_url=_booking_url(db, shown, result),
        needs_note=_needs_clearance_note(result),
        booking_blocked=not result.booking_allowed,
        emergency_number=settings().emergency_number,
        valid_days=settings().clearance_valid_days,
        unconfirmed=[vocabulary.field(k).question for k in result.unconfirmed_fields],
        caution_heading=screening.CAUTION_HEADING,
    )


def _booking_url(
    db: Session, shown: Screening, result: screening.ScreeningResult
) -> str | None:
    """Where "Book a session" goes: the booking flow, with this screening when
    it is still valid for a booking (else booking asks the questions again)."""
    if (not result.booking_allowed or shown.client_id != current_user.id
            or "booking.start" not in current_app.view_functions):
        return None
    gate = services.booking_gate(db, shown.client_id, shown.id, clock.now())
    if gate.allowed:
        return url_for("booking.start", screening=shown.id)
    return url_for("booking.start")


def _needs_clearance_note(result: screening.ScreeningResult) -> bool:
    """A refer outcome that only a clinician's note can lift (not just
    R-UNCONFIRMED, which answering the questions lifts)."""
    return any(
        screening.rule(rule_id).outcome is screening.Outcome.REFER
        and rule_id != "R-UNCONFIRMED" and rule_id not in result.cleared_rules
        for rule_id in result.fired_rules
    )


@bp.get("/history")
@role_required(Role.CLIENT)
def history() -> str:
    """The client's own screenings, newest first."""
    db = get_session()
    screenings = services.screening_history(db, current_user.id)
    audit_read("list", "screening", None, subject_user_id=current_user.id)
    return render_template("intake/history.html", screenings=screenings,
                           firsts=queries.first_screening_ids(db, current_user.id))
