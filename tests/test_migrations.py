"""The schema comes only from the migrations; they must match the models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select, table, text

import clinic.models  # noqa: F401
from clinic import create_app
from clinic.db import Base
from clinic.migrate import alembic_config, upgrade


def _url(migrated_database: str) -> str:
    if "://" in migrated_database:
        return migrated_database
    return f"sqlite:///{migrated_database}"


def test_models_and_migrations_agree(migrated_database: str) -> None:
    engine = create_engine(_url(migrated_database))
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    assert differences == [], "run alembic revision --autogenerate and edit it"


def test_migrations_form_one_line_of_history() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1


def test_database_is_at_head(migrated_database: str) -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    engine = create_engine(_url(migrated_database))
    with engine.connect() as conn:
        current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    engine.dispose()
    assert current == script.get_current_head()


def test_accounts_made_before_0004_count_as_confirmed(tmp_path: Path) -> None:
    """Revision 0004 (email confirmation) must not stop existing clients from
    booking: their addresses count as confirmed when they registered."""
    url = f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
    upgrade(url, "0003")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO \"user\" (email, password_hash, role, full_name, active, "
            "session_version, created_at) VALUES ('old@example.com', 'x', 'client', "
            "'Old Client', 1, 1, '2026-01-02 03:04:05.000000')"))
    upgrade(url, "head")
    with engine.connect() as conn:
        confirmed = conn.execute(text(
            "SELECT email_verified_at FROM \"user\"")).scalar()
    engine.dispose()
    assert str(confirmed).startswith("2026-01-02 03:04:05")


def test_each_revision_steps_down_and_up_again_with_a_clinic_in_it(
    app_config: dict[str, Any], tmp_path: Path,
) -> None:
    """A downgrade must work on a database in use, not only an empty one:
    batch mode's copy of a table referenced by others (``user``) fails its
    foreign keys once rows point at it (SQLite)."""
    url = f"sqlite:///{tmp_path / 'steps.sqlite3'}"
    upgrade(url, "head")
    app = create_app({**app_config, "DATABASE_URL": url})
    assert app.test_cli_runner().invoke(args=["clinic", "seed-demo"]).exit_code == 0
    app.extensions["clinic.engine"].dispose()
    script = ScriptDirectory.from_config(alembic_config(url))
    revisions = [r.revision for r in script.walk_revisions()]  # newest first
    engine = create_engine(url)
    for below in [*revisions[1:], "base"]:
        command.downgrade(alembic_config(url), below)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA foreign_key_check")).all() == []
            for name in ("user", "booking"):  # the rows stay while the table does
                if inspect(conn).has_table(name):
                    assert conn.scalar(select(func.count()).select_from(table(name)))
    upgrade(url, "head")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
            == script.get_current_head()
    engine.dispose()
