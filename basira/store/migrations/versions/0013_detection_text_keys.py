"""detections.text_keys: the review-group keys of a flagged post's text (MinHash bands), computed where the post
was scored — on a Dask worker in a cluster scan — so the scan's client only joins them (basira.cases.groups)

Revision ID: 0013_detection_text_keys
Revises: 0012_queue
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_detection_text_keys"
down_revision = "0012_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL on the detections stored before: the grouper computes those keys itself, as it did.
    op.add_column("detections", sa.Column("text_keys", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("detections") as batch:
        batch.drop_column("text_keys")
