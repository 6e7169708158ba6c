"""No booking holds its therapist longer than the longest service can (a
480-minute session and a 120-minute buffer), so a search for bookings that
overlap a time needs to look back only that far.

The app's calendar read already relied on this bound; now the database keeps
it. PostgreSQL: a check constraint. SQLite, which cannot add one without
rebuilding the table: triggers. SQLite's overlap triggers are rebuilt to use
the bound: they used to read every earlier booking of the therapist, client or
room, so each INSERT grew slower as the clinic's history grew (median 0.12 ms
with none, 1.6 ms after a year of six sessions a weekday; now 0.025 ms at
both: ``python -m tests.bench --history``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

from alembic import op

from clinic.ddl import sqlite_overlap_trigger

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

# A snapshot of clinic.booking.models.LONGEST_HOLD when this revision was made.
LONGEST_HOLD_MINUTES = 600
# Which columns each overlap guard compares, and where the busy range ends.
OVERLAP_GUARDS = {
    "therapist": ("therapist_id", "blocks_until"),
    "room": ("room_id", "blocks_until"),
    "client": ("client_id", "ends_at"),
}
# Every busy range ends by its start plus the longest hold, so only bookings
# starting after the new one's start minus that bound can overlap it.
# datetime() drops fractions of a second, which only widens the range.
LOOK_BACK = (
    f"AND b.starts_at >= datetime(NEW.starts_at, '-{LONGEST_HOLD_MINUTES} minutes')"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "ALTER TABLE booking ADD CONSTRAINT ck_booking_longest_hold CHECK "
            f"(blocks_until <= starts_at + interval '{LONGEST_HOLD_MINUTES} minutes')"
        )
    elif dialect == "sqlite":
        for event in ("INSERT", "UPDATE OF starts_at, blocks_until"):
            op.execute(_sqlite_longest_hold_trigger(event))
        _replace_sqlite_overlap_triggers(LOOK_BACK)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("ALTER TABLE booking DROP CONSTRAINT ck_booking_longest_hold")
    elif dialect == "sqlite":
        for event in ("insert", "update"):
            op.execute(f"DROP TRIGGER booking_longest_hold_{event}")
        _replace_sqlite_overlap_triggers("")


def _sqlite_longest_hold_trigger(event: str) -> str:
    name = event.split()[0].lower()
    # strftime('%s') gives whole seconds since the epoch, so this is exact for
    # the whole-minute times bookings have.
    return f"""
        CREATE TRIGGER booking_longest_hold_{name}
        BEFORE {event} ON booking FOR EACH ROW
        WHEN strftime('%s', NEW.blocks_until) - strftime('%s', NEW.starts_at)
             > {LONGEST_HOLD_MINUTES * 60}
        BEGIN
            SELECT RAISE(ABORT, 'booking_longest_hold');
        END
    """


def _replace_sqlite_overlap_triggers(look_back: str) -> None:
    for who, (column, end) in OVERLAP_GUARDS.items():
        for event in ("INSERT", "UPDATE"):
            op.execute(f"DROP TRIGGER booking_{who}_no_overlap_{event.lower()}")
            op.execute(sqlite_overlap_trigger(who, column, end, event, look_back))
