"""The database schema as SQLAlchemy 2 models. Changes here need a new migration in migrations/versions/."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from basira.core.time import utcnow


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive, in UTC)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


now = utcnow  # the column default clock (basira.core.time)


class Base(DeclarativeBase):
    if TYPE_CHECKING:  # every model here is mapped to a Table (SQLAlchemy types it as any FromClause)
        __table__: ClassVar[sa.Table]


class Platform(Base):
    __tablename__ = "platforms"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "external_id", name="uq_accounts_platform_external"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id"))
    external_id: Mapped[str] = mapped_column(sa.String(128))
    handle: Mapped[str | None] = mapped_column(sa.String(256), index=True)
    display_name: Mapped[str | None] = mapped_column(sa.Text)
    bio: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(32), default="active", server_default="active")
    profile_image_hash: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Input fields Basira has no column for, as given (docs/formats.md).
    extra: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        sa.UniqueConstraint("platform_id", "external_id", name="uq_posts_platform_external"),
        sa.Index("ix_posts_account_created", "account_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(sa.ForeignKey("platforms.id"))
    external_id: Mapped[str] = mapped_column(sa.String(128))
    account_id: Mapped[int | None] = mapped_column(sa.ForeignKey("accounts.id"))
    text: Mapped[str] = mapped_column(sa.Text)
    lang: Mapped[str | None] = mapped_column(sa.String(16), index=True)  # the queue sorts by it (migration 0014)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Links are external ids: the post they point to may never be ingested.
    reply_to: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    quote_of: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    repost_of: Mapped[str | None] = mapped_column(sa.String(128), index=True)
    forwarded_from: Mapped[str | None] = mapped_column(sa.String(256), index=True)
    mentions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    hashtags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    urls: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    source_file: Mapped[str | None] = mapped_column(sa.Text)
    source_line: Mapped[int | None] = mapped_column(sa.Integer)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # The thread, page, channel or group the post belongs to (co-activity); Telegram: the chat id.
    thread: Mapped[str | None] = mapped_column(sa.String(256), index=True)
    extra: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON(none_as_null=True))


class Media(Base):
    __tablename__ = "media"
    __table_args__ = (sa.UniqueConstraint("post_id", "position", name="uq_media_post_position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(sa.Integer)
    url: Mapped[str | None] = mapped_column(sa.Text)
    kind: Mapped[str | None] = mapped_column(sa.String(32))
    sha256: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    pdq: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    md5: Mapped[str | None] = mapped_column(sa.String(32), index=True)  # hex (migration 0017)


class Detection(Base):
    __tablename__ = "detections"
    __table_args__ = (sa.UniqueConstraint("post_id", "model_version", name="uq_detections_post_model"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("posts.id", ondelete="CASCADE"))
    model_version: Mapped[str] = mapped_column(sa.String(64))
    score: Mapped[float] = mapped_column(sa.Float, index=True)
    categories: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    evidence: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    # The detector's policy output (terrorist_support | hate_speech | None), a column so the queue can filter
    # and sort by it (migration 0012_queue; evidence keeps its copy for evidence packages).
    policy: Mapped[str | None] = mapped_column(sa.String(32))
    # The review-group keys of the text (basira.cases.grouping.text_keys) of a flagged post, computed where it
    # was scored (a Dask worker), so the scan's tail only joins them (migration 0013; NULL: computed there).
    text_keys: Mapped[list[str] | None] = mapped_column(sa.JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # At most one open case per subject.
        sa.Index(
            "uq_cases_open_subject",
            "subject_kind",
            "subject_id",
            unique=True,
            sqlite_where=sa.text("closed_at IS NULL"),
            postgresql_where=sa.text("closed_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[str] = mapped_column(sa.String(16))  # post, account
    subject_id: Mapped[int] = mapped_column(sa.Integer)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(32), default="open", server_default="open", index=True)
    priority: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default="0")
    detection_id: Mapped[int | None] = mapped_column(sa.ForeignKey("detections.id"))
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The subject's platform (its post's, else its account's; none for a community or group), written by intake
    # (migration 0015): the queue's source sort and filter read it from ix_cases_queue_platform.
    platform_id: Mapped[int | None] = mapped_column(sa.ForeignKey("platforms.id"))


# The review queue's indexes (migration 0012_queue): partial on the statuses a queue shows, so they stay as small
# as the queue however many cases are closed; each serves an order the queue page walks and stops (LIMIT 50).
QUEUE_STATUSES_SQL = "status IN ('open', 'escalated', 'appealed')"
_C = Case.__table__.c
sa.Index("ix_cases_queue_priority", _C.priority.desc(), _C.opened_at, _C.id,
         postgresql_where=sa.text(QUEUE_STATUSES_SQL), sqlite_where=sa.text(QUEUE_STATUSES_SQL))
sa.Index("ix_cases_queue_opened", _C.opened_at, _C.id,
         postgresql_where=sa.text(QUEUE_STATUSES_SQL), sqlite_where=sa.text(QUEUE_STATUSES_SQL))
sa.Index("ix_cases_queue_detection", _C.detection_id,
         postgresql_where=sa.text(QUEUE_STATUSES_SQL), sqlite_where=sa.text(QUEUE_STATUSES_SQL))
sa.Index("ix_cases_queue_platform", _C.platform_id, _C.priority.desc(), _C.opened_at, _C.id,
         postgresql_where=sa.text(QUEUE_STATUSES_SQL), sqlite_where=sa.text(QUEUE_STATUSES_SQL))
sa.Index("ix_detections_policy", Detection.__table__.c.policy, Detection.__table__.c.score,
         postgresql_where=sa.text("policy IS NOT NULL"), sqlite_where=sa.text("policy IS NOT NULL"))


class Event(Base):
    """Append-only, hash-chained log: hash = sha256(prev_hash + canonical JSON of the entry)."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(sa.String(64), index=True)
    actor: Mapped[str | None] = mapped_column(sa.String(128))
    subject: Mapped[str | None] = mapped_column(sa.String(256), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)


class IngestCheckpoint(Base):
    __tablename__ = "ingest_checkpoints"
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(sa.Text, unique=True)  # absolute path
    fingerprint: Mapped[str] = mapped_column(sa.String(128))  # size:mtime_ns
    format: Mapped[str] = mapped_column(sa.String(32))
    records_done: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    completed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
