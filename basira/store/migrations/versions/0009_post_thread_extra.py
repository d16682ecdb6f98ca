"""posts.thread (the thread, page, channel or group a post belongs to), posts.extra and accounts.extra (input
fields Basira has no column for, kept as given)

Revision ID: 0009_post_thread_extra
Revises: 0008_bank_withdrawn
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_post_thread_extra"
down_revision = "0008_bank_withdrawn"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("thread", sa.String(length=256), nullable=True))
        batch.add_column(sa.Column("extra", sa.JSON(none_as_null=True), nullable=True))
        batch.create_index("ix_posts_thread", ["thread"], unique=False)
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("extra", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("extra")
    with op.batch_alter_table("posts") as batch:
        batch.drop_index("ix_posts_thread")
        batch.drop_column("extra")
        batch.drop_column("thread")
