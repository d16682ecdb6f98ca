"""The bank-match rate monitor counts per scan, not per process: a bank item that floods a scan's posts is held
back after its 100th match whether one process matched them all (a local scan) or several workers each matched a
window (a cluster scan: the workers match, the client counts and records in post order). On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from basira import banks as repo
from basira.ingest.records import AccountRecord, PostRecord
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.scan.hashes import (
    ScanMonitor,
    mark_matched,
    match_ingested_posts,
    plan_hash_pass,
    record_found,
    snapshot_for,
    window_pass,
)
from basira.signals import get_signal_type
from basira.signals.exchange import BankEntry
from basira.store import Store, open_store
from tests.conftest import fresh_db_url

FLOOD = "A bland greeting card text that a careless bank entry would match everywhere, every single day (synthetic)."
T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _fill(store) -> None:
    """150 posts carrying the banked text, 30 others; one bank item of that text."""
    posts = [PostRecord("x", str(1000 + i), f"u{i % 7}", FLOOD if i % 6 else f"Other words, number {i} (synthetic).",
                        lang="en", created_at=T0 + timedelta(minutes=i)) for i in range(180)]
    with store.transaction() as tx:
        upsert_accounts(tx, [AccountRecord("x", f"u{i}", handle=f"user{i}") for i in range(7)])
    with store.transaction() as tx:
        upsert_posts(tx, posts)
    with store.transaction() as tx:
        repo.create_bank(tx, "synthetic")
        repo.add_entries(tx, "synthetic", [BankEntry.make("text_minhash",
                                                          get_signal_type("text_minhash").hash_text(FLOOD))])


def _statuses(store) -> dict[str, str]:
    q = "SELECT p.external_id, m.status FROM bank_matches m JOIN posts p ON m.subject = 'post:' || p.id"
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.text(q)).all())


@contextmanager
def two_filled_stores(kind: str, tmp_path) -> Iterator[tuple[Store, Store]]:
    """Two fresh databases holding the same posts and bank (_fill): one for the one-process pass, one for the
    windowed (cluster-like) pass, to compare their states."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with fresh_db_url(kind, tmp_path / "a") as url_a, fresh_db_url(kind, tmp_path / "b") as url_b, \
            open_store(url_a) as local, open_store(url_b) as cluster:
        _fill(local)
        _fill(cluster)
        yield local, cluster


def _quarantined_items(store) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM bank_items WHERE quarantined")).scalar()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_flooding_item_is_held_back_after_the_same_posts_by_one_process_or_two_windows(kind, tmp_path):
    with two_filled_stores(kind, tmp_path) as (local, cluster):
        done = match_ingested_posts(local)
        assert done.matches_new == 100
        want = _statuses(local)
        assert Counter(want.values()) == {"match": 100, "quarantined": 50}
        # The first 100 flooded posts in post order are matched, the rest held back.
        assert max(int(e) for e, s in want.items() if s == "match") < min(
            int(e) for e, s in want.items() if s == "quarantined")
        assert _quarantined_items(local) == 1

        # Two windows, as two Dask workers would match them (each window alone holds 75 copies: under the
        # monitor's 100, so counting per process would quarantine nothing); the client records in post order.
        plan = plan_hash_pass(cluster)
        assert plan is not None
        ids = sorted(cluster.post_ids("x", [str(1000 + i) for i in range(180)]).values())
        mid = ids[89]
        found, looked = {}, 0
        for lo, hi in ((mid, ids[-1]), (ids[0] - 1, mid)):  # the later window finishes first
            snapshot_for(cluster, for_scans=True).matcher = None  # a fresh worker process's snapshot
            n, got = window_pass(cluster, plan, lo, hi)
            looked += n
            found.update(got)
        assert looked == 180 and _statuses(cluster) == {}  # the workers record nothing
        got = record_found(cluster, found, ScanMonitor())
        mark_matched(cluster, plan, ids[-1])
        assert got.matches_new == 100
        assert _statuses(cluster) == want
        assert _quarantined_items(cluster) == 1
        assert plan_hash_pass(cluster).after == ids[-1]
