"""Tables for network analysis: who follows whom (X v2 follows exports, follows.jsonl); the subject kinds of
network-level cases."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from basira.store.models import Base, UTCDateTime, now

# A case on a whole community or coordinated group, filed under its anchor account; fits cases.subject_kind (16).
NETWORK_SUBJECT_KINDS = ("community", "coordinated")


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (
        sa.UniqueConstraint("source_id", "target_id", name="uq_follows_source_target"),
        sa.Index("ix_follows_target", "target_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id"))
    source_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))  # the follower
    target_id: Mapped[int] = mapped_column(sa.ForeignKey("accounts.id"))  # the account followed
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
