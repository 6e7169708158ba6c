"""When each user's email address was confirmed (clients confirm theirs
before booking). Accounts made before this revision count as confirmed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 19:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clinic.db import UTCDateTime

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', UTCDateTime(), nullable=True))
    # Existing accounts predate confirmation: do not lock anyone out of booking.
    op.execute('UPDATE "user" SET email_verified_at = created_at')


def downgrade() -> None:
    # Dropped in place (SQLite 3.35+ can), not by batch mode's copy of the
    # table: dropping the old "user" table would break every foreign key
    # that points at it while the database holds any rows that use them.
    op.drop_column('user', 'email_verified_at')
