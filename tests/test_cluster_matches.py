"""A cluster scan's bank matches are recorded by its workers at once: the client holds back the floods over all the
scan's matches in post order (one ScanMonitor), then each chunk of posts is written on its own, in any order — the
same matches, statuses and quarantines as a local scan's pass, and a chunk written twice (a Dask retry) adds
nothing. On SQLite and PostgreSQL (the set-based writes of basira.banks._matches differ by dialect)."""

from __future__ import annotations

from collections import Counter

import pytest
import sqlalchemy as sa

from basira.scan.hashes import (
    ScanMonitor,
    held_back,
    mark_matched,
    match_ingested_posts,
    plan_hash_pass,
    record_chunk,
    save_quarantines,
    window_pass,
)
from tests.test_scan_flood import _quarantined_items, _statuses, two_filled_stores


def _cases(store) -> list[tuple]:
    q = ("SELECT p.external_id, c.status, c.reason FROM cases c JOIN posts p ON p.id = c.subject_id "
         "AND c.subject_kind = 'post'")
    with store.engine.connect() as conn:
        return sorted(map(tuple, conn.execute(sa.text(q))))


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_chunks_recorded_in_any_order_equal_the_local_pass(kind, tmp_path):
    with two_filled_stores(kind, tmp_path) as (local, cluster):
        assert match_ingested_posts(local).matches_new == 100
        want = _statuses(local), _cases(local)

        plan = plan_hash_pass(cluster)
        assert plan is not None
        n, found = window_pass(cluster, plan, 0, 10**9)
        assert n == 180
        monitor = ScanMonitor()
        chunks = held_back(found, monitor, batch_size=40)  # 150 matched posts: 4 chunks
        assert len(chunks) == 4 and _statuses(cluster) == {}  # holding back records nothing
        assert Counter(m.item_id for c in chunks for rs in c.values() for _, r in rs for m in r.matches) \
            .most_common(1)[0][1] == 100
        got = [record_chunk(cluster, c) for c in reversed(chunks)]  # the last chunk's worker finishes first
        assert sum(g.matches_new for g in got) == 100
        assert sum(g.cases_new for g in got) == len(want[1]) > 0
        assert all(record_chunk(cluster, c).matches_new == 0 for c in chunks)  # retried chunks add nothing
        save_quarantines(cluster, monitor)
        mark_matched(cluster, plan, max(found))
        assert (_statuses(cluster), _cases(cluster)) == want
        assert _quarantined_items(cluster) == _quarantined_items(local) == 1
