"""content_queue: the work queue of POST /api/v1/content?mode=async, drained by `basira worker`

Revision ID: 0010_content_queue
Revises: 0009_post_thread_extra
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_content_queue"
down_revision = "0009_post_thread_extra"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "content_queue",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("platform", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=256), nullable=False),
        sa.Column("item", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("worker", sa.String(length=128), nullable=True),
        sa.Column("result", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("enqueued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_status", sa.String(length=16), nullable=False),
        sa.Column("delivery_attempts", sa.Integer(), nullable=False),
        sa.Column("next_delivery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_delivery_error", sa.Text(), nullable=True),
        sa.UniqueConstraint("platform", "external_id", name="uq_content_queue_post"),
    )
    op.create_index("ix_content_queue_status", "content_queue", ["status"])
    op.create_index("ix_content_queue_delivery_status", "content_queue", ["delivery_status"])


def downgrade() -> None:
    op.drop_index("ix_content_queue_delivery_status", table_name="content_queue")
    op.drop_index("ix_content_queue_status", table_name="content_queue")
    op.drop_table("content_queue")
