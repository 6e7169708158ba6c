"""Therapists' weekly hours and time off, and clinic closures.

Each change first asks what happens to the bookings it touches (see
``clinic.booking.admin_schedule``); the question is a confirmation page that
carries the change in hidden inputs, so nothing is saved until the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from clinic import clock
from clinic.accounts.forms import EmptyForm
from clinic.admin.common import (
    ask,
    cancelled_note,
    get_or_404,
    handling,
    show_error,
)
from clinic.admin.schedule_forms import (
    INTERVALS_PER_DAY,
    WEEKDAYS,
    DecisionForm,
    HoursForm,
    PeriodForm,
)
from clinic.booking import admin_schedule as schedule
from clinic.booking import admin_services as admin
from clinic.booking.admin_schedule import Handling
from clinic.booking.models import Booking, Closure, Therapist, TimeOff
from clinic.booking.slots import Interval, WeeklyHours
from clinic.db import get_session
from clinic.templating import format_local
from clinic.web import actor, commit, settings

KEEP_LABEL = ("Keep them: they stay booked as exceptions outside the new hours "
              "(clients are not told anything)")
# Adds time off or a closure for a period, given the admin's answer.
Change = Callable[[Interval, Handling | None], tuple[object, list[Booking]]]


def hours(therapist_id: int) -> Response | str:
    db = get_session()
    therapist = get_or_404(db, Therapist, therapist_id)
    form = HoursForm()
    decision = DecisionForm(may_keep=True, keep_label=KEEP_LABEL)
    if not form.is_submitted():
        form.fill([(h.weekday, h.start, h.end) for h in therapist.hours])
    if form.validate_on_submit():
        weekly = [WeeklyHours(day, start, end) for day, start, end in form.weekly()]
        try:
            cancelled = schedule.replace_hours(
                db, actor(), therapist.user_id, weekly, handling(decision),
                settings(), clock.now())
        except schedule.DecisionNeeded as exc:
            name = therapist.user.full_name
            return ask(
                db, exc, decision, form, title=f"New hours for {name}",
                summary=f"These booked sessions fall outside {name}'s new hours.",
                confirm="Save the new hours",
                back_url=url_for("admin.hours", therapist_id=therapist.user_id),
                back="Go back without saving")
        except admin.AdminError as exc:
            show_error(db, form, exc)
        else:
            commit(db)
            flash(f"The working hours are saved.{cancelled_note(cancelled)}",
                  "success")
            return redirect(url_for("admin.hours", therapist_id=therapist.user_id))
    return render_template("admin/hours.html", form=form, therapist=therapist,
                           weekdays=WEEKDAYS, intervals_per_day=INTERVALS_PER_DAY)


def _span(form: PeriodForm, zone: ZoneInfo) -> tuple[Interval, list[str]] | None:
    """The period in UTC, with notes about repeated clock times; None (and
    messages at the fields) when a time does not exist in the clinic's zone."""
    moments: list[datetime] = []
    notes: list[str] = []
    for day, wall in ((form.start_date, form.start_time),
                      (form.end_date, form.end_time)):
        try:
            moment, note = schedule.local_to_utc(day.data, wall.data, zone)
        except admin.AdminError as exc:
            wall.errors = [*wall.errors, str(exc)]
            continue
        moments.append(moment)
        notes.extend([note] if note else [])
    if len(moments) < 2:
        return None
    if moments[1] <= moments[0]:  # possible when the clocks go back
        form.end_time.errors = [*form.end_time.errors,
                                "The end must be after the start."]
        return None
    return Interval(moments[0], moments[1]), notes


def _save_period(form: PeriodForm, decision: DecisionForm, change: Change,
                 what: str, back_url: str) -> Response | str | None:
    """Shared by time off and closures: convert, ask, save, tell."""
    db = get_session()
    converted = _span(form, settings().zone)
    if converted is None:
        return None
    span, notes = converted
    try:
        _, cancelled = change(span, handling(decision))
    except schedule.DecisionNeeded as exc:
        period = f"{format_local(span.start)} to {format_local(span.end)}"
        return ask(db, exc, decision, form, title=f"Add {what}",
                   summary=f"{what.capitalize()} from {period} overlaps these "
                   "booked sessions.", notes=notes,
                   confirm=f"Cancel them and add the {what}", back_url=back_url,
                   back=f"Go back without adding the {what}")
    except admin.AdminError as exc:
        show_error(db, form, exc)
        return None
    commit(db)
    flash(f"The {what} is added.{cancelled_note(cancelled)} {' '.join(notes)}"
          .strip(), "success")
    return redirect(back_url)


def time_off(therapist_id: int) -> Response | str:
    db = get_session()
    therapist = get_or_404(db, Therapist, therapist_id)
    form = PeriodForm()
    back_url = url_for("admin.time_off", therapist_id=therapist.user_id)
    if form.validate_on_submit():
        answer = _save_period(
            form, DecisionForm(may_keep=False),
            lambda span, handled: schedule.add_time_off(
                db, actor(), therapist.user_id, span, form.reason.data or "",
                handled, settings(), clock.now()),
            "time off", back_url)
        if answer is not None:
            return answer
    upcoming = db.scalars(
        select(TimeOff).where(TimeOff.therapist_id == therapist.user_id,
                              TimeOff.ends_at > clock.now())
        .order_by(TimeOff.starts_at))
    return render_template("admin/time_off.html", form=form, therapist=therapist,
                           periods=list(upcoming), button=EmptyForm())


def time_off_delete(therapist_id: int, time_off_id: int) -> Response:
    db = get_session()
    if get_or_404(db, TimeOff, time_off_id).therapist_id != therapist_id:
        abort(404)
    if EmptyForm().validate_on_submit():
        schedule.delete_time_off(db, actor(), therapist_id, time_off_id)
        commit(db)
        flash("The time off is removed.", "success")
    return redirect(url_for("admin.time_off", therapist_id=therapist_id))


def closures() -> Response | str:
    db = get_session()
    form = PeriodForm()
    back_url = url_for("admin.closures")
    if form.validate_on_submit():
        answer = _save_period(
            form, DecisionForm(may_keep=False),
            lambda span, handled: schedule.add_closure(
                db, actor(), span, form.reason.data or "", handled, settings(),
                clock.now()),
            "closure", back_url)
        if answer is not None:
            return answer
    upcoming = db.scalars(select(Closure).where(Closure.ends_at > clock.now())
                          .order_by(Closure.starts_at))
    return render_template("admin/closures.html", form=form,
                           periods=list(upcoming), button=EmptyForm())


def closure_delete(closure_id: int) -> Response:
    db = get_session()
    get_or_404(db, Closure, closure_id)
    if EmptyForm().validate_on_submit():
        schedule.delete_closure(db, actor(), closure_id)
        commit(db)
        flash("The closure is removed; the clinic is open then again.", "success")
    return redirect(url_for("admin.closures"))
