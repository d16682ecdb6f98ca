"""Tables of the review workflow: users, sessions, API tokens, claims, decisions, appeals, webhook outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from basira.store.models import Base, UTCDateTime, now


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.Text)
    role: Mapped[str] = mapped_column(sa.String(16))
    prefs: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(sa.String(128))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # sha256 of the token
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ReviewSession(Base):
    __tablename__ = "review_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # sha256 of the cookie value
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CaseClaim(Base):
    """One row per claimed case; a claim is free again once expires_at has passed."""

    __tablename__ = "case_claims"
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Decision(Base):
    __tablename__ = "decisions"
    __table_args__ = (
        # At most one live (not undone) decision per case and stage: no case is decided twice.
        sa.Index(
            "uq_decisions_live_stage",
            "case_id",
            "stage",
            unique=True,
            sqlite_where=sa.text("undone_at IS NULL"),
            postgresql_where=sa.text("undone_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    stage: Mapped[str] = mapped_column(sa.String(16))  # review, escalation, appeal
    action: Mapped[str] = mapped_column(sa.String(16))
    reason_code: Mapped[str] = mapped_column(sa.String(64))
    note: Mapped[str | None] = mapped_column(sa.Text)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
    final_at: Mapped[datetime] = mapped_column(UTCDateTime)
    prev_status: Mapped[str] = mapped_column(sa.String(32))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Appeal(Base):
    __tablename__ = "appeals"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), unique=True)
    decision_id: Mapped[int] = mapped_column(sa.ForeignKey("decisions.id"))
    statement: Mapped[str] = mapped_column(sa.Text)
    filed_by: Mapped[str] = mapped_column(sa.String(64))
    filed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """The outbox: one row per action the platform must be told about, delivered at least once."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    decision_id: Mapped[int] = mapped_column(sa.ForeignKey("decisions.id"))
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    url: Mapped[str] = mapped_column(sa.Text)
    action: Mapped[str] = mapped_column(sa.String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[str] = mapped_column(sa.String(16), index=True)  # pending, delivered, failed, cancelled
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    last_status_code: Mapped[int | None] = mapped_column(sa.Integer)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
