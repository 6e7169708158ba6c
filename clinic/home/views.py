"""The landing page and each role's home page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from clinic.accounts.models import Role
from clinic.accounts.permissions import role_required

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
    return render_template("home/client.html")


@bp.get("/therapist")
@role_required(Role.THERAPIST)
def therapist() -> str:
    return render_template("home/therapist.html")
