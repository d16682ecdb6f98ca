"""The queue's group-size sort (basira.review.repository: size ranges walked from the sizes' histogram, no sort
of every group's lead) keeps the order of the plain ORDER BY size, priority DESC, opened_at, id with the cases
leading no open group last — in both directions, across pages, with ranges of several sizes, sizes too common to
share a range, gaps between them, and a histogram that is out of date. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from basira.review import repository
from basira.review.demo import seed_cases
from basira.review.queue import QueueFilter
from basira.review.repository import ReviewRepo
from basira.store.group_models import ReviewGroup
from basira.store.models import Case, Post

C, G, P = Case.__table__, ReviewGroup.__table__, Post.__table__


def _expected(store, f: QueueFilter) -> list[int]:
    """The order computed in Python from the rows: open groups' leads by size, then priority, oldest, id."""
    with store.read() as conn:
        size = dict(conn.execute(sa.select(G.c.lead_case_id, G.c.size).where(G.c.status == "open")).all())
        rows = conn.execute(sa.select(C.c.id, C.c.priority, C.c.opened_at, P.c.lang)
                            .outerjoin(P, P.c.id == C.c.subject_id).where(C.c.status.in_(f.statuses))).all()
    rows = [r for r in rows if f.lang is None or r.lang == f.lang]
    ties = sorted(rows, key=lambda r: (-r.priority, r.opened_at, r.id))
    have = sorted((r for r in ties if r.id in size), key=lambda r: size[r.id], reverse=f.desc)  # stable
    return [r.id for r in have] + [r.id for r in ties if r.id not in size]


def _pages(repo: ReviewRepo, f: QueueFilter, now: datetime, limit: int) -> list[int]:
    out: list[int] = []
    for offset in range(0, 500, limit):
        rows = repo.queue_page(f, now, limit, offset).rows
        out += [r.id for r in rows]
        if len(rows) < limit:
            return out
    return out


def _lead_groups(store, sizes: dict[int, int], status: str = "open") -> None:
    now = datetime.now(UTC)
    with store.transaction() as tx:
        tx.execute(sa.insert(G), [{"lead_case_id": c, "kind": "text", "size": s, "accounts": 1, "followers": 0,
                                   "reposts": 0, "status": status, "opened_at": now, "updated_at": now}
                                  for c, s in sizes.items()])


def test_the_group_size_sort_keeps_the_full_sorts_order(store, monkeypatch):
    monkeypatch.setattr(repository, "SIZE_BATCH", 3)  # small ranges: 31 cases make runs, common sizes and gaps
    cases = seed_cases(store, 31)
    # sizes: 9 once, 7 five times (a size alone), 6 and 4 twice each (one run), 2 four times (alone), 1 once
    sizes = [9, 7, 7, 7, 7, 7, 6, 6, 4, 4, 2, 2, 2, 2, 1]
    _lead_groups(store, dict(zip(cases[::2], sizes, strict=False)))
    _lead_groups(store, {cases[1]: 50}, status="closed")  # a closed group does not count
    repo, now = ReviewRepo(store), datetime.now(UTC)
    for desc in (True, False):
        with store.read() as conn:
            ranges = repo._size_ranges(conn, desc)
        assert ((7, 7) in ranges) and ((2, 2) in ranges)  # the common sizes alone: walked by priority
        f = QueueFilter(sort="group", desc=desc)
        want = _expected(store, f)
        assert len(want) == 31
        for limit in (4, 5, 50):  # pages end inside ranges, inside a common size and in the tail
            assert _pages(repo, f, now, limit) == want, (desc, limit)
        assert [r.id for r in repo.queue_page(f, now, 6, 9).rows] == want[9:15]
        fa = QueueFilter(sort="group", desc=desc, lang="ar")  # with a filter
        assert _pages(repo, fa, now, 3) == _expected(store, fa)
    # Sizes the cached histogram has not seen (8, 3, 100, 0): the ranges still cover them — the same order.
    with store.transaction() as tx:
        for c, s in ((cases[0], 8), (cases[4], 3), (cases[6], 100), (cases[8], 0)):
            tx.execute(sa.update(G).where(G.c.lead_case_id == c).values(size=s))
    for desc in (True, False):
        f = QueueFilter(sort="group", desc=desc)
        assert _pages(repo, f, now, 4) == _expected(store, f), desc


def test_size_ranges_cover_every_size_once_in_the_walks_order(store, monkeypatch):
    monkeypatch.setattr(repository, "SIZE_BATCH", 3)
    cases = seed_cases(store, 12)
    _lead_groups(store, dict(zip(cases, [10, 10, 10, 10, 8, 5, 5, 3, 3, 3, 3, 1], strict=True)))
    repo = ReviewRepo(store)
    with store.read() as conn:
        down, up = repo._size_ranges(conn, True), repo._size_ranges(conn, False)
    # 10 ×4 and 3 ×4 alone (with the gaps above them), 8 and 5 ×2 one run, 1 a run, then the rest
    assert down == [(11, None), (10, 10), (5, 9), (4, 4), (3, 3), (1, 2), (None, 0)]
    assert up == [(None, 1), (2, 2), (3, 3), (4, 8), (9, 9), (10, 10), (11, None)]
    with store.transaction() as tx:  # no open group at all: one range, everything
        tx.execute(sa.update(G).values(status="closed"))
    with store.read() as conn:
        repo._size_histogram = None
        assert repo._size_ranges(conn, True) == [(None, None)]
