"""Shared fixtures: a migrated database per test, the app, users, mail.

Databases are built only by running the Alembic migrations. SQLite (the
default) copies a migrated template file for each test; PostgreSQL
(``TEST_DATABASE_URL``) migrates once and truncates every table after each
test.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from clinic import create_app
from clinic.accounts.models import Role, User
from clinic.accounts.services import create_user
from clinic.db import Base
from clinic.migrate import upgrade
from tests.smtp import SmtpSink

PASSWORD = "correct-horse-42"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")


def _check_test_database(url: str) -> None:
    name = make_url(url).database or ""
    if "test" not in name:
        raise pytest.UsageError(
            f"TEST_DATABASE_URL names database {name!r}; refusing to use a database "
            "whose name does not contain 'test' (its tables are truncated)."
        )


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database at the newest migration: a file path (SQLite) or URL (PG)."""
    if TEST_DATABASE_URL:
        _check_test_database(TEST_DATABASE_URL)
        _reset_postgres(TEST_DATABASE_URL)
        upgrade(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    template = tmp_path_factory.mktemp("db") / "template.sqlite3"
    upgrade(f"sqlite:///{template}")
    return str(template)


_counter = itertools.count()


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> Iterator[str]:
    if TEST_DATABASE_URL:
        yield TEST_DATABASE_URL
        _truncate_all(TEST_DATABASE_URL)
        return
    target = tmp_path / f"clinic-{next(_counter)}.sqlite3"
    shutil.copyfile(migrated_database, target)
    yield f"sqlite:///{target}"


def _truncate_all(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def app_config(database_url: str, smtp_sink: SmtpSink) -> dict[str, Any]:
    smtp_sink.clear()
    return {
        "ENV": "test",
        "DATABASE_URL": database_url,
        "WTF_CSRF_ENABLED": False,
        "MAIL_BACKEND": "smtp",
        "MAIL_SERVER": smtp_sink.host,
        "MAIL_PORT": smtp_sink.port,
        "SERVER_NAME": "clinic.test",
    }


@pytest.fixture
def app(app_config: dict[str, Any]) -> Iterator[Flask]:
    application = create_app(app_config)
    yield application
    application.extensions["clinic.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    """A session for arranging and checking data; commit what you arrange.

    No app context is pushed here: one left open would be shared by every
    request the test makes (and with it ``g`` and the logged-in user).
    """
    engine = app.extensions["clinic.engine"].execution_options(
        isolation_level="AUTOCOMMIT"
    )
    # Autocommit: every statement sees what the app committed just before,
    # and the test never holds a lock the app's requests would wait for.
    session = Session(engine, expire_on_commit=False)
    yield session
    session.close()


_emails = itertools.count(1)


@pytest.fixture
def make_user(db: Session, app: Flask) -> Callable[..., User]:
    def factory(role: Role = Role.CLIENT, **overrides: Any) -> User:
        n = next(_emails)
        values: dict[str, Any] = {
            "email": f"{role.value}{n}@example.com",
            "password": PASSWORD,
            "full_name": f"Test {role.value.title()} {n}",
            "role": role,
            "phone": "07700 900123",
            "date_of_birth": date(1985, 1, 1) if role is Role.CLIENT else None,
            "hash_profile": app.config["PASSWORD_HASH_PROFILE"],
            "email_verified_at": datetime(2026, 1, 1, tzinfo=UTC),
        }
        values.update(overrides)
        user = create_user(db, **values)
        db.commit()
        return user

    return factory


@pytest.fixture
def login(client: FlaskClient) -> Callable[[User], None]:
    def do_login(user: User, password: str = PASSWORD) -> None:
        response = client.post(
            "/login", data={"email": user.email, "password": password}
        )
        assert response.status_code == 302, response.get_data(as_text=True)

    return do_login
