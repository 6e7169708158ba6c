"""What the clinic offers: services (with prices) and treatment rooms."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response

from clinic.accounts.forms import EmptyForm
from clinic.admin.common import get_or_404, show_error
from clinic.admin.forms import RoomForm, ServiceForm
from clinic.booking import admin_services as admin
from clinic.booking.models import Room, Service
from clinic.db import get_session
from clinic.web import actor, commit


def services() -> str:
    db = get_session()
    rows = db.scalars(select(Service).order_by(Service.active.desc(), Service.name))
    return render_template("admin/services.html", services=list(rows),
                           toggle=EmptyForm())


def service_new() -> Response | str:
    return _service_form(None)


def service_edit(service_id: int) -> Response | str:
    return _service_form(get_or_404(get_session(), Service, service_id))


def _service_form(service: Service | None) -> Response | str:
    form = ServiceForm(obj=service)
    if service is not None and not form.is_submitted():
        form.price.data = f"{service.price_pence / 100:.2f}"
    if form.validate_on_submit():
        db = get_session()
        values = admin.ServiceValues(
            name=form.name.data, description=form.description.data or "",
            duration_minutes=form.duration_minutes.data,
            price_pence=form.price_pence or 0,
            buffer_minutes=form.buffer_minutes.data)
        try:
            saved = admin.save_service(db, actor(), values,
                                       service.id if service else None)
        except admin.AdminError as exc:
            show_error(db, form, exc)
        else:
            commit(db)
            flash(f"{saved.name} is saved.", "success")
            return redirect(url_for("admin.services"))
    return render_template("admin/service_form.html", form=form, service=service)


def service_deactivate(service_id: int) -> Response:
    return _toggle(Service, service_id, False, "admin.services")


def service_reactivate(service_id: int) -> Response:
    return _toggle(Service, service_id, True, "admin.services")


def _toggle(model: type[Service] | type[Room], record_id: int, active: bool,
            back: str) -> Response:
    db = get_session()
    get_or_404(db, model, record_id)
    if EmptyForm().validate_on_submit():
        row = admin.set_catalogue_active(db, actor(), model, record_id, active)
        commit(db)
        state = "is offered again" if active else (
            "is no longer offered. Sessions already booked keep it")
        flash(f"{row.name} {state}.", "success")
    return redirect(url_for(back))


def rooms() -> Response | str:
    db = get_session()
    form = RoomForm()
    if form.validate_on_submit():
        try:
            room = admin.save_room(db, actor(), form.name.data)
        except admin.AdminError as exc:
            show_error(db, form, exc)
        else:
            commit(db)
            flash(f"{room.name} is added.", "success")
            return redirect(url_for("admin.rooms"))
    rows = db.scalars(select(Room).order_by(Room.active.desc(), Room.name))
    return render_template("admin/rooms.html", rooms=list(rows), form=form,
                           toggle=EmptyForm())


def room_edit(room_id: int) -> Response | str:
    db = get_session()
    room = get_or_404(db, Room, room_id)
    form = RoomForm(obj=room)
    if form.validate_on_submit():
        try:
            admin.save_room(db, actor(), form.name.data, room.id)
        except admin.AdminError as exc:
            show_error(db, form, exc)
        else:
            commit(db)
            flash("The room is renamed.", "success")
            return redirect(url_for("admin.rooms"))
    return render_template("admin/room_form.html", form=form, room=room)


def room_deactivate(room_id: int) -> Response:
    return _toggle(Room, room_id, False, "admin.rooms")


def room_reactivate(room_id: int) -> Response:
    return _toggle(Room, room_id, True, "admin.rooms")
