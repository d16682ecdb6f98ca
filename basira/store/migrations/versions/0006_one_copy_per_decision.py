"""one preserved copy and one notice per decision: unique indexes on preserved_items.decision_id and
content_notices.decision_id

Databases written before this revision may hold duplicates (the request path and the compliance loop could both
preserve one decision). The earliest row of each decision keeps the link; later duplicates keep their content and
their audit events but lose the decision id (decision_id NULL), so nothing stored is deleted.

Revision ID: 0006_one_copy_per_decision
Revises: 0005_compliance
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_one_copy_per_decision"
down_revision = "0005_compliance"
branch_labels = None
depends_on = None

TABLES = ("preserved_items", "content_notices")


def upgrade() -> None:
    for table in TABLES:
        op.execute(sa.text(
            f"UPDATE {table} SET decision_id = NULL WHERE decision_id IS NOT NULL AND id NOT IN "
            f"(SELECT MIN(id) FROM {table} WHERE decision_id IS NOT NULL GROUP BY decision_id)"))
        op.create_index(f"ix_{table}_decision_id", table, ["decision_id"], unique=True)


def downgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_decision_id", table_name=table)
