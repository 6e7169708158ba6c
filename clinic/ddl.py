"""DDL that migrations share: append-only tables enforced by triggers.

Audit rows and signed clinical notes must never change, not even by an
admin with a database session, so the database itself refuses it.
"""

from __future__ import annotations

from alembic import op


def make_append_only(table: str, *, when: str | None = None) -> None:
    """Refuse UPDATE and DELETE on ``table`` (optionally only rows matching
    ``when``, an SQL condition over ``OLD``)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        _postgres_triggers(table, when)
    elif dialect == "sqlite":
        _sqlite_triggers(table, when)
    else:
        # Only SQLite and PostgreSQL are supported databases (README).
        raise RuntimeError(f"append-only tables are not set up for {dialect}")


def drop_append_only(table: str) -> None:
    dialect = op.get_bind().dialect.name
    for event in ("update", "delete"):
        name = f"{table}_no_{event}"
        if dialect == "postgresql":
            op.execute(f'DROP TRIGGER IF EXISTS {name} ON "{table}"')
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    if dialect == "postgresql":
        op.execute(f"DROP FUNCTION IF EXISTS {table}_refuse_change()")


def _postgres_triggers(table: str, when: str | None) -> None:
    op.execute(
        f"""
        CREATE FUNCTION {table}_refuse_change() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION '{table} rows are append-only'
                USING ERRCODE = 'integrity_constraint_violation';
        END;
        $$ LANGUAGE plpgsql
        """
    )
    condition = f"WHEN ({when})" if when else ""
    for event in ("update", "delete"):
        op.execute(
            f'CREATE TRIGGER {table}_no_{event} BEFORE {event.upper()} ON "{table}" '
            f"FOR EACH ROW {condition} EXECUTE FUNCTION {table}_refuse_change()"
        )


def _sqlite_triggers(table: str, when: str | None) -> None:
    condition = f"WHEN {when}" if when else ""
    for event in ("update", "delete"):
        op.execute(
            f'CREATE TRIGGER {table}_no_{event} BEFORE {event.upper()} ON "{table}" '
            f"FOR EACH ROW {condition} BEGIN "
            f"SELECT RAISE(ABORT, '{table} rows are append-only'); END"
        )
