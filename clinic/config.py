"""Configuration defaults.

Only safe defaults live here. Secrets and deployment choices come from the
environment (``CLINIC_*`` variables, see README) so nothing secret is committed.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Keys shorter than this are refused outside development and tests.
MIN_SECRET_KEY_LENGTH = 32
DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105


class Defaults:
    """Defaults every environment starts from."""

    ENV = "production"  # development | test | production
    SECRET_KEY: str | None = None
    DATABASE_URL = f"sqlite:///{INSTANCE_DIR / 'clinic.sqlite3'}"
    CLINIC_NAME = "Clinic"
    CLINIC_TIMEZONE = "Europe/London"
    # Used in the screening messages (spec §1.3 placeholders).
    EMERGENCY_NUMBER = "999"
    URGENT_CARE = "NHS 111 or an urgent GP appointment"
    CLINIC_PHONE = "020 7946 0000"

    # Mail: "console" prints, "smtp" sends.
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_STARTTLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER = "Clinic <no-reply@clinic.invalid>"
    MAIL_MAX_ATTEMPTS = 5
    # Try to deliver right after the commit that queued the mail; the cron
    # sender (flask clinic send-mail) retries whatever failed.
    MAIL_SEND_ON_COMMIT = True
    REMINDER_HOURS_BEFORE = 24

    # Security.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "clinic_session"
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    REMEMBER_COOKIE_DURATION = timedelta(days=1)
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    MAX_CONTENT_LENGTH = 256 * 1024
    MAX_FORM_MEMORY_SIZE = 256 * 1024
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    PASSWORD_HASH_PROFILE = "strong"  # noqa: S105  ("fast" only in tests)
    PASSWORD_RESET_MAX_AGE = timedelta(hours=1)
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_FAILURE_WINDOW = timedelta(minutes=15)
    CLEARANCE_VALID_DAYS = 90
    # Booking policy defaults; admins change them in the app.
    MIN_NOTICE_MINUTES = 120
    HORIZON_DAYS = 56
    CANCEL_CUTOFF_HOURS = 24
    SLOT_STEP_MINUTES = 15
    PREFERRED_URL_SCHEME = "https"
    SERVER_NAME: str | None = None
    # Number of reverse proxies in front of the app whose X-Forwarded-* to trust.
    TRUSTED_PROXIES = 0


class Development(Defaults):
    ENV = "development"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    MAIL_BACKEND = "console"
    PREFERRED_URL_SCHEME = "http"


class Test(Defaults):
    ENV = "test"
    SECRET_KEY = "test-secret-key-0123456789abcdef0123456789"  # noqa: S105
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    PASSWORD_HASH_PROFILE = "fast"  # noqa: S105  (a profile name)
    PREFERRED_URL_SCHEME = "http"


ENVIRONMENTS = {"development": Development, "test": Test, "production": Defaults}


def environment_name() -> str:
    return os.environ.get("CLINIC_ENV", "production")


def _as_bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Every environment variable the app reads, and how to parse it (README lists them).
ENV_VARIABLES: dict[str, Any] = {
    "SECRET_KEY": str,
    "DATABASE_URL": str,
    "CLINIC_NAME": str,
    "CLINIC_TIMEZONE": str,
    "CLINIC_PHONE": str,
    "EMERGENCY_NUMBER": str,
    "URGENT_CARE": str,
    "MAIL_BACKEND": str,
    "MAIL_SERVER": str,
    "MAIL_PORT": int,
    "MAIL_USE_STARTTLS": _as_bool,
    "MAIL_USERNAME": str,
    "MAIL_PASSWORD": str,
    "MAIL_SENDER": str,
    "MAIL_SEND_ON_COMMIT": _as_bool,
    "REMINDER_HOURS_BEFORE": int,
    "SERVER_NAME": str,
    "TRUSTED_PROXIES": int,
}


class ConfigError(RuntimeError):
    """The deployment's configuration is unsafe or invalid."""


def load_config(app: Flask, overrides: dict[str, Any] | None = None) -> None:
    env = (overrides or {}).get("ENV") or environment_name()
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CLINIC_ENV must be one of {sorted(ENVIRONMENTS)}")
    app.config.from_object(ENVIRONMENTS[env])
    for name, parse in ENV_VARIABLES.items():
        if os.environ.get(name):
            app.config[name] = parse(os.environ[name])
    app.config.update(overrides or {})
    _check(app.config)


def _check(config: Any) -> None:
    if config["ENV"] == "development" and not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = DEV_SECRET_KEY
    key = config.get("SECRET_KEY") or ""
    if config["ENV"] == "production" and (
        len(key) < MIN_SECRET_KEY_LENGTH or key == DEV_SECRET_KEY
    ):
        raise ConfigError(
            "SECRET_KEY must be set to a random value of at least "
            f"{MIN_SECRET_KEY_LENGTH} characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    try:
        ZoneInfo(config["CLINIC_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"CLINIC_TIMEZONE {config['CLINIC_TIMEZONE']!r} is not an IANA time zone"
        ) from None
