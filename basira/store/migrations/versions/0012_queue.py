"""the review queue at scale: detections.policy as a column (backfilled from evidence.policy) and the queue's
partial indexes (basira.store.models; why each: basira/review/repository.py)

Revision ID: 0012_queue
Revises: 0011_review_groups
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_queue"
down_revision = "0011_review_groups"
branch_labels = None
depends_on = None

QUEUE = "status IN ('open', 'escalated', 'appealed')"
POLICIES = ("terrorist_support", "hate_speech")


def upgrade() -> None:
    op.add_column("detections", sa.Column("policy", sa.String(length=32), nullable=True))
    bind = op.get_bind()
    value = ("evidence ->> 'policy'" if bind.dialect.name == "postgresql"
             else "json_extract(evidence, '$.policy')")
    allowed = ", ".join(f"'{p}'" for p in POLICIES)  # anything else the evidence held stays NULL
    op.execute(f"UPDATE detections SET policy = {value} WHERE {value} IN ({allowed})")
    where = {"postgresql_where": sa.text(QUEUE), "sqlite_where": sa.text(QUEUE)}
    op.create_index("ix_cases_queue_priority", "cases", [sa.text("priority DESC"), "opened_at", "id"], **where)
    op.create_index("ix_cases_queue_opened", "cases", ["opened_at", "id"], **where)
    op.create_index("ix_cases_queue_detection", "cases", ["detection_id"], **where)
    op.create_index("ix_detections_policy", "detections", ["policy", "score"],
                    postgresql_where=sa.text("policy IS NOT NULL"), sqlite_where=sa.text("policy IS NOT NULL"))


def downgrade() -> None:
    for name, table in (("ix_detections_policy", "detections"), ("ix_cases_queue_detection", "cases"),
                        ("ix_cases_queue_opened", "cases"), ("ix_cases_queue_priority", "cases")):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("detections") as batch:
        batch.drop_column("policy")
