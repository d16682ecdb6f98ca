"""The records cases hands to its faces (the scan summary, the CLI, the case page): frozen dataclasses read by
attribute; `to_dict()` is the JSON the CLI prints (basira.core.records)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from basira.core.records import Record

__all__ = ["GroupingCounts", "PriorityExplanation", "TopCase"]


@dataclass(frozen=True, slots=True)
class TopCase(Record):
    """An open case on a post, with the post, its author and the detection that opened it (None: a hash or
    manual case has no detection)."""

    case_id: int
    priority: float
    reason: str | None
    opened_at: datetime | None
    platform: str
    post_external_id: str
    text: str | None
    created_at: datetime | None
    account_external_id: str | None
    handle: str | None
    model_version: str | None
    score: float | None
    categories: list[str] | None
    evidence: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PriorityExplanation(Record):
    """One case's priority taken apart: its inputs (PrioritySignals), each weighted term, the tie-breaker."""

    inputs: dict[str, Any]
    terms: dict[str, float]
    tie: float
    priority: float


@dataclass(slots=True)
class GroupingCounts(Record):
    """What one grouping pass did: cases it looked at, cases that joined a group, groups it opened and merged.
    Mutable: the batches of one pass add to it."""

    seen: int = 0
    joined: int = 0
    groups_new: int = 0
    merged: int = 0
