"""Template helpers: local times, navigation and form rendering context."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_login import current_user

from clinic.accounts.forms import EmptyForm
from clinic.accounts.models import Role


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["CLINIC_TIMEZONE"])


def local(value: datetime | None) -> datetime | None:
    """A stored UTC instant in the clinic's time zone."""
    return value.astimezone(clinic_zone()) if value is not None else None


def format_local(value: datetime | None, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """Local time with its zone abbreviation, e.g. 'Sun 28 Mar 2027, 09:00 BST'."""
    moment = local(value)
    return f"{moment.strftime(fmt)} {moment.tzname()}" if moment else ""


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
            "clinic_name": current_app.config["CLINIC_NAME"],
            "clinic_phone": current_app.config["CLINIC_PHONE"],
            "logout_form": EmptyForm() if current_user.is_authenticated else None,
        }
