"""Intake, screening, clearance; services, therapists, rooms, schedules and
bookings, with the database guarantee against double booking.

PostgreSQL: exclusion constraints (btree_gist) over half-open time ranges for
the therapist, the room and the client. SQLite: triggers that refuse the same
overlaps (writers also take the lock before checking; see clinic.db).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 15:25:20.443102
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from clinic.db import UTCDateTime
from clinic.ddl import sqlite_overlap_trigger

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('room',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_room')),
    sa.UniqueConstraint('name', name=op.f('uq_room_name'))
    )
    op.create_table('service',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('price_pence', sa.Integer(), nullable=False),
    sa.Column('buffer_minutes', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.CheckConstraint('buffer_minutes BETWEEN 0 AND 120', name=op.f('ck_service_buffer_range')),
    sa.CheckConstraint('duration_minutes BETWEEN 5 AND 480', name=op.f('ck_service_duration_range')),
    sa.CheckConstraint('price_pence >= 0', name=op.f('ck_service_price_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service')),
    sa.UniqueConstraint('name', name=op.f('uq_service_name'))
    )
    op.create_table('clearance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('clinician_name', sa.String(length=120), nullable=False),
    sa.Column('profession', sa.String(length=60), nullable=False),
    sa.Column('note_date', sa.Date(), nullable=False),
    sa.Column('rule_ids', sa.JSON(), nullable=False),
    sa.Column('restrictions', sa.String(length=500), nullable=True),
    sa.Column('excluded_override', sa.JSON(), nullable=True),
    sa.Column('urgent_assessed', sa.Boolean(), nullable=False),
    sa.Column('received_via', sa.Enum('letter', 'email', 'verbal', name='received_via', native_enum=False, length=20), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', UTCDateTime(), nullable=False),
    sa.Column('valid_until', UTCDateTime(), nullable=False),
    sa.Column('lapsed_at', UTCDateTime(), nullable=True),
    sa.Column('lapsed_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['user.id'], name=op.f('fk_clearance_client_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_clearance_recorded_by_id_user'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clearance'))
    )
    with op.batch_alter_table('clearance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clearance_client_id'), ['client_id'], unique=False)

    op.create_table('closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('starts_at', UTCDateTime(), nullable=False),
    sa.Column('ends_at', UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_closure_start_before_end')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_closure_created_by_id_user'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closure'))
    )
    op.create_table('intake',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('full', 'rescreen', name='intake_kind', native_enum=False, length=20), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['based_on_id'], ['intake.id'], name=op.f('fk_intake_based_on_id_intake'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['client_id'], ['user.id'], name=op.f('fk_intake_client_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_intake_created_by_id_user'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake'))
    )
    with op.batch_alter_table('intake', schema=None) as batch_op:
        batch_op.create_index('ix_intake_client_created', ['client_id', 'created_at'], unique=False)

    op.create_table('therapist',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('bio', sa.String(length=1000), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('calendar_token', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_therapist_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_therapist')),
    sa.UniqueConstraint('calendar_token', name=op.f('uq_therapist_calendar_token'))
    )
    op.create_table('screening',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('intake_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('ruleset_version', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('booking_allowed', sa.Boolean(), nullable=False),
    sa.Column('top_technique', sa.String(length=20), nullable=True),
    sa.Column('extent_level', sa.Integer(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('cleared_rules', sa.JSON(), nullable=False),
    sa.Column('clearance_ids', sa.JSON(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['user.id'], name=op.f('fk_screening_client_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['intake_id'], ['intake.id'], name=op.f('fk_screening_intake_id_intake'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_screening'))
    )
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_screening_intake_id'), ['intake_id'], unique=False)

    op.create_table('therapist_service',
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_therapist_service_service_id_service'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist.user_id'], name=op.f('fk_therapist_service_therapist_id_therapist'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('therapist_id', 'service_id', name=op.f('pk_therapist_service'))
    )
    op.create_table('therapist_technique',
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('technique', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist.user_id'], name=op.f('fk_therapist_technique_therapist_id_therapist'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('therapist_id', 'technique', name=op.f('pk_therapist_technique'))
    )
    op.create_table('time_off',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', UTCDateTime(), nullable=False),
    sa.Column('ends_at', UTCDateTime(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_time_off_start_before_end')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_time_off_created_by_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist.user_id'], name=op.f('fk_time_off_therapist_id_therapist'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_time_off'))
    )
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_time_off_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('working_hours',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('start', sa.Time(), nullable=False),
    sa.Column('end', sa.Time(), nullable=False),
    sa.CheckConstraint('start < "end"', name=op.f('ck_working_hours_start_before_end')),
    sa.CheckConstraint('weekday BETWEEN 0 AND 6', name=op.f('ck_working_hours_weekday_range')),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist.user_id'], name=op.f('fk_working_hours_therapist_id_therapist'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_working_hours'))
    )
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_working_hours_therapist_id'), ['therapist_id'], unique=False)

    op.create_table('acknowledgement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['screening_id'], ['screening.id'], name=op.f('fk_acknowledgement_screening_id_screening'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['therapist_id'], ['user.id'], name=op.f('fk_acknowledgement_therapist_id_user'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_acknowledgement')),
    sa.UniqueConstraint('screening_id', name=op.f('uq_acknowledgement_screening_id'))
    )
    op.create_table('booking',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('therapist_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.Integer(), nullable=True),
    sa.Column('technique', sa.String(length=20), nullable=False),
    sa.Column('starts_at', UTCDateTime(), nullable=False),
    sa.Column('ends_at', UTCDateTime(), nullable=False),
    sa.Column('blocks_until', UTCDateTime(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'confirmed', 'cancelled', 'completed', 'no_show', name='booking_status', native_enum=False, length=20), nullable=False),
    sa.Column('screening_id', sa.Integer(), nullable=True),
    sa.Column('price_pence', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('cancelled_at', UTCDateTime(), nullable=True),
    sa.Column('cancelled_by_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.String(length=200), nullable=True),
    sa.Column('rescheduled_from_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('ends_at <= blocks_until', name=op.f('ck_booking_buffer_after_end')),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_booking_start_before_end')),
    sa.ForeignKeyConstraint(['cancelled_by_id'], ['user.id'], name=op.f('fk_booking_cancelled_by_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['client_id'], ['user.id'], name=op.f('fk_booking_client_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_booking_created_by_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['rescheduled_from_id'], ['booking.id'], name=op.f('fk_booking_rescheduled_from_id_booking'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['room_id'], ['room.id'], name=op.f('fk_booking_room_id_room'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['screening_id'], ['screening.id'], name=op.f('fk_booking_screening_id_screening'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['service_id'], ['service.id'], name=op.f('fk_booking_service_id_service'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['therapist_id'], ['therapist.user_id'], name=op.f('fk_booking_therapist_id_therapist'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking')),
    sa.UniqueConstraint('screening_id', name=op.f('uq_booking_screening_id'))
    )
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_client_starts', ['client_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_booking_starts', ['starts_at'], unique=False)
        batch_op.create_index('ix_booking_therapist_starts', ['therapist_id', 'starts_at'], unique=False)

    _create_overlap_guards()

    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_notice_minutes', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('horizon_days', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancel_cutoff_hours', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('slot_step_minutes', sa.Integer(), nullable=True))



def downgrade() -> None:
    _drop_overlap_guards()
    with op.batch_alter_table('clinic_settings', schema=None) as batch_op:
        batch_op.drop_column('slot_step_minutes')
        batch_op.drop_column('cancel_cutoff_hours')
        batch_op.drop_column('horizon_days')
        batch_op.drop_column('min_notice_minutes')

    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_therapist_starts')
        batch_op.drop_index('ix_booking_starts')
        batch_op.drop_index('ix_booking_client_starts')

    op.drop_table('booking')
    op.drop_table('acknowledgement')
    with op.batch_alter_table('working_hours', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_working_hours_therapist_id'))

    op.drop_table('working_hours')
    with op.batch_alter_table('time_off', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_time_off_therapist_id'))

    op.drop_table('time_off')
    op.drop_table('therapist_technique')
    op.drop_table('therapist_service')
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_intake_id'))
        batch_op.drop_index(batch_op.f('ix_screening_client_id'))

    op.drop_table('screening')
    op.drop_table('therapist')
    with op.batch_alter_table('intake', schema=None) as batch_op:
        batch_op.drop_index('ix_intake_client_created')

    op.drop_table('intake')
    op.drop_table('closure')
    with op.batch_alter_table('clearance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clearance_client_id'))

    op.drop_table('clearance')
    op.drop_table('service')
    op.drop_table('room')


# Which columns each guard compares, and where the busy range ends.
OVERLAP_GUARDS = {
    "therapist": ("therapist_id", "blocks_until"),
    "room": ("room_id", "blocks_until"),
    "client": ("client_id", "ends_at"),
}
ACTIVE = "status IN ('pending', 'confirmed')"


def _create_overlap_guards() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for who, (column, end) in OVERLAP_GUARDS.items():
            not_null = f"{column} IS NOT NULL AND " if column == "room_id" else ""
            op.execute(
                f"ALTER TABLE booking ADD CONSTRAINT booking_{who}_no_overlap "
                f"EXCLUDE USING gist ({column} WITH =, "
                f"tstzrange(starts_at, {end}, '[)') WITH &&) "
                f"WHERE ({not_null}{ACTIVE})"
            )
    elif dialect == "sqlite":
        for who, (column, end) in OVERLAP_GUARDS.items():
            for event in ("INSERT", "UPDATE"):
                op.execute(sqlite_overlap_trigger(who, column, end, event))


def _drop_overlap_guards() -> None:
    dialect = op.get_bind().dialect.name
    for who in OVERLAP_GUARDS:
        if dialect == "postgresql":
            op.execute(f"ALTER TABLE booking DROP CONSTRAINT IF EXISTS booking_{who}_no_overlap")
        elif dialect == "sqlite":
            for event in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS booking_{who}_no_overlap_{event}")
