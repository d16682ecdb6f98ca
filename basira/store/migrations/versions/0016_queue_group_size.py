"""The queue's group-size sort and category filter without reading every queue row: a partial index on the open
groups' size (the sizes' histogram and the walk by size ranges in basira/review/repository.py read it), and on
PostgreSQL statistics on the detections' categories as text, so the planner knows how many cases a category
filter keeps (it guessed 10 of 100,000 and drove the page from a scan of every detection: ~1 s a page).

Revision ID: 0016_queue_group_size
Revises: 0015_cases_platform
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_queue_group_size"
down_revision = "0015_cases_platform"
branch_labels = None
depends_on = None

OPEN = "status = 'open'"


def upgrade() -> None:
    op.create_index("ix_review_groups_open_size", "review_groups", ["size", "lead_case_id"],
                    postgresql_where=sa.text(OPEN), sqlite_where=sa.text(OPEN))
    if op.get_bind().dialect.name == "postgresql":
        # Expression statistics (PostgreSQL 14+): the LIKE on the categories' text is estimated from their most
        # common values instead of a fixed guess; no index to keep up.
        op.execute("CREATE STATISTICS IF NOT EXISTS st_detections_categories ON (CAST(categories AS TEXT)) "
                   "FROM detections")
        op.execute("ANALYZE detections")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP STATISTICS IF EXISTS st_detections_categories")
    op.drop_index("ix_review_groups_open_size", table_name="review_groups")
