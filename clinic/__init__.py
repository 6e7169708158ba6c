"""Clinic: massage booking gated by red-flag intake screening."""

from __future__ import annotations

import functools
from typing import Any

from flask import Flask
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from clinic import db
from clinic.config import PROJECT_ROOT, load_config

login_manager = LoginManager()
login_manager.login_view = "accounts.login"
login_manager.login_message = "Please log in to see that page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, database, login, pages, CLI."""
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    load_config(app, test_config)
    db.init_app(app)
    login_manager.init_app(app)
    csrf.init_app(app)

    from clinic import errors, routing, security, templating

    routing.init_app(app)
    security.init_app(app)
    templating.init_app(app)
    errors.init_app(app)
    _register_blueprints(app)

    from clinic.cli import clinic_cli

    app.cli.add_command(clinic_cli)
    return app


def _register_blueprints(app: Flask) -> None:
    from clinic.accounts import (  # noqa: F401 (their pages join accounts_bp)
        closing_views,
        details_views,
        email_views,
    )
    from clinic.accounts.views import bp as accounts_bp
    from clinic.admin.views import bp as admin_bp
    from clinic.audit.views import bp as audit_bp
    from clinic.booking import my_views  # noqa: F401 (its pages join booking_bp)
    from clinic.booking.schedule_views import bp as schedule_bp
    from clinic.booking.views import bp as booking_bp
    from clinic.home.views import bp as home_bp
    from clinic.intake.views import bp as intake_bp
    from clinic.notes.views import bp as notes_bp

    for blueprint in (
        home_bp,
        accounts_bp,
        admin_bp,
        audit_bp,
        intake_bp,
        booking_bp,
        schedule_bp,
        notes_bp,
    ):
        app.register_blueprint(blueprint)


@login_manager.user_loader
def _load_user(user_id: str) -> Any:
    """Load the user named in the cookie if its session version is current.

    Logout, a password change and deactivation bump the version, which ends
    every session issued before (a replayed cookie stops working). The
    clinic's settings come in the same query: nearly every request of a
    logged-in user needs them.
    """
    from clinic.web import keep_settings

    user_pk, _, version = user_id.partition(".")
    if not user_pk.isdigit() or not version.isdigit():
        return None
    row = db.get_read_session().execute(
        _user_and_settings(), {"id": int(user_pk)}).first()
    if row is None:
        return None
    user, stored_settings = row
    keep_settings(stored_settings)
    if not user.active or user.session_version != int(version):
        return None
    return user


@functools.cache
def _user_and_settings() -> Any:
    from sqlalchemy import bindparam, select

    from clinic.accounts.models import User
    from clinic.settings.models import ClinicSettings

    return (
        select(User, ClinicSettings)
        .outerjoin(ClinicSettings, ClinicSettings.id == 1)
        .where(User.id == bindparam("id"))
    )
