"""The decision state machine: stages, claims, the undo window and appeal rules. Pure: the caller passes `now`.

    open ──decide(remove|keep|refer)──► decided ──appeal (after the undo window, removals only)──► appealed
      │                                    ▲                                                         │
      └──decide(escalate)──► escalated ────┘ (legal/admin decide remove|keep|refer)      decide(uphold|overturn)
                                                                                                     ▼
    Any decision can be undone by its author until `final_at` (decided_at + undo window):      closed
    the case returns to the status it had before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from basira.core.errors import BasiraError
from basira.review.roles import STAGE_ROLES

UNDO_SECONDS = 60
REVIEW_ACTIONS = ("remove", "keep", "escalate", "refer")
ESCALATION_ACTIONS = ("remove", "keep", "refer")
APPEAL_ACTIONS = ("uphold", "overturn")
ALL_ACTIONS = frozenset(REVIEW_ACTIONS + APPEAL_ACTIONS)
APPEALABLE_ACTIONS = frozenset({"remove", "refer"})
# Stage of the case in each status that awaits a decision, and the actions allowed there.
STAGE_OF_STATUS = {"open": "review", "escalated": "escalation", "appealed": "appeal"}
ACTIONS_OF_STAGE = {"review": REVIEW_ACTIONS, "escalation": ESCALATION_ACTIONS, "appeal": APPEAL_ACTIONS}
# What the platform is told (by webhook) once a decision is final; None: nothing to tell.
PLATFORM_ACTION = {"remove": "remove", "keep": "keep", "refer": "refer", "escalate": None,
                   "uphold": "uphold_removal", "overturn": "restore"}


class DecisionError(BasiraError):
    """A request the state machine refuses. `kind` maps to an HTTP status in the web face."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # forbidden, conflict, invalid, not_found


@dataclass(frozen=True, slots=True)
class Actor:
    user_id: int
    username: str
    role: str


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    id: int
    stage: str
    action: str
    reason_code: str
    user_id: int
    decided_at: datetime
    final_at: datetime
    prev_status: str
    undone_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.undone_at is None

    def is_final(self, now: datetime) -> bool:
        return self.live and now >= self.final_at


@dataclass(frozen=True, slots=True)
class CaseState:
    case_id: int
    status: str
    claimed_by: int | None = None
    claim_expires: datetime | None = None
    decisions: tuple[DecisionRecord, ...] = ()
    has_appeal: bool = False

    def claim_holder(self, now: datetime) -> int | None:
        if self.claimed_by is None or self.claim_expires is None or self.claim_expires <= now:
            return None
        return self.claimed_by

    def live_decisions(self) -> list[DecisionRecord]:
        return [d for d in self.decisions if d.live]


@dataclass(frozen=True, slots=True)
class Transition:
    new_status: str
    stage: str | None = None
    final_at: datetime | None = None
    closes: bool = False  # the case leaves the queue (closed_at is set)
    platform_action: str | None = None


def plan_claim(state: CaseState, actor: Actor, now: datetime) -> None:
    """Raise unless the actor may hold the case's claim now."""
    if state.status not in STAGE_OF_STATUS:
        raise DecisionError("conflict", f"case {state.case_id} is {state.status}: nothing to claim")
    holder = state.claim_holder(now)
    if holder is not None and holder != actor.user_id:
        raise DecisionError("conflict", f"case {state.case_id} is claimed by another reviewer")


def _a(word: str) -> str:
    """The English article for a word ('an admin', 'a reviewer')."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def plan_decision(
    state: CaseState,
    actor: Actor,
    action: str,
    reason_actions: Sequence[str] | None,
    now: datetime,
    undo_seconds: int = UNDO_SECONDS,
) -> Transition:
    """Check a decision and say what it does. reason_actions: the actions the cited policy reason backs
    (None if the reason is unknown)."""
    stage = STAGE_OF_STATUS.get(state.status)
    if stage is None:
        raise DecisionError("conflict", f"case {state.case_id} is {state.status}: no decision is pending")
    if actor.role not in STAGE_ROLES[stage]:
        raise DecisionError("forbidden", f"{_a(actor.role)} {actor.role} may not decide at the {stage} stage")
    if action not in ACTIONS_OF_STAGE[stage]:
        raise DecisionError("invalid", f"{action!r} is not a decision at the {stage} stage "
                            f"(one of {', '.join(ACTIONS_OF_STAGE[stage])})")
    if reason_actions is None:
        raise DecisionError("invalid", "unknown policy reason")
    if action not in reason_actions:
        raise DecisionError("invalid", f"that policy reason does not back {action!r}")
    plan_claim(state, actor, now)
    if stage == "appeal" and any(d.user_id == actor.user_id for d in state.live_decisions()):
        raise DecisionError("forbidden", "an appeal must be decided by a reviewer who did not decide the case")
    if any(d.stage == stage for d in state.live_decisions()):
        raise DecisionError("conflict", f"case {state.case_id} already has a {stage} decision")
    final_at = now + timedelta(seconds=undo_seconds)
    if action == "escalate":
        return Transition("escalated", stage, final_at, closes=False, platform_action=None)
    new_status = "closed" if stage == "appeal" else "decided"
    return Transition(new_status, stage, final_at, closes=True, platform_action=PLATFORM_ACTION[action])


def plan_undo(state: CaseState, decision_id: int, actor: Actor, now: datetime) -> Transition:
    """Undo a decision: only its author, only before it is final, only the latest live one."""
    d = next((d for d in state.decisions if d.id == decision_id), None)
    if d is None:
        raise DecisionError("not_found", f"no decision {decision_id} on case {state.case_id}")
    if not d.live:
        raise DecisionError("conflict", "that decision was already undone")
    if d.user_id != actor.user_id:
        raise DecisionError("forbidden", "only the reviewer who made a decision may undo it")
    if now >= d.final_at:
        raise DecisionError("conflict", "the undo window has closed; the decision is final")
    latest = max(state.live_decisions(), key=lambda x: (x.decided_at, x.id))
    if latest.id != d.id:
        raise DecisionError("conflict", "a later decision depends on this one")
    return Transition(d.prev_status, d.stage)


def plan_appeal(state: CaseState, now: datetime) -> DecisionRecord:
    """Check that the content owner may appeal; return the decision appealed against."""
    if state.has_appeal:
        raise DecisionError("conflict", "this case has already been appealed")
    if state.status != "decided":
        raise DecisionError("conflict", f"case {state.case_id} is {state.status}: there is no decision to appeal")
    live = state.live_decisions()
    if not live:
        raise DecisionError("conflict", "there is no decision to appeal")
    last = max(live, key=lambda x: (x.decided_at, x.id))
    if not last.is_final(now):
        raise DecisionError("conflict", "the decision is not final yet (undo window still open)")
    if last.action not in APPEALABLE_ACTIONS:
        raise DecisionError("conflict", f"a {last.action!r} decision cannot be appealed")
    return last
