"""cases.platform_id: the platform of a case's subject (its post's, else its account's), written by intake
and backfilled here, with a partial index in the queue's order per platform, so the queue's source sort
walks platforms (few) and each one's cases from the index instead of sorting every queue row, and the
source filter needs no post, account and platform joins (basira/review/repository.py)

Revision ID: 0015_cases_platform
Revises: 0014_posts_lang
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_cases_platform"
down_revision = "0014_posts_lang"
branch_labels = None
depends_on = None

QUEUE = "status IN ('open', 'escalated', 'appealed')"


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:  # SQLite: a foreign key is added by copying the table
        batch.add_column(sa.Column("platform_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_cases_platform_id_platforms", "platforms", ["platform_id"], ["id"])
    # The same platform the queue showed before (basira.review.repository, the source column): a post's own
    # platform, else its account's; an account's; none for a network-level subject (a community, a group).
    op.execute("UPDATE cases SET platform_id = (SELECT COALESCE(p.platform_id, a.platform_id) FROM posts p "
               "LEFT JOIN accounts a ON a.id = p.account_id WHERE p.id = cases.subject_id) "
               "WHERE subject_kind = 'post'")
    op.execute("UPDATE cases SET platform_id = (SELECT a.platform_id FROM accounts a WHERE a.id = cases.subject_id) "
               "WHERE subject_kind = 'account'")
    op.create_index("ix_cases_queue_platform", "cases", ["platform_id", sa.text("priority DESC"), "opened_at", "id"],
                    postgresql_where=sa.text(QUEUE), sqlite_where=sa.text(QUEUE))


def downgrade() -> None:
    op.drop_index("ix_cases_queue_platform", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_constraint("fk_cases_platform_id_platforms", type_="foreignkey")
        batch.drop_column("platform_id")
