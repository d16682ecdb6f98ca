"""Queue filters and which statuses each role works on."""

from __future__ import annotations

from dataclasses import dataclass

from basira.review.decisions import STAGE_OF_STATUS
from basira.review.roles import STAGE_ROLES

QUEUE_STATUSES = tuple(STAGE_OF_STATUS)  # open, escalated, appealed


SORTS = ("priority", "score", "opened", "lang", "source", "policy", "group")  # queue columns one can sort by
POLICIES = ("terrorist_support", "hate_speech")  # the detector's `policy`, when it provides one


@dataclass(frozen=True, slots=True)
class QueueFilter:
    lang: str | None = None
    category: str | None = None
    source: str | None = None  # platform name
    max_age_hours: float | None = None  # only cases opened in the last N hours
    min_age_hours: float | None = None  # only cases waiting at least N hours
    statuses: tuple[str, ...] = QUEUE_STATUSES
    policy: str | None = None  # the detection's policy (detections.policy), e.g. terrorist_support
    min_score: float | None = None
    sort: str = "priority"
    desc: bool = True

    def to_query(self) -> dict[str, str]:
        out = {}
        if self.sort != "priority" or not self.desc:
            out["sort"] = self.sort if self.desc else "-" + self.sort
        for k in ("lang", "category", "source", "max_age_hours", "min_age_hours", "policy", "min_score"):
            v = getattr(self, k)
            if v not in (None, ""):
                out[k] = str(v)
        return out


def statuses_for(role: str, wanted: str | None = None) -> tuple[str, ...]:
    """Statuses a role's queue shows: those it can decide (everyone read-only sees all)."""
    mine = tuple(s for s, stage in STAGE_OF_STATUS.items() if role in STAGE_ROLES[stage]) or QUEUE_STATUSES
    if wanted:
        return tuple(s for s in QUEUE_STATUSES if s == wanted)
    return mine


def parse_sort(value: str | None) -> tuple[str, bool]:
    """'score' → (score, descending), '-score' → (score, ascending); anything unknown → priority, descending."""
    v = (value or "").strip()
    asc = v.startswith("-")
    key = v.lstrip("-")
    if key not in SORTS:
        return "priority", True
    return key, not asc
