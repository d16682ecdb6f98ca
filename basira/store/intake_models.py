"""The content intake work queue (POST /api/v1/content?mode=async, drained by `basira worker`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from basira.store.models import Base, UTCDateTime, now


class ContentQueueItem(Base):
    """One submitted item. Idempotent by (platform, post id): a second submission of the same post is not queued
    again. Workers claim pending rows with `SELECT … FOR UPDATE SKIP LOCKED` and hold the row lock until the
    item's results commit, so a killed worker's rows go back to the queue the moment its connection drops."""

    __tablename__ = "content_queue"
    __table_args__ = (sa.UniqueConstraint("platform", "external_id", name="uq_content_queue_post"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(sa.String(64))
    external_id: Mapped[str] = mapped_column(sa.String(256))
    item: Mapped[dict[str, Any]] = mapped_column(sa.JSON)  # the validated item, as the API accepted it
    status: Mapped[str] = mapped_column(sa.String(16), index=True)  # pending, done
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    worker: Mapped[str | None] = mapped_column(sa.String(128))  # who finished it
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))
    submitted_by: Mapped[str | None] = mapped_column(sa.String(64))
    enqueued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The result's signed webhook (basira.review.webhooks): none (no URL set), pending, delivered, failed.
    delivery_status: Mapped[str] = mapped_column(sa.String(16), default="none", index=True)
    delivery_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_delivery_error: Mapped[str | None] = mapped_column(sa.Text)
