"""DDL that migrations share: append-only tables enforced by triggers, and
SQLite's triggers against overlapping bookings.

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


def sqlite_overlap_trigger(
    who: str, column: str, end: str, event: str, look_back: str = ""
) -> str:
    """A SQLite trigger refusing an active booking that overlaps another of
    the same ``column`` (therapist, room or client) up to ``end``;
    ``look_back`` is an extra SQL condition bounding the rows it reads."""
    # Times are stored as fixed-width UTC text, so text order is time order.
    same_row = "AND b.id != NEW.id" if event == "UPDATE" else ""
    # Every part is a constant of a migration, never input.
    return f"""
        CREATE TRIGGER booking_{who}_no_overlap_{event.lower()}
        BEFORE {event} ON booking FOR EACH ROW
        WHEN NEW.{column} IS NOT NULL AND NEW.status IN ('pending', 'confirmed')
        BEGIN
            SELECT RAISE(ABORT, 'booking_{who}_no_overlap')
            WHERE EXISTS (
                SELECT 1 FROM booking AS b
                WHERE b.{column} = NEW.{column} {same_row}
                  AND b.status IN ('pending', 'confirmed')
                  AND b.starts_at < NEW.{end} AND NEW.starts_at < b.{end}
                  {look_back}
            );
        END
    """  # noqa: S608
