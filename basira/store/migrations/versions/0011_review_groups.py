"""review groups: near-duplicate cases reviewed as one (basira.store.group_models); an index for the queue's order

Revision ID: 0011_review_groups
Revises: 0010_content_queue
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from basira.store.models import UTCDateTime

revision = "0011_review_groups"
down_revision = "0010_content_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_groups",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("lead_case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("accounts", sa.Integer(), nullable=False),
        sa.Column("followers", sa.Integer(), nullable=False),
        sa.Column("reposts", sa.Integer(), nullable=False),
        sa.Column("newest_at", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_review_groups_lead_case_id", "review_groups", ["lead_case_id"])
    op.create_index("ix_review_groups_status", "review_groups", ["status"])
    op.create_table(
        "review_group_members",
        sa.Column("case_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("group_id", sa.Integer(), sa.ForeignKey("review_groups.id"), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("joined_at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_review_group_members_group_id", "review_group_members", ["group_id"])
    op.create_table(
        "review_group_keys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(length=96), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
    )
    op.create_index("ix_review_group_keys_key", "review_group_keys", ["key"])
    op.create_index("ix_review_group_keys_case_id", "review_group_keys", ["case_id"])
    op.create_table(
        "review_group_decisions",
        sa.Column("decision_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("lead_decision_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
    )
    op.create_index("ix_review_group_decisions_lead_decision_id", "review_group_decisions", ["lead_decision_id"])
    op.create_index("ix_review_group_decisions_group_id", "review_group_decisions", ["group_id"])


def downgrade() -> None:
    for t in ("review_group_decisions", "review_group_keys", "review_group_members", "review_groups"):
        op.drop_table(t)
