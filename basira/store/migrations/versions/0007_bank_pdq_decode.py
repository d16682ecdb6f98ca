"""banks.pdq_decode: how each bank's images are decoded for PDQ (full | fast; NULL: not chosen, read as fast
until the bank is first fed by an exchange, which makes it full)

Revision ID: 0007_bank_pdq_decode
Revises: 0006_one_copy_per_decision
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_bank_pdq_decode"
down_revision = "0006_one_copy_per_decision"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.add_column(sa.Column("pdq_decode", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("banks") as batch:
        batch.drop_column("pdq_decode")
