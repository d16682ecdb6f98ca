"""Synthetic review history for demos, tests and sample reports: decide open post cases the way a small team
would (remove, keep, escalate to legal, refer), then file and decide appeals — through the real ReviewService,
so every decision is checked by the state machine and logged in the audit chain."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa

from basira.core.time import utcnow
from basira.review.groups import member_hidden

if TYPE_CHECKING:
    from basira.store import Store

# The policy reason a removal cites, by the detector's first category.
REASON_OF_CATEGORY = {"recruitment": "TVEC-1.1", "glorification": "TVEC-1.2", "propaganda_brand": "TVEC-1.3",
                      "threat_incitement": "TVEC-1.4", "pledge": "TVEC-1.5"}
USERS = (("demo-reviewer-1", "reviewer"), ("demo-reviewer-2", "reviewer"), ("demo-legal", "legal"),
         ("demo-platform", "platform"))


@dataclass
class SeedSummary:
    decided: int = 0
    removed: int = 0
    kept: int = 0
    escalated: int = 0
    referred: int = 0
    appeals: int = 0
    overturned: int = 0
    upheld: int = 0


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


def seed_decisions(store: Store, *, seed: int = 7, share: float = 0.7, appeal_share: float = 0.25,
                   start: datetime | None = None, limit: int | None = None,
                   gap_seconds: tuple[float, float] = (20, 600)) -> SeedSummary:
    """Decide `share` of the open post cases (lowest ids first, deterministic for a seed) starting at `start`
    (default: now), `gap_seconds` apart; appeal `appeal_share` of the removals once final."""
    from basira.review.decisions import Actor
    from basira.review.service import ReviewService, ReviewSettings
    from basira.store.models import Case, Detection

    rng = random.Random(seed)
    clock = _Clock(start or utcnow())
    svc = ReviewService(store, ReviewSettings(undo_seconds=60), clock=clock)
    actors: dict[str, Actor] = {}
    for name, role in USERS:
        user = svc.repo.user_by_name(name)
        uid = user["id"] if user else svc.add_user(name, secrets.token_urlsafe(16), role, actor="demo")
        actors[name] = Actor(uid, name, role)
    C, DT = Case.__table__, Detection.__table__
    with store.read() as conn:
        rows = conn.execute(sa.select(C.c.id, DT.c.categories).outerjoin(DT, DT.c.id == C.c.detection_id)
                            .where(C.c.status == "open", C.c.subject_kind == "post", ~member_hidden())
                            .order_by(C.c.id)).all()  # as the queue shows them: a group's decision decides its copies
    rows = [r for r in rows if rng.random() < share][:limit]
    out = SeedSummary()
    removals: list[tuple[int, datetime]] = []
    r1, r2, legal = actors["demo-reviewer-1"], actors["demo-reviewer-2"], actors["demo-legal"]
    for case_id, cats in rows:
        clock.advance(rng.uniform(*gap_seconds))
        if svc.repo.case_state(case_id).status != "open":
            continue  # decided with its review group (a copy of an earlier case's content)
        remove_reason = REASON_OF_CATEGORY.get((cats or ["?"])[0], "TVEC-1.3")
        roll = rng.random()
        if roll < 0.55:
            svc.decide(case_id, r1, "remove", remove_reason)
            removals.append((case_id, clock.t))
            out.removed += 1
        elif roll < 0.85:
            svc.decide(case_id, r1, "keep", rng.choice(("OK-1", "OK-2", "OK-3")))
            out.kept += 1
        elif roll < 0.95:
            svc.decide(case_id, r1, "escalate", "ESC-1")
            out.escalated += 1
            clock.advance(rng.uniform(600, 7200))
            if rng.random() < 0.6:
                svc.decide(case_id, legal, "remove", remove_reason)
                removals.append((case_id, clock.t))
                out.removed += 1
            else:
                svc.decide(case_id, legal, "keep", "OK-1")
                out.kept += 1
        else:
            svc.decide(case_id, r1, "refer", "LAW-1")
            out.referred += 1
        out.decided += 1
    # Appeals come in a few hours to days after each removal (the clock only stands in for "now" here).
    for case_id, decided_at in removals:
        if rng.random() >= appeal_share:
            continue
        clock.t = decided_at + timedelta(seconds=rng.uniform(3600, 3 * 86400))
        svc.file_appeal(case_id, "I was reporting on this, not supporting it.", "demo-platform")
        out.appeals += 1
        clock.advance(rng.uniform(1800, 2 * 86400))
        if rng.random() < 0.3:
            svc.decide(case_id, r2, "overturn", "APP-OVERTURN")
            out.overturned += 1
        else:
            svc.decide(case_id, r2, "uphold", "APP-UPHOLD")
            out.upheld += 1
    return out
