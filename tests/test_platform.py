"""Configuration, security defaults, error pages and CLI commands."""

from __future__ import annotations

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from clinic import create_app
from clinic.accounts.models import Role, User
from clinic.audit.models import AuditEvent
from clinic.config import ConfigError
from clinic.demo import DEMO_PASSWORD, DEMO_USERS


def test_production_refuses_a_missing_or_weak_secret_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": "sqlite://"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app({"ENV": "production", "DATABASE_URL": "sqlite://",
                    "SECRET_KEY": "short"})


def test_unknown_time_zone_is_refused() -> None:
    with pytest.raises(ConfigError, match="IANA"):
        create_app({"ENV": "test", "DATABASE_URL": "sqlite://",
                    "CLINIC_TIMEZONE": "Mars/Olympus"})


def test_environment_variables_configure_the_app(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLINIC_TIMEZONE", "America/New_York")
    monkeypatch.setenv("MAIL_PORT", "2525")
    app = create_app({"ENV": "test", "DATABASE_URL": "sqlite://"})
    assert app.config["CLINIC_TIMEZONE"] == "America/New_York"
    assert app.config["MAIL_PORT"] == 2525


def test_production_cookies_are_secure(database_url: str) -> None:
    app = create_app({"ENV": "production", "DATABASE_URL": database_url,
                      "SECRET_KEY": "x" * 48})
    client = app.test_client()
    response = client.get("/login", base_url="https://clinic.example")
    cookie = response.headers["Set-Cookie"]
    for flag in ("Secure", "HttpOnly", "SameSite=Lax"):
        assert flag in cookie
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    app.extensions["clinic.engine"].dispose()


def test_security_headers_forbid_inline_script(client: FlaskClient) -> None:
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    assert "<script>" not in response.get_data(as_text=True)


def test_oversized_requests_are_refused_politely(client: FlaskClient) -> None:
    response = client.post("/login", data={"email": "x" * 300_000, "password": "p"})
    assert response.status_code == 413
    assert "That was too large" in response.get_data(as_text=True)


def test_csrf_is_required_on_state_changing_requests(app: Flask, make_user) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    user = make_user()
    response = app.test_client().post(
        "/login", data={"email": user.email, "password": "correct-horse-42"}
    )
    assert response.status_code == 400
    assert "Your form expired" in response.get_data(as_text=True)


def test_not_found_page_is_friendly(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_server_errors_show_no_stack_trace(app: Flask) -> None:
    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong on our side" in body
    assert "secret internals" not in body and "Traceback" not in body


def test_http_errors_raised_in_views_use_the_error_page(app: Flask) -> None:
    @app.get("/gone")
    def gone() -> str:
        abort(405)

    assert "This page can" in app.test_client().get("/gone").get_data(as_text=True)


def test_audit_rows_cannot_be_changed_or_deleted(db: Session, make_user) -> None:
    user = make_user()
    db.add(AuditEvent(actor_id=user.id, action="view", record_type="intake"))
    db.commit()
    for statement in ("UPDATE audit_event SET action = 'x'", "DELETE FROM audit_event"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement))
        db.rollback()
    assert db.scalar(select(func.count()).select_from(AuditEvent)) == 1


def test_create_admin_command(app: Flask, db: Session) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["clinic", "create-admin", "--email", "Boss@Example.com", "--name",
              "The Boss", "--password", "a long admin pass 1"],
    )
    assert result.exit_code == 0, result.output
    admin = db.scalar(select(User).where(User.email == "boss@example.com"))
    assert admin is not None and admin.role is Role.ADMIN
    again = runner.invoke(
        args=["clinic", "create-admin", "--email", "boss@example.com", "--name",
              "X", "--password", "a long admin pass 1"],
    )
    assert again.exit_code != 0 and "already has an account" in again.output


def test_create_admin_refuses_a_weak_password(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=["clinic", "create-admin", "--email", "a@example.com", "--name", "A",
              "--password", "short"],
    )
    assert result.exit_code == 2 and "at least 12 characters" in result.output


def test_seed_demo_is_idempotent_and_its_logins_work(
    app: Flask, db: Session, client: FlaskClient
) -> None:
    runner = app.test_cli_runner()
    for _ in range(2):
        result = runner.invoke(args=["clinic", "seed-demo"])
        assert result.exit_code == 0, result.output
    assert db.scalar(select(func.count()).select_from(User)) == len(DEMO_USERS)
    for spec in DEMO_USERS:
        response = client.post(
            "/login", data={"email": spec["email"], "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, spec["email"]
        client.post("/logout")


def test_seed_demo_is_refused_in_production(database_url: str) -> None:
    app = create_app({"ENV": "production", "DATABASE_URL": database_url,
                      "SECRET_KEY": "y" * 48})
    result = app.test_cli_runner().invoke(args=["clinic", "seed-demo"])
    assert result.exit_code != 0 and "never seeded in production" in result.output
    app.extensions["clinic.engine"].dispose()
