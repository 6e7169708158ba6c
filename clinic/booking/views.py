"""Client booking: choose, see free times, confirm (a client's own sessions,
cancelling and rescheduling are in ``my_views``).

The flow is start -> the intake's re-screen (the safety questions come before
every booking) -> times (free slots, one POST button each) -> confirm ->
detail. Pages read the clock through ``clinic.clock`` so tests can fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from clinic import clock
from clinic.accounts.forms import EmptyForm
from clinic.accounts.models import Role, User
from clinic.accounts.permissions import role_required
from clinic.booking import queries, services
from clinic.booking.forms import (
    ConfirmForm,
    StartForm,
    TimesQuery,
    choices,
    first_error,
    parse_id,
)
from clinic.booking.models import Booking, Service
from clinic.db import get_session
from clinic.forms import ClinicForm
from clinic.intake.services import (
    BookingGate,
    BookingNotAllowed,
    booking_gate,
    latest_screening,
    result_of,
)
from clinic.intake.vocabulary import TECHNIQUE_NAMES
from clinic.templating import format_local
from clinic.web import commit, rollback, settings, signed_in

bp = Blueprint("booking", __name__, url_prefix="/booking")

DAYS_PER_PAGE = 7


@bp.context_processor
def _booking_globals() -> dict[str, Any]:
    s = settings()
    return {
        "technique_names": TECHNIQUE_NAMES,
        "phone": s.clinic_phone,
        "zone_name": s.timezone,
        "has_endpoint": lambda endpoint: endpoint in current_app.view_functions,
        "booking_for": g.get("booking_for"),
        "booking_url": _url,
    }


# --- booking on a client's behalf ----------------------------------------------------
# An admin books for a client through the same pages under /booking/for/<id>/: the
# ``*_for`` views set ``g.booking_for`` and every gate, technique and free time
# below is then that client's.


def _client() -> User:
    """Whom this booking is for: the signed-in client, or the admin's client."""
    acting: User | None = g.get("booking_for")
    return acting if acting is not None else signed_in()


def _url(name: str, **values: Any) -> str:
    """A booking page's URL, for the same client as this request's."""
    acting: User | None = g.get("booking_for")
    if acting is None:
        return url_for(f"booking.{name}", **values)
    return url_for(f"booking.{name}_for", client_id=acting.id, **values)


def _act_for(client_id: int) -> None:
    """:raise 404: no such active client (ids must not leak)."""
    client = get_session().get(User, client_id)
    if client is None or client.role is not Role.CLIENT or not client.active:
        abort(404)
    g.booking_for = client


def rescreen_url(next_path: str) -> str:
    """The intake's safety questions, coming back to ``next_path`` after."""
    acting: User | None = g.get("booking_for")
    if acting is not None:
        return url_for("intake.rescreen_for", client_id=acting.id, next=next_path)
    if "intake.rescreen" in current_app.view_functions:
        return url_for("intake.rescreen", next=next_path)
    return "/intake/rescreen?" + urlencode({"next": next_path})


@dataclass(frozen=True)
class Techniques:
    """What the client may choose, best first, and what we suggest (and why)."""

    keys: tuple[str, ...] = ()
    suggested: str | None = None
    reason: str = ""
    blocked: str = ""  # why the client cannot book now
    needs_intake: bool = False

    @classmethod
    def of(cls, gate: BookingGate) -> Techniques:
        return cls(gate.techniques, gate.suggested, gate.suggestion_reason)


def _techniques(gate: BookingGate | None) -> Techniques:
    """From a fresh screening (``gate``), else from the latest one."""
    if gate is not None and gate.allowed:
        return Techniques.of(gate)
    latest = latest_screening(get_session(), _client().id)
    if latest is None:
        return Techniques(blocked="Please complete the health questionnaire before "
                          "you book.", needs_intake=True)
    result = result_of(latest)
    if not result.booking_allowed:
        return Techniques(blocked=" ".join(result.client_messages))
    return Techniques(result.technique_ranking, result.top_technique,
                      result.suggestion_reason)


def _fill_start_form(form: StartForm, techniques: Techniques) -> None:
    db = get_session()
    form.service.choices = choices([
        (s.id, f"{s.name}: {s.duration_minutes} minutes, £{s.price_pence / 100:.2f}")
        for s in queries.bookable_services(db)
    ])
    form.technique.choices = choices([
        (key, TECHNIQUE_NAMES[key] + (" (suggested)" if key == techniques.suggested
                                      else ""))
        for key in techniques.keys
    ])
    form.therapist.choices = choices(
        [("", "Any therapist")]
        + [(t.user_id, t.user.full_name) for t in queries.active_therapists(db)]
    )
    if form.technique.data is None:
        form.technique.data = techniques.suggested
    if form.service.data is None and len(form.service.choices) == 1:
        form.service.data = parse_id(form.service.choices[0].value)


@bp.get("/")
@role_required(Role.CLIENT)
def start() -> Response | str:
    """Choose a service and technique; then answer the safety questions."""
    return _start()


@bp.get("/for/<id:client_id>/")
@role_required(Role.ADMIN)
def start_for(client_id: int) -> Response | str:
    """An admin starts a booking for a client (the same gate applies)."""
    _act_for(client_id)
    return _start()


def _email_first() -> str | None:
    """The page asking a client to confirm their address before booking
    online; staff booking on their behalf need not wait for it."""
    if g.get("booking_for") is None and current_user.email_verified_at is None:
        return render_template("booking/confirm_email_first.html", form=EmptyForm(),
                               message=services.CONFIRM_EMAIL_FIRST)
    return None


def _start() -> Response | str:
    if (page := _email_first()) is not None:
        return page
    submitted = bool(set(request.args) - {"screening"})
    form = StartForm(formdata=request.args if submitted else None)
    screening_id = parse_id(request.args.get("screening"))
    gate = (booking_gate(get_session(), _client().id, screening_id, clock.now())
            if screening_id else None)
    techniques = _techniques(gate)
    _fill_start_form(form, techniques)
    if submitted and form.validate() and _therapist_offers(form):
        params = {"service": form.service.data, "technique": form.technique.data,
                  "therapist": form.therapist.data or ""}
        if gate is not None and gate.allowed:
            return redirect(_url("times", **params, screening=gate.screening.id))
        return redirect(rescreen_url(_url("times", **params)))
    return render_template(
        "booking/start.html", form=form, techniques=techniques,
        screening_id=gate.screening.id if gate and gate.allowed else None,
        rescreen=rescreen_url(_url("start")))


def _therapist_offers(form: StartForm) -> bool:
    if form.therapist.data is None:
        return True
    if queries.eligible_therapists(get_session(), form.service.data,
                                   form.technique.data, form.therapist.data):
        return True
    form.therapist.errors.append(
        "That therapist does not offer this service with this technique. "
        "Please choose another therapist, or any therapist."
    )
    return False


# --- free times ----------------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    number: int
    last: int
    first_day: date

    @classmethod
    def page(cls, asked: int) -> Week:
        s, now = settings(), clock.now()
        today = queries.today(s, now)
        last = (queries.last_bookable_day(s, now) - today).days // DAYS_PER_PAGE
        number = max(0, min(asked, last))
        return cls(number, last, today + timedelta(days=number * DAYS_PER_PAGE))


def problem(message: str, *, back: str, back_label: str,
            rescreen: str | None = None, questionnaire: str | None = None) -> str:
    return render_template("booking/problem.html", message=message, back=back,
                           back_label=back_label, rescreen=rescreen,
                           questionnaire=questionnaire)


def service_or_none(service_id: int | None) -> Service | None:
    service = get_session().get(Service, service_id) if service_id else None
    return service if service is not None and service.active else None


@bp.get("/times")
@role_required(Role.CLIENT)
def times() -> str:
    """Free slots for the chosen service, technique and therapist, by day."""
    return _times()


@bp.get("/for/<id:client_id>/times")
@role_required(Role.ADMIN)
def times_for(client_id: int) -> str:
    _act_for(client_id)
    return _times()


def _times() -> str:
    if (page := _email_first()) is not None:
        return page
    query = TimesQuery(formdata=request.args)
    restart = {"back": _url("start"), "back_label": "Start again"}
    if not query.validate():
        return problem(first_error(query), **restart)
    gate = booking_gate(get_session(), _client().id, query.screening.data,
                        clock.now())
    if not gate.allowed:
        args = {k: v for k, v in request.args.items() if k != "screening"}
        again = rescreen_url(_url("times", **args))
        # Only the client can answer the whole questionnaire (online).
        questionnaire = (url_for("intake.questionnaire", next=request.full_path)
                         if gate.needs_questionnaire and not g.get("booking_for")
                         else None)
        return problem(gate.reason, **restart,
                       rescreen=again if gate.needs_rescreen else None,
                       questionnaire=questionnaire)
    service = service_or_none(query.service.data)
    if service is None:
        return problem("That service is not available to book.", **restart)
    return _render_times(gate, service, query)


def _render_times(gate: BookingGate, service: Service, query: TimesQuery) -> str:
    notice, technique = "", query.technique.data
    if technique not in gate.techniques:
        notice = (f"{TECHNIQUE_NAMES.get(technique, 'That technique')} is not "
                  "suitable after your safety answers, so we show times for "
                  f"{TECHNIQUE_NAMES[gate.suggested]}. ")
        technique = gate.suggested
    therapists = queries.eligible_therapists(get_session(), service.id, technique)
    therapist_id = query.therapist.data
    if therapist_id is not None and therapist_id not in {t.user_id for t in therapists}:
        notice += "That therapist does not offer this, so we show every therapist."
        therapist_id = None
    week = Week.page(query.week.data or 0)
    offers = offers_for(service, technique, therapist_id, week.first_day)
    form = ConfirmForm(formdata=None, service_id=service.id, technique=technique,
                       therapist_id=therapist_id, screening_id=gate.screening.id)
    page: dict[str, Any] = {"service": service.id, "technique": technique,
                            "therapist": therapist_id or "",
                            "screening": gate.screening.id}
    if g.get("booking_for") is not None:
        page["client_id"] = _client().id
    return render_template(
        "booking/times.html", service=service, technique=technique,
        techniques=Techniques.of(gate), therapists=therapists,
        therapist_id=therapist_id, notice=notice.strip(), page=page, week=week,
        days=queries.by_day(offers), form=form, action=_url("confirm"),
        times_endpoint="booking.times_for" if "client_id" in page else "booking.times")


def offers_for(service: Service, technique: str, therapist_id: int | None,
               first_day: date, booking: Booking | None = None) -> list[queries.Offer]:
    return queries.available_slots(
        get_session(), client_id=_client().id, service=service,
        technique=technique, therapist_id=therapist_id, start_day=first_day,
        days=DAYS_PER_PAGE, settings=settings(), now=clock.now(),
        exclude_booking_id=booking.id if booking else None)


# --- confirm -------------------------------------------------------------------------


@bp.post("/confirm")
@role_required(Role.CLIENT)
def confirm() -> Response | str:
    """Book the chosen slot; every rule is checked again in this transaction."""
    return _confirm()


@bp.post("/for/<id:client_id>/confirm")
@role_required(Role.ADMIN)
def confirm_for(client_id: int) -> Response | str:
    _act_for(client_id)
    return _confirm()


def _confirm() -> Response | str:
    if (page := _email_first()) is not None:
        return page
    db, form = get_session(), ConfirmForm()
    if not form.validate():
        return problem(first_error(form), back=_url("start"),
                       back_label="Start again")
    try:
        booking = services.book_session(
            db, client=_client(), booked_by=signed_in(),
            service_id=form.service_id.data, technique=form.technique.data,
            therapist_id=form.therapist_id.data, start=form.start.data,
            screening_id=form.screening_id.data, settings=settings(),
            now=clock.now(), ip=request.remote_addr)
    except BookingNotAllowed as exc:
        rollback(db)
        return problem(str(exc), back=_url("start"), back_label="Start again",
                       rescreen=rescreen_url(_times_url(form)))
    except services.BookingError as exc:
        rollback(db)
        all_times = f"{_times_url(form)}&screening={form.screening_id.data or ''}"
        return refused(exc, form, all_times, _url("confirm"),
                       service=service_or_none(form.service_id.data),
                       technique=form.technique.data)
    commit(db)
    if g.get("booking_for") is not None:
        return _booked_for(booking)
    flash(f"Your {booking.service.name} is booked for "
          f"{format_local(booking.starts_at)}.", "success")
    return redirect(url_for("booking.detail", booking_id=booking.id))


def _times_url(form: ConfirmForm) -> str:
    """The free times of the service and technique chosen (a refusal's way
    back; built only then: it is not free, and most bookings succeed)."""
    return _url("times", service=form.service_id.data, technique=form.technique.data,
                therapist=form.therapist_id.data or "")


def _booked_for(booking: Booking) -> Response:
    """The admin's next page: the clinic's schedule on the booked day."""
    flash(f"{booking.service.name} booked for {_client().full_name} on "
          f"{format_local(booking.starts_at)}. We have emailed them to confirm.",
          "success")
    day = booking.starts_at.astimezone(settings().zone).date().isoformat()
    return redirect(url_for("schedule.clinic", date=day))


def refused(exc: services.BookingError, form: ClinicForm, all_times: str,
            action: str, *, service: Service | None, technique: str,
            booking: Booking | None = None) -> str:
    """A refused time: the reason and the free times nearest to it (a race
    loser reads "That time was just taken"); other refusals: the reason."""
    slot_error = isinstance(exc, services.SlotTaken | services.SlotUnavailable)
    if not slot_error or service is None:
        return problem(str(exc), back=all_times, back_label="See free times")
    taken = isinstance(exc, services.SlotTaken) or getattr(exc, "taken", False)
    start: datetime = form.start.data  # type: ignore[attr-defined]
    offers = queries.nearby_free_slots(
        get_session(), client_id=_client().id, service=service,
        technique=technique, therapist_id=form.therapist_id.data,  # type: ignore[attr-defined]
        around=start, settings=settings(), now=clock.now(),
        exclude_booking_id=booking.id if booking else None)
    return render_template(
        "booking/another_time.html", message=services.TAKEN if taken else str(exc),
        taken=taken, days=queries.by_day(offers), form=form, action=action,
        all_times=all_times)
