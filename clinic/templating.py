"""Template helpers: local times, navigation and form rendering context."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from clinic.accounts.forms import EmptyForm
from clinic.accounts.models import Role
from clinic.db import new_session
from clinic.settings.services import load_settings


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def local(value: datetime | None) -> datetime | None:
    """A stored UTC instant in the clinic's time zone."""
    return value.astimezone(clinic_zone()) if value is not None else None


def format_local(value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """Local time with its zone abbreviation, e.g. 'Sun 28 Mar 2027, 09:00 BST'."""
    moment = local(value)
    return f"{moment.strftime(fmt)} {moment.tzname()}" if moment else ""


def _logged_in() -> bool:
    # Mail rendered by CLI commands has no request and no user.
    return has_request_context() and current_user.is_authenticated


def nav_link(endpoint: str, label: str) -> Markup:
    """A navigation item, marked current on its own page. Items whose page a
    feature has not registered are left out, so features add links by name."""
    if endpoint not in current_app.view_functions:
        return Markup("")
    current = Markup(' aria-current="page"') if request.endpoint == endpoint else ""
    return Markup('<li><a href="{}"{}>{}</a></li>').format(
        url_for(endpoint), current, label
    )


def _clinic_identity() -> dict[str, str]:
    """Name and phone as the admin set them (config if the database cannot
    be read, so an error page still renders)."""
    from clinic.web import settings

    try:
        if has_request_context():
            current = settings()
        else:  # mail rendered by a CLI command
            with new_session(write=False) as db:
                current = load_settings(db, current_app.config)
    except SQLAlchemyError:
        return {
            "clinic_name": current_app.config["CLINIC_NAME"],
            "clinic_phone": current_app.config["CLINIC_PHONE"],
        }
    return {"clinic_name": current.clinic_name, "clinic_phone": current.clinic_phone}


def init_app(app: Flask) -> None:
    app.jinja_env.filters["local"] = local
    app.jinja_env.filters["localtime"] = format_local
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals() -> dict[str, object]:
        return {
            "Role": Role,
            "nav_link": nav_link,
            **_clinic_identity(),
            "logout_form": EmptyForm() if _logged_in() else None,
        }
