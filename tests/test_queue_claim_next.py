"""Claim next, sorted by group size, walks the size ranges the queue page walks (basira.review.repository
`_by_group`) instead of sorting every group's lead — and claims the case the full ORDER BY size NULLS LAST,
priority DESC, opened_at, id claimed before: in both directions, with a filter, past cases others hold, past a
case the reviewer decided, with ranges of several sizes and sizes alone. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from basira.review import repository
from basira.review.decisions import Actor
from basira.review.demo import seed_cases
from basira.review.queue import QueueFilter
from basira.review.repository import ReviewRepo
from basira.store.group_models import ReviewGroup
from basira.store.review_models import CaseClaim, Decision

C, G, CL, D = repository.C, ReviewGroup.__table__, CaseClaim.__table__, Decision.__table__
TTL = timedelta(minutes=15)


def _full_sort_first(repo: ReviewRepo, f: QueueFilter, actor: Actor, now: datetime) -> int | None:
    """The case the previous claim-next query chose: every candidate sorted by its led group's size."""
    mine = sa.select(D.c.id).where(D.c.case_id == C.c.id, D.c.user_id == actor.user_id, D.c.undone_at.is_(None))
    size = G.c.size
    q = repo._filtered(f, now, ("GR", "CL")).where(
        sa.or_(CL.c.case_id.is_(None), CL.c.expires_at <= now, CL.c.user_id == actor.user_id), ~sa.exists(mine),
    ).order_by((size.desc() if f.desc else size.asc()).nulls_last(), C.c.priority.desc(), C.c.opened_at, C.c.id)
    with repo.store.read() as conn:
        return conn.execute(q.limit(1)).scalar()


def test_claim_next_by_group_size_claims_what_the_full_sort_claimed(store, monkeypatch):
    monkeypatch.setattr(repository, "SIZE_BATCH", 3)  # small ranges: runs of sizes, sizes alone, gaps
    cases = seed_cases(store, 31)
    now = datetime.now(UTC)
    sizes = [9, 7, 7, 7, 7, 7, 6, 6, 4, 4, 2, 2, 2, 2, 1]
    with store.transaction() as tx:
        tx.execute(sa.insert(G), [{"lead_case_id": c, "kind": "text", "size": s, "accounts": 1, "followers": 0,
                                   "reposts": 0, "status": "open", "opened_at": now, "updated_at": now}
                                  for c, s in zip(cases[::2], sizes, strict=False)])
    repo = ReviewRepo(store)
    me = Actor(repo.add_user("me", "x", "reviewer"), "me", "reviewer")
    other = Actor(repo.add_user("other", "x", "reviewer"), "other", "reviewer")
    first = repo.claim_next(me, QueueFilter(sort="group"), now, TTL)
    assert first == cases[0]  # the largest group's lead (size 9)
    repo.decide(first, me, "keep", "OK-3", ("keep",), None, now, 60, TTL)  # decided by me: never offered again
    claimed = 0
    for f, n in ((QueueFilter(sort="group"), 10), (QueueFilter(sort="group", desc=False), 10),
                 (QueueFilter(sort="group", lang="ar"), 99), (QueueFilter(sort="group"), 99)):
        for _ in range(n):  # each claimed case passes to the other reviewer: the next claim is the next case
            want = _full_sort_first(repo, f, me, now)
            got = repo.claim_next(me, f, now, TTL)
            assert got == want, f
            if got is None:
                break
            claimed += 1
            assert repo.release(got, me)
            repo.claim(got, other, now, TTL)
    assert claimed == 30  # every case but the decided one: ranges, common sizes, the groupless tail
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(CL).where(CL.c.user_id == other.user_id)
                            ).scalar_one() == claimed


def test_claim_next_by_priority_or_age_claims_what_it_claimed_before(store):
    """The default order (and the age sort) without NULLS LAST, the priority index's own order: the same case
    the sort of every free case with NULLS LAST chose."""
    cases = seed_cases(store, 12)
    now = datetime.now(UTC)
    repo = ReviewRepo(store)
    me = Actor(repo.add_user("me", "x", "reviewer"), "me", "reviewer")
    other = Actor(repo.add_user("other", "x", "reviewer"), "other", "reviewer")
    claimed = 0
    for f in (QueueFilter(), QueueFilter(sort="opened"), QueueFilter(sort="opened", desc=False),
              QueueFilter(desc=False)):
        col = C.c.priority if f.sort == "priority" else C.c.opened_at
        mine = sa.select(D.c.id).where(D.c.case_id == C.c.id, D.c.user_id == me.user_id, D.c.undone_at.is_(None))
        before = repo._filtered(f, now, ("CL",)).where(
            sa.or_(CL.c.case_id.is_(None), CL.c.expires_at <= now, CL.c.user_id == me.user_id), ~sa.exists(mine),
        ).order_by((col.desc() if f.desc else col.asc()).nulls_last(), C.c.priority.desc(), C.c.opened_at, C.c.id)
        for _ in range(3):
            with store.read() as conn:
                want = conn.execute(before.limit(1)).scalar()
            got = repo.claim_next(me, f, now, TTL)
            assert got == want and got in cases, f
            claimed += 1
            repo.release(got, me)
            repo.claim(got, other, now, TTL)
    assert claimed == 12
