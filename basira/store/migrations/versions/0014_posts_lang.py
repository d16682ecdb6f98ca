"""posts' language indexed: the queue's language sort reads the distinct languages by an index skip scan
(basira/review/repository.py, _sort_values) instead of sorting every queue row

Revision ID: 0014_posts_lang
Revises: 0013_detection_text_keys
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0014_posts_lang"
down_revision = "0013_detection_text_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_lang", "posts", ["lang"])


def downgrade() -> None:
    op.drop_index("ix_posts_lang", table_name="posts")
