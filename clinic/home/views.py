"""The landing page and each role's home page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload
from werkzeug.wrappers import Response

from clinic import clock
from clinic.accounts.forms import EmptyForm
from clinic.accounts.models import Role
from clinic.accounts.permissions import role_required
from clinic.booking import schedule, schedule_views
from clinic.booking.models import ACTIVE_STATUSES, Booking, Therapist, ends_after
from clinic.db import get_session
from clinic.intake import services as intake
from clinic.intake.queries import review_counts
from clinic.intake.vocabulary import technique_name
from clinic.notes.history import notes_to_write
from clinic.web import settings

bp = Blueprint("home", __name__)

ROLE_HOMES = {
    Role.CLIENT: "home.client",
    Role.THERAPIST: "home.therapist",
    Role.ADMIN: "admin.index",
}


@bp.get("/")
def index() -> Response | str:
    if current_user.is_authenticated:
        return redirect(url_for(ROLE_HOMES[current_user.role]))
    return render_template("home/index.html")


@bp.get("/me")
@role_required(Role.CLIENT)
def client() -> str:
    db = get_session()
    screening = intake.latest_screening(db, current_user.id)
    return render_template(
        "home/client.html",
        screening=screening,
        result=intake.result_of(screening) if screening else None,
        upcoming=_upcoming(db, Booking.client_id == current_user.id, limit=5),
        email_form=EmptyForm(),
    )


@bp.get("/therapist")
@role_required(Role.THERAPIST)
def therapist() -> str:
    db = get_session()
    now = clock.now()
    zone = settings().zone
    today = schedule.today_for(db, current_user.id, now=now, zone=zone)
    return render_template(
        "home/therapist.html",
        today_sessions=today,
        next_session=None if today else schedule.next_after_today(
            db, current_user.id, now=now, zone=zone),
        notes_to_write=notes_to_write(db, current_user.id, now, zone),
        intake_counts=review_counts(db),
        now=now,
        client_url=schedule_views.client_url,
        technique_name=technique_name,
        EmptyForm=EmptyForm,
    )


def _upcoming(db: Session, condition: object, limit: int) -> list[Booking]:
    return list(
        db.scalars(
            select(Booking)
            .where(
                condition,
                Booking.status.in_(ACTIVE_STATUSES),
                *ends_after(clock.now()),
            )
            .options(
                selectinload(Booking.service),
                selectinload(Booking.therapist).selectinload(Therapist.user),
            )
            .order_by(Booking.starts_at)
            .limit(limit)
        )
    )
