"""hash-matching banks: banks, bank_items, bank_matches, bank_sync_checkpoints

Revision ID: 0004_banks
Revises: 0003_follows
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_banks"
down_revision = "0003_follows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "banks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("negative", sa.Boolean(), nullable=False),
        sa.Column("enabled_ratio", sa.Float(), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "bank_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("signal_type", sa.String(length=32), nullable=False),
        sa.Column("signal", sa.Text(), nullable=False),
        sa.Column("signal_key", sa.String(length=64), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("external_id", sa.String(length=256), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opinion", sa.String(length=16), nullable=False),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bank_id", "signal_type", "signal_key", name="uq_bank_items_signal"),
    )
    op.create_index("ix_bank_items_signal_key", "bank_items", ["signal_key"], unique=False)
    op.create_table(
        "bank_matches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=256), nullable=False),
        sa.Column("signal_type", sa.String(length=32), nullable=False),
        sa.Column("distance", sa.Float(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["item_id"], ["bank_items.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bank_matches_item_id", "bank_matches", ["item_id"], unique=False)
    op.create_index("ix_bank_matches_subject", "bank_matches", ["subject"], unique=False)
    op.create_table(
        "bank_sync_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("checkpoint", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bank_id"], ["banks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("bank_id", "source", name="uq_bank_sync_source"),
    )


def downgrade() -> None:
    op.drop_table("bank_sync_checkpoints")
    op.drop_index("ix_bank_matches_subject", table_name="bank_matches")
    op.drop_index("ix_bank_matches_item_id", table_name="bank_matches")
    op.drop_table("bank_matches")
    op.drop_index("ix_bank_items_signal_key", table_name="bank_items")
    op.drop_table("bank_items")
    op.drop_table("banks")
