"""Tables for hash matching: banks, their items, matches found, and sync checkpoints (migrations 0004_banks, 0007_bank_pdq_decode, 0008_bank_withdrawn)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from basira.store.models import Base, UTCDateTime, now


class BankRow(Base):
    __tablename__ = "banks"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128), unique=True)
    negative: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    enabled_ratio: Mapped[float] = mapped_column(sa.Float, default=1.0)
    thresholds: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # full | fast; NULL: never chosen (fast, until an exchange first feeds the bank: then full). 0007.
    pdq_decode: Mapped[str | None] = mapped_column(sa.String(8))


class BankItemRow(Base):
    __tablename__ = "bank_items"
    __table_args__ = (
        sa.UniqueConstraint("bank_id", "signal_type", "signal_key", name="uq_bank_items_signal"),
        sa.Index("ix_bank_items_signal_key", "signal_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(sa.ForeignKey("banks.id", ondelete="CASCADE"))
    signal_type: Mapped[str] = mapped_column(sa.String(32))
    signal: Mapped[str] = mapped_column(sa.Text)
    signal_key: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the signal: long signals index badly
    labels: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    source: Mapped[str | None] = mapped_column(sa.Text)
    external_id: Mapped[str | None] = mapped_column(sa.String(256))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    disabled_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opinion: Mapped[str] = mapped_column(sa.String(16), default="positive")
    quarantined: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The source withdrew it (TAT `deleted`, ThreatExchange `should_delete`; migration 0008): kept, never a positive.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BankMatchRow(Base):
    __tablename__ = "bank_matches"
    __table_args__ = (sa.Index("ix_bank_matches_subject", "subject"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(sa.ForeignKey("bank_items.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(sa.String(256))  # post:<id>, file:<name>, api:<caller ref>
    signal_type: Mapped[str] = mapped_column(sa.String(32))
    distance: Mapped[float] = mapped_column(sa.Float)
    status: Mapped[str] = mapped_column(sa.String(16), default="match")  # match, vetoed, quarantined
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class BankSyncCheckpoint(Base):
    __tablename__ = "bank_sync_checkpoints"
    __table_args__ = (sa.UniqueConstraint("bank_id", "source", name="uq_bank_sync_source"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    bank_id: Mapped[int] = mapped_column(sa.ForeignKey("banks.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(sa.Text)
    checkpoint: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
