"""bank items withdrawn by their source (an exchange's `deleted`): bank_items.withdrawn_at

Revision ID: 0008_bank_withdrawn
Revises: 0007_bank_pdq_decode
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_bank_withdrawn"
down_revision = "0007_bank_pdq_decode"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("bank_items") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("bank_items") as batch:
        batch.drop_column("withdrawn_at")
