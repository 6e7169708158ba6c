"""A client's own sessions: the list, each session, cancelling, its calendar
file and rescheduling. On the booking blueprint; the booking flow itself is in
``views``."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinic import clock
from clinic.accounts.models import Role
from clinic.accounts.permissions import role_required
from clinic.booking import ics, queries, services, slots
from clinic.booking.forms import CancelForm, RescheduleForm, first_error, parse_id
from clinic.booking.models import Booking
from clinic.booking.notifications import calendar_clinic
from clinic.booking.views import (
    Week,
    bp,
    offers_for,
    problem,
    refused,
    service_or_none,
)
from clinic.db import get_session
from clinic.intake.services import BookingNotAllowed
from clinic.intake.vocabulary import TECHNIQUE_NAMES
from clinic.templating import format_local
from clinic.web import commit, rollback, settings, signed_in

# --- my bookings ---------------------------------------------------------------------


@bp.get("/mine")
@role_required(Role.CLIENT)
def my_bookings() -> str:
    upcoming, past = queries.client_bookings(get_session(), current_user.id,
                                             clock.now())
    return render_template("booking/mine.html", upcoming=upcoming, past=past)


def _own(booking_id: int) -> Booking:
    """The client's own booking. :raise 404: anyone else's, or none."""
    booking = queries.client_booking(get_session(), current_user.id, booking_id)
    if booking is None:
        abort(404)
    return booking


def _can_change(booking: Booking) -> bool:
    return booking.is_active and slots.can_cancel(
        booking.starts_at, now=clock.now(), policy=settings().policy)


def _render_detail(booking: Booking, form: CancelForm | None = None,
                   error: str = "") -> str:
    return render_template(
        "booking/detail.html", booking=booking, can_change=_can_change(booking),
        upcoming=booking.is_active and booking.starts_at > clock.now(),
        cancel_form=form or CancelForm(formdata=None), error=error,
        technique_name=TECHNIQUE_NAMES.get(booking.technique, booking.technique),
        too_late=services.too_late_message(settings()),
        cutoff_text=services.cutoff_text(settings()))


@bp.get("/<id:booking_id>")
@role_required(Role.CLIENT)
def detail(booking_id: int) -> str:
    return _render_detail(_own(booking_id))


@bp.post("/<id:booking_id>/cancel")
@role_required(Role.CLIENT)
def cancel(booking_id: int) -> Response | str:
    db, booking, form = get_session(), _own(booking_id), CancelForm()
    if not form.validate():
        return _render_detail(booking, form)
    try:
        services.cancel_booking(db, booking, by=signed_in(), reason=form.reason.data,
                                settings=settings(), now=clock.now(),
                                ip=request.remote_addr)
    except services.BookingError as exc:
        rollback(db)
        return _render_detail(_own(booking_id), form, error=str(exc))
    commit(db)
    flash("Your session is cancelled. We have emailed you to confirm.", "success")
    return redirect(url_for("booking.detail", booking_id=booking_id))


@bp.get("/<id:booking_id>.ics")
@role_required(Role.CLIENT)
def calendar_file(booking_id: int) -> Response:
    """The session as a calendar file (RFC 5545)."""
    booking, s = _own(booking_id), settings()
    return Response(
        ics.booking_ics(booking, zone=s.zone, clinic=calendar_clinic(s),
                        now=clock.now()),
        content_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition":
                 f'attachment; filename="booking-{booking.id}.ics"'},
    )


# --- reschedule ----------------------------------------------------------------------


@bp.get("/<id:booking_id>/reschedule")
@role_required(Role.CLIENT)
def reschedule(booking_id: int) -> Response | str:
    """Free times for the same service and technique (this booking's own
    time counts as free), with its therapist or any therapist."""
    booking = _own(booking_id)
    if not _can_change(booking):
        return redirect(url_for("booking.detail", booking_id=booking.id))
    therapists = queries.eligible_therapists(get_session(), booking.service_id,
                                             booking.technique)
    asked = request.args.get("therapist")
    therapist_id = booking.therapist_id if asked is None else parse_id(asked)
    if therapist_id not in {t.user_id for t in therapists}:
        therapist_id = None
    week = Week.page(parse_id(request.args.get("week")) or 0)
    offers = [o for o in offers_for(booking.service, booking.technique, therapist_id,
                                    week.first_day, booking)
              if o.start != booking.starts_at]  # where it is now is no move
    return render_template(
        "booking/reschedule.html", booking=booking, therapists=therapists,
        therapist_id=therapist_id, week=week, days=queries.by_day(offers),
        form=RescheduleForm(formdata=None, therapist_id=therapist_id),
        action=url_for("booking.move", booking_id=booking.id),
        page={"therapist": therapist_id or ""},
        technique_name=TECHNIQUE_NAMES.get(booking.technique, booking.technique))


@bp.post("/<id:booking_id>/reschedule")
@role_required(Role.CLIENT)
def move(booking_id: int) -> Response | str:
    db, booking, form = get_session(), _own(booking_id), RescheduleForm()
    again = url_for("booking.reschedule", booking_id=booking_id,
                    therapist=form.therapist_id.data or "")
    if not form.validate():
        return problem(first_error(form), back=again, back_label="See free times")
    try:
        services.reschedule_booking(
            db, booking, by=signed_in(), start=form.start.data,
            therapist_id=form.therapist_id.data, settings=settings(),
            now=clock.now(), ip=request.remote_addr)
    except (services.BookingError, BookingNotAllowed) as exc:
        rollback(db)
        booking = _own(booking_id)
        action = url_for("booking.move", booking_id=booking_id)
        return refused(exc, form, again, action,
                       service=service_or_none(booking.service_id),
                       technique=booking.technique, booking=booking)
    commit(db)
    flash(f"Your session has moved to {format_local(booking.starts_at)}.", "success")
    return redirect(url_for("booking.detail", booking_id=booking_id))
