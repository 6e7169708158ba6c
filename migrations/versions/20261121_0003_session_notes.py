"""Session notes and addenda. Signed notes and every addendum are
append-only: triggers refuse UPDATE and DELETE on every database.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 15:31:08.770360
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clinic.db import UTCDateTime
from clinic.ddl import drop_append_only, make_append_only


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('session_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'signed', name='note_status', native_enum=False, length=20), nullable=False),
    sa.Column('subjective', sa.Text(), nullable=False),
    sa.Column('objective', sa.Text(), nullable=False),
    sa.Column('assessment', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('techniques_used', sa.JSON(), nullable=False),
    sa.Column('pressure', sa.Enum('light', 'moderate', 'firm', name='pressure', native_enum=False, length=20), nullable=True),
    sa.Column('areas_treated', sa.String(length=500), nullable=False),
    sa.Column('areas_avoided', sa.String(length=500), nullable=False),
    sa.Column('nprs_before', sa.Integer(), nullable=True),
    sa.Column('nprs_after', sa.Integer(), nullable=True),
    sa.Column('extent_level', sa.Integer(), nullable=True),
    sa.Column('extent_trend', sa.String(length=20), nullable=True),
    sa.Column('home_care', sa.Text(), nullable=False),
    sa.Column('advisories', sa.JSON(), nullable=False),
    sa.Column('previous_response', sa.Enum('better', 'same', 'worse', name='response', native_enum=False, length=20), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('signed_at', UTCDateTime(), nullable=True),
    sa.CheckConstraint("(status = 'signed') = (signed_at IS NOT NULL)", name=op.f('ck_session_note_signed_has_time')),
    sa.CheckConstraint('extent_level BETWEEN 0 AND 5', name=op.f('ck_session_note_extent_level_range')),
    sa.CheckConstraint('nprs_after BETWEEN 0 AND 10', name=op.f('ck_session_note_nprs_after_range')),
    sa.CheckConstraint('nprs_before BETWEEN 0 AND 10', name=op.f('ck_session_note_nprs_before_range')),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_session_note_author_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'], name=op.f('fk_session_note_booking_id_booking'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['client_id'], ['user.id'], name=op.f('fk_session_note_client_id_user'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_session_note')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_session_note_booking_id'))
    )
    with op.batch_alter_table('session_note', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_session_note_client_id'), ['client_id'], unique=False)

    op.create_table('note_addendum',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_note_addendum_author_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['note_id'], ['session_note.id'], name=op.f('fk_note_addendum_note_id_session_note'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_note_addendum'))
    )
    with op.batch_alter_table('note_addendum', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_note_addendum_note_id'), ['note_id'], unique=False)

    # A signed note never changes; drafts stay editable by their author.
    make_append_only("session_note", when="OLD.status = 'signed'")
    make_append_only("note_addendum")


def downgrade() -> None:
    drop_append_only("note_addendum")
    drop_append_only("session_note")
    with op.batch_alter_table('note_addendum', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_note_addendum_note_id'))

    op.drop_table('note_addendum')
    with op.batch_alter_table('session_note', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_session_note_client_id'))

    op.drop_table('session_note')
