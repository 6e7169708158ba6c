"""Admin pages. The blueprint checks the admin role once for all of them."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user
from sqlalchemy import func, select

from clinic.accounts.models import Role, User
from clinic.db import get_session

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def require_admin() -> None:
    if not current_user.is_authenticated:
        from clinic import login_manager

        abort(login_manager.unauthorized())
    if current_user.role is not Role.ADMIN:
        abort(403)


@bp.get("/")
def index() -> str:
    db = get_session()
    counts = dict(
        db.execute(select(User.role, func.count()).group_by(User.role)).all()
    )
    return render_template("admin/index.html", counts=counts)
