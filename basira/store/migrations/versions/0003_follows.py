"""follows: who follows whom, for network analysis

Revision ID: 0003_follows
Revises: 0002_review
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_follows"
down_revision = "0002_review"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["platforms.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["target_id"], ["accounts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "target_id", name="uq_follows_source_target"),
    )
    op.create_index("ix_follows_target", "follows", ["target_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_follows_target", table_name="follows")
    op.drop_table("follows")
