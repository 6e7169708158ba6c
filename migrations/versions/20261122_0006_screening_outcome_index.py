"""An index on each screening's outcome, so the review queue reads only the
urgent, refer and caution screenings instead of every screening the clinic
has made (one per booking, so the table grows with the clinic's history).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_screening_outcome'), ['outcome'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('screening', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_screening_outcome'))
