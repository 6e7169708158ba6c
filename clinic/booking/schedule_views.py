"""Staff schedules: a therapist's day and week, the whole clinic, feeds.

Therapists see only their own sessions (``/schedule/me...``); admins see the
clinic (``/schedule/clinic``), cancel with a reason and record no-shows.
Each therapist can subscribe to their sessions from a calendar app at a
secret URL, which needs no login and can be replaced at any time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from clinic import clock
from clinic.accounts.forms import EmptyForm
from clinic.accounts.models import Role
from clinic.accounts.permissions import role_required
from clinic.accounts.views import safe_next
from clinic.audit.services import record
from clinic.booking import ics, schedule, services
from clinic.booking.models import ACTIVE_STATUSES, Booking, BookingStatus, Therapist
from clinic.booking.notifications import calendar_clinic
from clinic.booking.schedule_forms import (
    ACTIVE,
    CancelForm,
    ClinicQuery,
    DayQuery,
    MoveForm,
    WeekQuery,
)
from clinic.db import get_session
from clinic.intake.access import audit_read
from clinic.intake.services import BookingNotAllowed
from clinic.web import actor, client_ip, commit, rollback, settings, signed_in

bp = Blueprint("schedule", __name__, url_prefix="/schedule")


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"client_url": client_url, "EmptyForm": EmptyForm,
            "technique_name": ics.technique_label}


def client_url(client_id: int) -> str | None:
    """The staff page of a client (the intake feature's), if it exists."""
    if "intake.client_record" not in current_app.view_functions:
        return None
    return url_for("intake.client_record", client_id=client_id)


def _today() -> date:
    return schedule.local_today(clock.now(), settings().zone)


def _chosen(field: Any) -> date:
    """The day asked for, else today; a field left empty is filled in, so
    the date box shows the day the page shows (a bad entry stays, with its
    error, for the user to correct)."""
    if field.errors:
        return _today()
    if not field.data:
        field.data = _today()
    return field.data  # type: ignore[no-any-return]


# ---------------------------------------------------------------- therapist


@bp.get("/me")
@role_required(Role.THERAPIST)
def my_week() -> str:
    """The therapist's week (Monday to Sunday), day by day."""
    form = WeekQuery(formdata=request.args)
    form.validate()
    span = schedule.week_of(_chosen(form.week), settings().zone)
    entries = schedule.load_sessions(get_session(), span, therapist_id=current_user.id)
    audit_read("list", "screening", None, subject_user_id=None)
    return render_template("schedule/my_week.html", form=form, span=span,
                           days=schedule.by_day(entries, span), now=clock.now(),
                           today=_today())


@bp.get("/me/day")
@role_required(Role.THERAPIST)
def my_day() -> str:
    form = DayQuery(formdata=request.args)
    form.validate()
    span = schedule.day_of(_chosen(form.date), settings().zone)
    entries = schedule.load_sessions(get_session(), span, therapist_id=current_user.id)
    audit_read("list", "screening", None, subject_user_id=None)
    return render_template("schedule/my_day.html", form=form, span=span,
                           entries=entries, now=clock.now(), today=_today())


@bp.get("/me/calendar")
@role_required(Role.THERAPIST)
def calendar() -> str:
    """The secret subscription URL, and a button to replace it."""
    therapist = get_session().get(Therapist, current_user.id)
    token = therapist.calendar_token if therapist is not None else None
    feed_url = url_for("schedule.feed", token=token, _external=True) if token else None
    return render_template("schedule/calendar.html", therapist=therapist,
                           feed_url=feed_url, form=EmptyForm())


@bp.post("/me/calendar")
@role_required(Role.THERAPIST)
def new_calendar_link() -> Response:
    """Issue a new secret URL; the old one stops working at once."""
    db = get_session()
    therapist = db.get(Therapist, current_user.id)
    if therapist is None or not EmptyForm().validate_on_submit():
        abort(404 if therapist is None else 400)
    replaced = therapist.calendar_token is not None
    schedule.regenerate_calendar_token(db, therapist)
    record(db, actor(), "regenerate" if replaced else "create", "calendar_feed",
           therapist.user_id, subject_user_id=therapist.user_id)
    commit(db)
    flash("Your new calendar link is ready. The old link no longer works."
          if replaced else "Your calendar link is ready.", "success")
    return redirect(url_for("schedule.calendar"))


@bp.get("/feed/<token>.ics")
def feed(token: str) -> Response:
    """The therapist's sessions as an iCalendar feed. No login: the secret
    URL is the key. :raise 404: unknown or replaced token."""
    db = get_session()
    therapist = schedule.therapist_by_token(db, token)
    if therapist is None:
        abort(404)
    clinic_settings = settings()
    now = clock.now()
    bookings = schedule.feed_bookings(db, therapist.user_id, now=now,
                                      horizon=clinic_settings.policy.horizon)
    body = ics.feed_ics(bookings, zone=clinic_settings.zone,
                        name=f"{clinic_settings.clinic_name}: my sessions",
                        clinic=calendar_clinic(clinic_settings), now=now)
    response = Response(body, content_type="text/calendar; charset=utf-8")
    response.headers["Cache-Control"] = "private, no-cache"
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Content-Disposition"] = 'inline; filename="sessions.ics"'
    return response


# ---------------------------------------------------------------- admin


@bp.get("/clinic")
@role_required(Role.ADMIN)
def clinic() -> str:
    """Every therapist's sessions for a day or a week, with filters."""
    db = get_session()
    therapists = schedule.staff_therapists(db)
    form = ClinicQuery(formdata=request.args)
    form.set_therapists([(t.user_id, t.user.full_name) for t in therapists])
    form.validate()
    view = form.clean(form.view, "day")
    day, zone = _chosen(form.date), settings().zone
    span = schedule.week_of(day, zone) if view == "week" else schedule.day_of(day, zone)
    therapist_id = form.clean(form.therapist, None)
    statuses = _statuses(form.clean(form.status, ACTIVE))
    entries = schedule.load_sessions(db, span, therapist_id=therapist_id,
                                     statuses=statuses)
    shown = [t for t in therapists if therapist_id in (None, t.user_id)]
    audit_read("list", "screening", None, subject_user_id=None)
    return render_template(
        "schedule/clinic.html", form=form, span=span, view=view, day=day,
        groups=schedule.by_therapist(entries, shown), now=clock.now(),
        counts=schedule.count_by_status(entries), total=len(entries), today=_today(),
    )


def _statuses(choice: str) -> tuple[BookingStatus, ...] | None:
    if choice == ACTIVE:
        return ACTIVE_STATUSES
    return None if choice == "all" else (BookingStatus(choice),)


def _booking_or_404(booking_id: int) -> Booking:
    """The booking, if this user may act on it: admins any, a therapist only
    their own. :raise 404:"""
    booking = get_session().get(Booking, booking_id)
    if booking is None or (current_user.role is Role.THERAPIST
                           and booking.therapist_id != current_user.id):
        abort(404)
    return booking


def _back(booking: Booking) -> str:
    target = safe_next(request.form.get("next"))
    if target:
        return target
    day = booking.starts_at.astimezone(settings().zone).date().isoformat()
    if current_user.role is Role.THERAPIST:
        return url_for("schedule.my_day", date=day)
    return url_for("schedule.clinic", date=day)


@bp.route("/clinic/bookings/<id:booking_id>/cancel", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def cancel(booking_id: int) -> Response | str:
    """Cancel a session for the clinic: a reason is required and is sent to
    the client. Allowed after the clients' cut-off too."""
    db = get_session()
    booking = _booking_or_404(booking_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            services.cancel_booking(
                db, booking, by=signed_in(), reason=form.reason.data,
                settings=settings(), now=clock.now(), enforce_cutoff=False,
                ip=client_ip(),
            )
        except services.BookingError as exc:
            rollback(db)
            form.form_errors.append(str(exc))
        else:
            commit(db)
            flash("The session is cancelled. We have emailed the client with your "
                  "reason.", "success")
            return redirect(_back(booking))
    entry = schedule.ScheduleEntry(booking, schedule.ScreeningStatus.NONE,
                                   settings().zone)
    return render_template("schedule/cancel.html", form=form, entry=entry,
                           now=clock.now())


@bp.route("/clinic/bookings/<id:booking_id>/therapist", methods=["GET", "POST"])
@role_required(Role.ADMIN)
def move(booking_id: int) -> Response | str:
    """Give a session to another therapist free at the same time (a therapist
    leaving, or ill): the client keeps the time and is emailed the change."""
    db = get_session()
    booking = _booking_or_404(booking_id)
    form = MoveForm(next=request.args.get("next", ""))
    free = ([] if not booking.is_active else services.other_free_therapists(
        db, booking, settings=settings(), now=clock.now()))
    form.therapist_id.choices = [(t.user_id, t.user.full_name) for t in free]
    if form.validate_on_submit():
        try:
            services.reschedule_booking(
                db, booking, by=signed_in(), start=booking.starts_at,
                therapist_id=form.therapist_id.data, settings=settings(),
                now=clock.now(), enforce_cutoff=False, ip=client_ip())
        except (services.BookingError, BookingNotAllowed) as exc:
            rollback(db)
            form.form_errors.append(str(exc))
        else:
            commit(db)
            flash(f"The session is now with {booking.therapist.user.full_name}. "
                  "We have emailed the client.", "success")
            return redirect(_back(booking))
    entry = schedule.ScheduleEntry(booking, schedule.ScreeningStatus.NONE,
                                   settings().zone)
    return render_template("schedule/move.html", form=form, entry=entry,
                           back=safe_next(form.next.data) or _back(booking))


@bp.post("/bookings/<id:booking_id>/no-show")
@role_required(Role.THERAPIST, Role.ADMIN)
def no_show(booking_id: int) -> Response:
    """Record that the client did not come (only once the session started)."""
    db = get_session()
    booking = _booking_or_404(booking_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.mark_no_show(db, booking, by=signed_in(), now=clock.now(),
                              ip=client_ip())
    except services.BookingError as exc:
        rollback(db)
        flash(str(exc), "error")
    else:
        commit(db)
        flash(f"Recorded: {booking.client.full_name} did not come.", "success")
    return redirect(_back(booking))
