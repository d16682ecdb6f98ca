"""`basira worker` processes SIGKILLed mid-batch (issue 17: nothing lost when a worker is killed mid-batch), on a
queue whose items carry media hashes a bank matches: killed at a pause point once a batch's posts and
detections are committed but before its hash pass (test_intake_api.py kills after the hash pass, before the
queue rows are marked done), and killed by the clock, part-way into a batch, wherever that lands (measured on
this machine: mostly in the claim or the scoring, before anything is stored). A last worker runs to the end.
Nothing is lost and nothing doubled: every item done once; one post, one detection, one case and one bank
match per item that matches; the event chain intact. PostgreSQL (the queue's row locks). Synthetic content
from the simulator only; the hashes are made-up hex."""

from __future__ import annotations

import json
import signal
import time

import pytest

from basira.intake.queue import queue_counts
from basira.store import open_store
from tests.conftest import fresh_db_url
from tests.test_intake_api import _kill_at_pause, _worker, item, texts  # noqa: F401 - `texts` is a fixture

N, BATCH = 120, 10
MD5 = ["%032x" % (0xABC0 + i) for i in range(N)]  # made-up hashes; every third one is banked


def _queue(store, posts) -> None:
    from basira.ingest.clean import ReadOptions
    from basira.intake.items import parse_item
    from basira.intake.queue import enqueue

    opts = ReadOptions()
    items = [parse_item(item(t, media=[{"md5": MD5[i], "kind": "photo"}]), i, opts)[0] for i, t in enumerate(posts)]
    enqueue(store, items, "test", False)


def _bank(store) -> None:
    from basira import banks as repo
    from basira.signals.exchange import BankEntry

    with store.transaction() as tx:
        repo.create_bank(tx, "known")
        repo.add_entries(tx, "known", [BankEntry.make("md5", h, labels={"entity": "synthetic"}) for h in MD5[::3]])


def _kill_inside_a_batch(url: str, fraction: float) -> None:
    """Start a worker and SIGKILL it `fraction` of a batch's time into its third batch (the time between its
    first two batches, from its log): during the claim, the scoring, the store's transaction, the hash pass or
    the marking done, wherever that lands on this machine."""
    p = _worker(url, "--batch", str(BATCH))
    at: list[float] = []
    try:
        deadline = time.monotonic() + 300
        while len(at) < 2 and time.monotonic() < deadline:
            line = p.stdout.readline()
            if not line:
                assert p.poll() is None, p.stderr.read()[-2000:]
                continue
            at.append(json.loads(line)["t"])
        assert len(at) == 2, "the worker did not finish two batches in 300 s"
        time.sleep(max(0.0, at[1] - at[0]) * fraction)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


@pytest.fixture
def url(tmp_path):
    with fresh_db_url("postgresql", tmp_path) as u:
        yield u


def _finish_and_check(url: str, store, posts) -> None:
    q = _worker(url, "--batch", str(BATCH), "--until-empty")
    out, errs = q.communicate(timeout=600)
    assert q.returncode == 0, errs[-2000:]
    assert queue_counts(store) == {"done": len(posts)}
    assert store.count_posts() == store.count_detections() == len(posts)
    assert store.count_cases() == store.count_events("case.opened")
    assert _matches(store, posts) == {t["id"]: [("known", "md5")] if i % 3 == 0 else [] for i, t in enumerate(posts)}
    assert all(m["md5"] == MD5[i] for i, t in enumerate(posts) for m in store.get_post("x", t["id"])["media"])
    assert store.verify_events() == (True, None)


def _matches(store, posts) -> dict[str, list[tuple[str, str]]]:
    from basira import banks as repo

    out = {}
    for t in posts:
        p = store.get_post("x", t["id"])
        out[t["id"]] = [] if p is None else [(m.bank, m.signal_type) for m in repo.matches_for(store, f"post:{p['id']}")]
    return out


def test_a_worker_killed_between_storing_and_hash_matching_loses_no_match(url, texts):  # noqa: F811
    posts = texts[:30]
    with open_store(url) as store:
        _bank(store)
        _queue(store, posts)
        _kill_at_pause(url, BATCH, "stored:2")
        # Batch 2's posts are stored and scored, not matched, not done: its banked posts have no match yet.
        assert queue_counts(store) == {"done": 10, "pending": 20}
        assert store.count_posts() == store.count_detections() == 20
        got = _matches(store, posts)
        assert [got[t["id"]] for t in posts[12:20:3]] == [[], [], []]  # 12, 15, 18: banked, not matched yet
        assert [got[t["id"]] for t in posts[0:10:3]] == [[("known", "md5")]] * 4
        _finish_and_check(url, store, posts)


def test_workers_killed_part_way_into_a_batch_lose_and_double_nothing(url, texts):  # noqa: F811
    posts = texts[:N]
    assert len(posts) == N
    with open_store(url) as store:
        _bank(store)
        _queue(store, posts)
        for fraction in (0.5, 0.9):
            _kill_inside_a_batch(url, fraction)
            counts = queue_counts(store)
            assert counts.get("pending", 0) > 0, counts  # killed mid-run, not after the queue was drained
        _finish_and_check(url, store, posts)
