"""compliance (Regulation (EU) 2021/784): removal_orders, removal_order_targets, order_alerts, content_notices,
complaints, preserved_items

Revision ID: 0005_compliance
Revises: 0004_banks
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_compliance"
down_revision = "0004_banks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("removal_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("authority", sa.String(length=256), nullable=False),
        sa.Column("order_ref", sa.String(length=128), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=False),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("executed_by", sa.String(length=64), nullable=True),
        sa.Column("execution_method", sa.Text(), nullable=True),
        sa.Column("statement", sa.JSON(), nullable=True),
        sa.Column("statement_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("authority", "order_ref", name="uq_removal_orders_ref")
    )
    op.create_index("ix_removal_orders_deadline_at", "removal_orders", ["deadline_at"], unique=False)
    op.create_index("ix_removal_orders_received_at", "removal_orders", ["received_at"], unique=False)
    op.create_index("ix_removal_orders_status", "removal_orders", ["status"], unique=False)
    op.create_table("order_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("threshold_minutes", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["removal_orders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("order_id", "threshold_minutes", "channel", name="uq_order_alerts_once")
    )
    op.create_table("complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("complainant", sa.String(length=256), nullable=False),
        sa.Column("grounds", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=64), nullable=True),
        sa.Column("decision_reasons", sa.Text(), nullable=True),
        sa.Column("reinstated", sa.Boolean(), nullable=False),
        sa.Column("reinstated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["removal_orders.id"]),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_complaints_order_id", "complaints", ["order_id"], unique=False)
    op.create_index("ix_complaints_received_at", "complaints", ["received_at"], unique=False)
    op.create_index("ix_complaints_status", "complaints", ["status"], unique=False)
    op.create_table("preserved_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=64), nullable=True),
        sa.Column("external_id", sa.String(length=128), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("preserved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("preserve_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("legal_hold_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("legal_hold_reason", sa.Text(), nullable=True),
        sa.Column("content", sa.JSON(), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["removal_orders.id"]),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_preserved_items_order_id", "preserved_items", ["order_id"], unique=False)
    op.create_index("ix_preserved_items_post_id", "preserved_items", ["post_id"], unique=False)
    op.create_index("ix_preserved_items_preserve_until", "preserved_items", ["preserve_until"], unique=False)
    op.create_index("ix_preserved_items_purged_at", "preserved_items", ["purged_at"], unique=False)
    op.create_table("content_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("platform", sa.String(length=64), nullable=True),
        sa.Column("external_post_id", sa.String(length=128), nullable=True),
        sa.Column("external_account_id", sa.String(length=128), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("redress", sa.Text(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withheld_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["removal_orders.id"]),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_content_notices_order_id", "content_notices", ["order_id"], unique=False)
    op.create_index("ix_content_notices_post_id", "content_notices", ["post_id"], unique=False)
    op.create_table("removal_order_targets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("decision_id", sa.Integer(), nullable=True),
        sa.Column("delivery_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("executed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.ForeignKeyConstraint(["order_id"], ["removal_orders.id"]),
        sa.PrimaryKeyConstraint("id")
    )
    op.create_index("ix_removal_order_targets_order_id", "removal_order_targets", ["order_id"], unique=False)
    op.create_index("ix_removal_order_targets_post_id", "removal_order_targets", ["post_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_removal_order_targets_post_id", table_name="removal_order_targets")
    op.drop_index("ix_removal_order_targets_order_id", table_name="removal_order_targets")
    op.drop_table("removal_order_targets")
    op.drop_index("ix_content_notices_post_id", table_name="content_notices")
    op.drop_index("ix_content_notices_order_id", table_name="content_notices")
    op.drop_table("content_notices")
    op.drop_index("ix_preserved_items_purged_at", table_name="preserved_items")
    op.drop_index("ix_preserved_items_preserve_until", table_name="preserved_items")
    op.drop_index("ix_preserved_items_post_id", table_name="preserved_items")
    op.drop_index("ix_preserved_items_order_id", table_name="preserved_items")
    op.drop_table("preserved_items")
    op.drop_index("ix_complaints_status", table_name="complaints")
    op.drop_index("ix_complaints_received_at", table_name="complaints")
    op.drop_index("ix_complaints_order_id", table_name="complaints")
    op.drop_table("complaints")
    op.drop_table("order_alerts")
    op.drop_index("ix_removal_orders_status", table_name="removal_orders")
    op.drop_index("ix_removal_orders_received_at", table_name="removal_orders")
    op.drop_index("ix_removal_orders_deadline_at", table_name="removal_orders")
    op.drop_table("removal_orders")
