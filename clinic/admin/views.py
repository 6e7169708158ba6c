"""Admin pages. The blueprint checks the admin role once for all of them.

This module is the admin URL map: the pages live in topic modules
(catalogue, therapists, schedules, settings_views) as plain functions, and
are added to ``bp`` here. The topic modules never import this one, so there
is no import cycle and no import-at-the-bottom trick, and every admin URL
can be read in one table.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template
from flask_login import current_user

from clinic import clock
from clinic.accounts.models import Role
from clinic.admin import catalogue, schedules, settings_views, therapists
from clinic.admin.overview import overview
from clinic.db import get_session
from clinic.web import settings

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
    data = overview(get_session(), settings().zone, clock.now())
    return render_template("admin/index.html", overview=data,
                           review_queue=_if_exists("intake.review_queue"),
                           audit_trail=_if_exists("audit.trail"))


def _if_exists(endpoint: str) -> str | None:
    """Link to another feature's page only once that page exists."""
    return endpoint if endpoint in current_app.view_functions else None


GET, POST, BOTH = ["GET"], ["POST"], ["GET", "POST"]
ROUTES = (
    # (rule, endpoint, view, methods)
    ("/services", "services", catalogue.services, GET),
    ("/services/new", "service_new", catalogue.service_new, BOTH),
    ("/services/<id:service_id>", "service_edit", catalogue.service_edit, BOTH),
    ("/services/<id:service_id>/deactivate", "service_deactivate",
     catalogue.service_deactivate, POST),
    ("/services/<id:service_id>/reactivate", "service_reactivate",
     catalogue.service_reactivate, POST),
    ("/rooms", "rooms", catalogue.rooms, BOTH),
    ("/rooms/<id:room_id>", "room_edit", catalogue.room_edit, BOTH),
    ("/rooms/<id:room_id>/deactivate", "room_deactivate",
     catalogue.room_deactivate, POST),
    ("/rooms/<id:room_id>/reactivate", "room_reactivate",
     catalogue.room_reactivate, POST),
    ("/therapists", "therapists", therapists.therapists, GET),
    ("/therapists/new", "therapist_new", therapists.therapist_new, BOTH),
    ("/therapists/<id:therapist_id>", "therapist_edit",
     therapists.therapist_edit, BOTH),
    ("/therapists/<id:therapist_id>/deactivate", "therapist_deactivate",
     therapists.therapist_deactivate, BOTH),
    ("/therapists/<id:therapist_id>/hours", "hours", schedules.hours, BOTH),
    ("/therapists/<id:therapist_id>/time-off", "time_off", schedules.time_off,
     BOTH),
    ("/therapists/<id:therapist_id>/time-off/<id:time_off_id>/delete",
     "time_off_delete", schedules.time_off_delete, POST),
    ("/admins/new", "admin_new", therapists.admin_new, BOTH),
    ("/admins/<id:user_id>", "admin_edit", therapists.admin_edit, BOTH),
    ("/admins/<id:user_id>/deactivate", "admin_deactivate",
     therapists.admin_deactivate, POST),
    ("/staff/<id:user_id>/reactivate", "staff_reactivate",
     therapists.staff_reactivate, POST),
    ("/staff/<id:user_id>/invite", "staff_invite", therapists.staff_invite, POST),
    ("/closures", "closures", schedules.closures, BOTH),
    ("/closures/<id:closure_id>/delete", "closure_delete",
     schedules.closure_delete, POST),
    ("/settings", "settings", settings_views.clinic_settings, BOTH),
)
for _rule, _endpoint, _view, _methods in ROUTES:
    bp.add_url_rule(_rule, _endpoint, _view, methods=_methods)
