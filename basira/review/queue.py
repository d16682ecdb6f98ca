"""Queue filters and which statuses each role works on."""

from __future__ import annotations

from dataclasses import dataclass

from basira.review.decisions import STAGE_OF_STATUS
from basira.review.roles import STAGE_ROLES

QUEUE_STATUSES = tuple(STAGE_OF_STATUS)  # open, escalated, appealed


@dataclass(frozen=True, slots=True)
class QueueFilter:
    lang: str | None = None
    category: str | None = None
    source: str | None = None  # platform name
    max_age_hours: float | None = None  # only cases opened in the last N hours
    min_age_hours: float | None = None  # only cases waiting at least N hours
    statuses: tuple[str, ...] = QUEUE_STATUSES

    def to_query(self) -> dict[str, str]:
        out = {}
        for k in ("lang", "category", "source", "max_age_hours", "min_age_hours"):
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
