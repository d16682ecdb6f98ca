"""The records review's workflow hands to its faces (the case page, the REST API, the CLI) for a decision, its undo
and a review group. Frozen dataclasses read by attribute; `to_dict()` is exactly the JSON the REST API prints
(the same names, values and order as the dicts they replace), so the API's answers do not change.

What a decision set off elsewhere (`effects`: the DecisionEffects listeners' answers, e.g. banks' `banked` and
`unbanked`) stays a mapping: review does not know its listeners, and each listener's answer is its own."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from basira.core.records import Record

__all__ = ["DecisionResult", "DeliveryCounts", "GroupMemberView", "GroupView", "MemberDecision", "UndoResult"]



_Record = Record  # the shared base (basira.core.records)


@dataclass(frozen=True, slots=True)
class MemberDecision(_Record):
    """The decision a group decision made on one of its members (undone with the lead's)."""

    case_id: int
    decision_id: int


@dataclass(frozen=True, slots=True)
class DecisionResult(_Record):
    """A recorded decision: its id, the case's new status, when it becomes final (the undo window's end), its
    stage, the member decisions of a group decision, and what the listeners answered."""

    decision_id: int
    status: str
    final_at: datetime | None
    stage: str
    members: tuple[MemberDecision, ...] = ()
    effects: Mapping[str, Any] = field(default_factory=dict)

    @property
    def banked(self) -> dict[str, Any] | None:
        """With add_to_bank: {bank, signals, added, known} (basira.banks.bank_case_content)."""
        out: dict[str, Any] | None = self.effects.get("banked")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"decision_id": self.decision_id, "status": self.status, "final_at": self.final_at,
                "stage": self.stage, "members": [m.to_dict() for m in self.members], **self.effects}


@dataclass(frozen=True, slots=True)
class UndoResult(_Record):
    """An undone decision: its case, the case's status now, and what the listeners answered."""

    case_id: int
    status: str
    effects: Mapping[str, Any] = field(default_factory=dict)

    @property
    def unbanked(self) -> int | None:
        """For an undone removal: how many signals went back out of the banks it had added them to."""
        out: int | None = self.effects.get("unbanked")
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "status": self.status, **self.effects}


@dataclass(frozen=True, slots=True)
class DeliveryCounts(_Record):
    """What one round of webhook delivery did (ReviewService.deliver_due), by the deliveries' resulting status."""

    delivered: int = 0
    pending: int = 0  # failed this time, retried later (backoff)
    failed: int = 0  # given up after webhooks.MAX_ATTEMPTS


@dataclass(frozen=True, slots=True)
class GroupMemberView(_Record):
    """A case of a review group, with what the case page lists of its post."""

    case_id: int
    role: str  # lead | member
    via: str  # the key kind it joined by: repost | media | text
    status: str  # the case's status
    external_id: str | None  # the post's (None for a case not about a post)
    account_id: int | None
    handle: str | None
    snippet: str | None  # the post text's first 160 characters


@dataclass(frozen=True, slots=True)
class GroupView(_Record):
    """A review group (basira.store.group_models.ReviewGroup's row) with its members, lead first."""

    id: int
    lead_case_id: int
    kind: str  # repost | media | text
    size: int
    accounts: int
    followers: int
    reposts: int
    newest_at: datetime | None
    status: str  # open | closed | split
    opened_at: datetime
    updated_at: datetime
    members: tuple[GroupMemberView, ...] = ()
