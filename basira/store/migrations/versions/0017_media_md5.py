"""media.md5: the MD5 of a post's media, stored beside SHA-256 and PDQ (the content API hashes fetched and
uploaded media to all three; MD5 was matched at intake and then dropped, so a bank that learns an MD5 later
could not match the stored post, and evidence packages lacked it)

Revision ID: 0017_media_md5
Revises: 0016_queue_group_size
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_media_md5"
down_revision = "0016_queue_group_size"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("media", sa.Column("md5", sa.String(32), nullable=True))
    op.create_index("ix_media_md5", "media", ["md5"])


def downgrade() -> None:
    op.drop_index("ix_media_md5", table_name="media")
    with op.batch_alter_table("media") as batch:
        batch.drop_column("md5")
