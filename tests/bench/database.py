"""The benchmark's databases: a temp SQLite file, or the PostgreSQL bench
database (created if missing, its public schema dropped), both built by the
real Alembic migrations."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test_bench"


@contextmanager
def database(kind: str) -> Iterator[str]:
    """A freshly migrated database: a temp SQLite file, or the PG bench database."""
    if kind == "postgresql":
        url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG)
        reset_postgres(url)
        migrate(url)
        yield url
        return
    folder = tempfile.mkdtemp(prefix="clinic-bench-")
    try:
        url = f"sqlite:///{folder}/bench.sqlite3"
        migrate(url)
        yield url
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_bench_name(url: str) -> None:
    name = make_url(url).database or ""
    if "bench" not in name and "test" not in name:
        raise SystemExit(
            f"Refusing database {name!r}: its schema is dropped, so its name must "
            "contain 'bench' or 'test'."
        )


def reset_postgres(url: str) -> None:
    """Create the bench database if missing, then empty its public schema."""
    check_bench_name(url)
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            text("SELECT 1 FROM pg_database WHERE datname = :name"),
            {"name": parsed.database},
        )
        if not exists:
            quoted = (parsed.database or "").replace('"', '""')
            conn.exec_driver_sql(f'CREATE DATABASE "{quoted}"')
    admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


def migrate(url: str) -> None:
    """Run the real Alembic migrations, without their INFO logging."""
    from alembic import command

    from clinic.migrate import alembic_config

    config = alembic_config(url)
    config.attributes["quiet"] = True
    command.upgrade(config, "head")
