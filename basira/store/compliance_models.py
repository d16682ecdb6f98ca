"""Tables for compliance with Regulation (EU) 2021/784 (TCO): removal orders, their targets and deadline alerts,
notices to content providers, complaints, and preserved removed content (migration 0005_compliance).

Ids of posts and accounts are kept without foreign keys where the row must outlive the platform data (the
minimal record the law requires survives the purge, and a later deletion of the post row); ids of decisions and
webhook deliveries too (the review tables may be re-created on an old database: basira.review.repository).

removal_orders — one order from a competent authority (art. 3):
    authority, order_ref   issuing authority and its reference; unique together (a re-sent order is one order)
    legal_basis            e.g. "Regulation (EU) 2021/784, art. 3"; reasons: the authority's statement of reasons
    reason_code            policy catalogue code cited by the removal decisions it causes (default TCO-ORDER)
    contact                where the statement back to the authority goes (e-mail or URL), if given
    source                 web | api | file: how it came in; created_by: the user or file that entered it
    received_at            when the service received it (the clock starts here); deadline_at = received_at + 1 h
    status                 open | executed | rejected | withdrawn; status_reason: why rejected/withdrawn
    executed_at/by         when and by whom it was executed; execution_method: how (e.g. "webhook:remove")
    statement              the statement back to the authority (JSON, art. 3(6)); statement_sent_at when sent
    details                any further fields of the order as received (member state, urgency, …)
removal_order_targets — one content item named by an order:
    target                 as given (URL, "platform:post:external_id", …); kind post | account | unknown
    post_id, account_id    resolved rows (None when not found); case_id, decision_id the case and "order"
                           decision that removed it; delivery_id the action webhook (webhook_deliveries) row
    outcome                pending | removed | already_removed (a final, unreversed removal existed) | not_found;
                           executed_at
order_alerts — one alert per order, threshold (30, 10, 0 minutes left) and channel (webhook | email); the unique
    key makes each alert go out exactly once. status sending | sent | failed | skipped (superseded by a more
    urgent one); attempts, last_error; sent_at: when sent (while sending: when the attempt started).
content_notices — the notice to the content provider (art. 11): post_id/account_id (+ platform, external ids),
    order_id or decision_id that removed it, reasons, legal_basis, redress (how to complain), body (the notice as
    JSON), created_at, withheld_until (art. 11(3): authority asked to delay it), delivered_at, delivery_id.
complaints — complaint by a content provider (art. 10): order_id or case_id, post_id/account_id, complainant,
    grounds, received_at; status open | upheld | rejected; decided_at, decided_by, decision_reasons;
    reinstated (content restored because the complaint was upheld) and reinstated_at.
preserved_items — removed content and related data kept for six months (art. 6):
    post_id/account_id, platform, external_id; case_id, order_id, decision_id; reason removal_order | decision
    legal_basis, preserved_at, preserve_until (+6 months), legal_hold_until/legal_hold_reason (art. 6(2)
    extension), content (snapshot JSON: text, media, account, detections — deleted by the purge), content_sha256
    (of the snapshot's canonical JSON: kept, so the purged content can still be matched), purged_at.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from basira.store.models import Base, UTCDateTime


class RemovalOrder(Base):
    __tablename__ = "removal_orders"
    __table_args__ = (sa.UniqueConstraint("authority", "order_ref", name="uq_removal_orders_ref"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    authority: Mapped[str] = mapped_column(sa.String(256))
    order_ref: Mapped[str] = mapped_column(sa.String(128))
    legal_basis: Mapped[str] = mapped_column(sa.Text)
    reasons: Mapped[str] = mapped_column(sa.Text)
    reason_code: Mapped[str] = mapped_column(sa.String(64))
    contact: Mapped[str | None] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.String(8))
    created_by: Mapped[str | None] = mapped_column(sa.String(256))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    status_reason: Mapped[str | None] = mapped_column(sa.Text)
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    executed_by: Mapped[str | None] = mapped_column(sa.String(64))
    execution_method: Mapped[str | None] = mapped_column(sa.Text)
    statement: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    statement_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class RemovalOrderTarget(Base):
    __tablename__ = "removal_order_targets"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("removal_orders.id"), index=True)
    target: Mapped[str] = mapped_column(sa.Text)
    kind: Mapped[str] = mapped_column(sa.String(16))
    post_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    account_id: Mapped[int | None] = mapped_column(sa.Integer)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    decision_id: Mapped[int | None] = mapped_column(sa.Integer)
    delivery_id: Mapped[int | None] = mapped_column(sa.Integer)
    outcome: Mapped[str] = mapped_column(sa.String(16))
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OrderAlert(Base):
    __tablename__ = "order_alerts"
    __table_args__ = (
        sa.UniqueConstraint("order_id", "threshold_minutes", "channel", name="uq_order_alerts_once"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("removal_orders.id"))
    threshold_minutes: Mapped[int] = mapped_column(sa.Integer)
    channel: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ContentNotice(Base):
    __tablename__ = "content_notices"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    account_id: Mapped[int | None] = mapped_column(sa.Integer)
    platform: Mapped[str | None] = mapped_column(sa.String(64))
    external_post_id: Mapped[str | None] = mapped_column(sa.String(128))
    external_account_id: Mapped[str | None] = mapped_column(sa.String(128))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("removal_orders.id"), index=True)
    # One notice / one preserved copy per decision, enforced by the database (migration 0006); NULLs are distinct.
    decision_id: Mapped[int | None] = mapped_column(sa.Integer, index=True, unique=True)
    reasons: Mapped[str] = mapped_column(sa.Text)
    legal_basis: Mapped[str] = mapped_column(sa.Text)
    redress: Mapped[str] = mapped_column(sa.Text)
    body: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withheld_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivery_id: Mapped[int | None] = mapped_column(sa.Integer)


class Complaint(Base):
    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("removal_orders.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    post_id: Mapped[int | None] = mapped_column(sa.Integer)
    account_id: Mapped[int | None] = mapped_column(sa.Integer)
    complainant: Mapped[str] = mapped_column(sa.String(256))
    grounds: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(sa.String(64))
    decision_reasons: Mapped[str | None] = mapped_column(sa.Text)
    reinstated: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    reinstated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PreservedItem(Base):
    __tablename__ = "preserved_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    account_id: Mapped[int | None] = mapped_column(sa.Integer)
    platform: Mapped[str | None] = mapped_column(sa.String(64))
    external_id: Mapped[str | None] = mapped_column(sa.String(128))
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cases.id"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("removal_orders.id"), index=True)
    # One notice / one preserved copy per decision, enforced by the database (migration 0006); NULLs are distinct.
    decision_id: Mapped[int | None] = mapped_column(sa.Integer, index=True, unique=True)
    reason: Mapped[str] = mapped_column(sa.String(32))
    legal_basis: Mapped[str] = mapped_column(sa.Text)
    preserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    preserve_until: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    legal_hold_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    legal_hold_reason: Mapped[str | None] = mapped_column(sa.Text)
    content: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    content_sha256: Mapped[str] = mapped_column(sa.String(64))
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
