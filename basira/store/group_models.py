"""Tables of grouped review (migration 0011_review_groups): near-duplicate cases reviewed as one.

review_groups — one group of open cases on copies of the same content:
    lead_case_id   the case shown in the queue for the whole group (the first one opened); decided for all
    kind           how the copies were found: repost (retweets/quotes/forwards of one original), media (same
                   media SHA-256) or text (same MinHash band of the normalized text)
    size, accounts, followers, reposts, newest_at   aggregates over the members (the priority's inputs)
    status         open | closed (decided) | split (dissolved)
review_group_members — case_id (one group at a time), group_id, role lead | member, via (the key kind), joined_at
review_group_keys — the grouping keys of every case the grouper has seen (key, case_id): how later copies find
    the group; a split case keeps only a `split:` key, so it is not grouped again
review_group_decisions — a member's decision made by a decision on its group: decision_id (the member's),
    lead_decision_id (the group decision it follows: undone with it), group_id
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from basira.store.models import Base, UTCDateTime, now


class ReviewGroup(Base):
    __tablename__ = "review_groups"
    id: Mapped[int] = mapped_column(primary_key=True)
    lead_case_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    size: Mapped[int] = mapped_column(sa.Integer, default=1)
    accounts: Mapped[int] = mapped_column(sa.Integer, default=1)
    followers: Mapped[int] = mapped_column(sa.Integer, default=0)
    reposts: Mapped[int] = mapped_column(sa.Integer, default=0)
    newest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(sa.String(16), default="open", index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


# The open groups by size (migration 0016): the queue's group-size sort reads the sizes' histogram and walks
# size ranges from it (basira.review.repository), instead of sorting every group's lead.
sa.Index("ix_review_groups_open_size", ReviewGroup.__table__.c.size, ReviewGroup.__table__.c.lead_case_id,
         postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))


class ReviewGroupMember(Base):
    __tablename__ = "review_group_members"
    case_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    group_id: Mapped[int] = mapped_column(sa.ForeignKey("review_groups.id"), index=True)
    role: Mapped[str] = mapped_column(sa.String(8))
    via: Mapped[str] = mapped_column(sa.String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ReviewGroupKey(Base):
    __tablename__ = "review_group_keys"
    __table_args__ = (sa.Index("ix_review_group_keys_key", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(96))
    case_id: Mapped[int] = mapped_column(sa.Integer, index=True)


class ReviewGroupDecision(Base):
    __tablename__ = "review_group_decisions"
    decision_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    lead_decision_id: Mapped[int] = mapped_column(sa.Integer, index=True)
    group_id: Mapped[int] = mapped_column(sa.Integer, index=True)
