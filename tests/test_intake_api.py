"""POST /api/v1/content and `basira worker`: idempotence, per-item errors, sync and async paths, two worker
processes sharing one queue, a worker killed mid-batch. Synthetic content from the simulator only."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import orjson
import pytest

from basira.core.settings import Settings
from basira.intake.queue import queue_counts
from basira.review.service import ReviewService, ReviewSettings
from basira.review.webhooks import verify_signature
from basira.store import open_store
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> list[dict]:
    """Simulated posts (synthetic), some of which the detector flags."""
    from basira.simulate import simulate_platform

    out = tmp_path_factory.mktemp("platform")
    simulate_platform(accounts=60, seed=11, out_dir=str(out))
    tweets: dict[str, dict] = {}
    for line in (out / "tweets.jsonl").read_bytes().splitlines():
        for t in orjson.loads(line).get("data", []):
            tweets.setdefault(t["id"], t)
    return list(tweets.values())


def item(t: dict, **over) -> dict:
    return {"platform": "x", "post_id": t["id"], "text": t["text"], "lang": t.get("lang"),
            "account": {"id": t["author_id"], "handle": f"h{t['author_id']}"},
            "created_at": t.get("created_at"), **over}


def make_app(store, **settings):
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("plat", PASSWORD, "platform")
    svc.add_user("rev", PASSWORD, "reviewer")
    app = create_app(svc)
    app.state.intake_settings = replace(Settings(), **settings)
    c = TestClient(app)
    c.headers["Authorization"] = "Bearer " + svc.create_token("plat", "test")
    rev = TestClient(app)
    rev.headers["Authorization"] = "Bearer " + svc.create_token("rev", "test")
    return c, rev


def expected(texts: list[dict]) -> list[bool]:
    from basira.detect import load_detector

    langs = [None if t.get("lang") in (None, "und", "zxx") else t["lang"] for t in texts]
    return [d.flagged for d in load_detector().detect([t["text"] for t in texts], langs=langs)]


def test_sync_answers_each_item_and_is_idempotent(store, texts):
    c, rev = make_app(store)
    batch = texts[:40]
    flags = expected(batch)
    assert any(flags) and not all(flags)
    r = c.post("/api/v1/content", json=[item(t) for t in batch])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (40, 0)
    for res, t, flagged in zip(body["results"], batch, flags, strict=True):
        assert res["status"] == "ok" and res["post_id"] == t["id"] and res["platform"] == "x"
        assert res["flagged"] == flagged and 0.0 <= res["score"] <= 1.0
        assert (res["case_id"] is not None) == flagged
        assert "spans" in res["evidence"] and isinstance(res["categories"], list)
        assert res["bank_matches"] == []
    n = store.count_posts(), store.count_detections(), store.count_cases(), store.count_events("case.opened")
    assert n[0] == 40 and n[1] == 40 and n[2] == sum(flags) == n[3]
    again = c.post("/api/v1/content", json=[item(t) for t in batch]).json()
    assert [(a["score"], a["case_id"]) for a in again["results"]] == \
        [(b["score"], b["case_id"]) for b in body["results"]]
    assert (store.count_posts(), store.count_detections(), store.count_cases(),
            store.count_events("case.opened")) == n
    # One item (an object), and {"items": [...]}: the same answers.
    one = c.post("/api/v1/content", json=item(batch[0])).json()["results"][0]
    assert one["case_id"] == body["results"][0]["case_id"]
    assert c.post("/api/v1/content", json={"items": [item(batch[1])]}).json()["results"][0]["post"] == \
        body["results"][1]["post"]
    # Reviewers may not submit: the token role is `platform`.
    assert rev.post("/api/v1/content", json=item(batch[0])).status_code == 403


def test_bad_items_are_refused_alone_with_the_field_named(store, texts):
    c, _ = make_app(store)
    good = item(texts[0])
    bad = [
        {k: v for k, v in item(texts[1]).items() if k != "post_id"},
        item(texts[2], media=[{"pdq": "zz"}]),
        item(texts[3], account="alice"),
        item(texts[4], created_at="yesterday"),
        item(texts[5], account={"handle": "nobody"}),
        item(texts[6], colour="red"),
        item(texts[7], text=None),
        "not an object",
        item(texts[8], post_id="x" * 200),
    ]
    r = c.post("/api/v1/content", json=[good, *bad])
    assert r.status_code == 200
    res = r.json()["results"]
    assert res[0]["status"] == "ok"
    assert [(x["status"], x["field"]) for x in res[1:]] == [
        ("error", "post_id"), ("error", "media[0].pdq"), ("error", "account"), ("error", "created_at"),
        ("error", "account.id"), ("error", "colour"), ("error", "text"), ("error", None), ("error", "post_id")]
    assert all(x["reason"] for x in res[1:])
    assert store.count_posts() == 1
    # The request as a whole: too many items, not JSON, too large.
    assert c.post("/api/v1/content", json=[good] * 1001).status_code == 422
    assert c.post("/api/v1/content", content=b"{", headers={"content-type": "application/json"}).status_code == 422


def test_request_size_limit(db_url, texts):
    with open_store(db_url) as store:
        c, _ = make_app(store, intake_max_bytes=2000)
        r = c.post("/api/v1/content", json=[item(t) for t in texts[:30]])
        assert r.status_code == 413 and "BASIRA_INTAKE_MAX_BYTES" in r.text
        assert store.count_posts() == 0
        assert c.post("/api/v1/content", json=item(texts[0])).status_code == 200


def test_rate_limit_per_caller(db_url, texts):
    with open_store(db_url) as store:
        c, _ = make_app(store, intake_rate=0.01)  # a bucket of 1,000 items, refilled very slowly
        assert c.post("/api/v1/content?mode=async", json=[item(t) for t in texts[:1000]]).status_code == 202
        r = c.post("/api/v1/content?mode=async", json=[item(texts[0])])
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1 and "BASIRA_INTAKE_RATE" in r.text


def test_sync_answers_bank_matches_on_precomputed_hashes(store, texts):
    from basira import banks as repo
    from basira.signals.exchange import BankEntry

    sha = "ab" * 32
    with store.transaction() as tx:
        repo.create_bank(tx, "known")
        repo.add_entries(tx, "known", [BankEntry.make("sha256", sha, labels={"entity": "synthetic"})])
    c, _ = make_app(store)
    res = c.post("/api/v1/content", json=[item(texts[0], media=[{"sha256": sha.upper(), "kind": "photo"}]),
                                          item(texts[1], media=[{"url": "https://cdn.example/a.jpg"}])]).json()
    hit, miss = res["results"]
    assert [(m["bank"], m["signal_type"], m["status"]) for m in hit["bank_matches"]] == [("known", "sha256", "match")]
    assert hit["case_id"] is not None and miss["bank_matches"] == []
    again = c.post("/api/v1/content", json=item(texts[0], media=[{"sha256": sha}])).json()["results"][0]
    assert again["case_id"] == hit["case_id"] and len(again["bank_matches"]) == 1


class Receiver:
    """A local webhook receiver that checks every signature."""

    def __init__(self, secret: str):
        self.bodies: list[dict] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                ok = verify_signature(secret, body, self.headers["x-basira-signature"], int(time.time()))
                if ok:
                    outer.bodies.append(json.loads(body))
                self.send_response(200 if ok else 401)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def test_async_queues_and_a_worker_delivers_signed_results(store, texts):
    from basira.intake.worker import run_worker

    secret = "s3cret-for-tests"
    hook = Receiver(secret)
    try:
        c, _ = make_app(store, webhook_url=hook.url, webhook_secret=secret)
        batch = texts[:25]
        r = c.post("/api/v1/content?mode=async", json=[item(t) for t in batch] + [{"platform": "x"}])
        assert r.status_code == 202
        res = r.json()["results"]
        assert [x["status"] for x in res] == ["queued"] * 25 + ["error"]
        again = c.post("/api/v1/content?mode=async", json=[item(batch[0])]).json()["results"][0]
        assert again == {**res[0], "status": "already_queued"}
        assert store.count_posts() == 0 and queue_counts(store) == {"pending": 25}
        stats = run_worker(store, batch=10, until_empty=True, webhook_url=hook.url, webhook_secret=secret)
        assert (stats.items, stats.batches, stats.delivered) == (25, 3, 25)
        assert queue_counts(store) == {"done": 25}
        got = [x for b in hook.bodies for x in b["results"]]
        assert sorted(x["post_id"] for x in got) == sorted(t["id"] for t in batch)
        flags = dict(zip([t["id"] for t in batch], expected(batch), strict=True))
        assert all(x["flagged"] == flags[x["post_id"]] and (x["case_id"] is not None) == x["flagged"] for x in got)
        assert store.count_posts() == store.count_detections() == 25
        # The sync path for the same posts answers from what the worker stored.
        sync = c.post("/api/v1/content", json=[item(t) for t in batch]).json()["results"]
        by_id = {x["post_id"]: x for x in got}
        assert all(s["case_id"] == by_id[s["post_id"]]["case_id"] for s in sync)
    finally:
        hook.close()


def _pg_url(db_url: str) -> str:
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers share a queue on PostgreSQL only (row locks)")
    return db_url


def _worker(db_url: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "basira.cli", "worker", "--db", db_url, "--log", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def _kill_at_pause(db_url: str, batch: int, pause: str) -> None:
    """Start a worker that stops at BASIRA_WORKER_TEST_PAUSE=`pause`, wait until it says so, and SIGKILL it there."""
    p = _worker(db_url, "--batch", str(batch), env={"BASIRA_WORKER_TEST_PAUSE": pause})
    try:
        deadline, line = time.monotonic() + 300, ""
        while "basira-worker-paused" not in line and time.monotonic() < deadline:
            line = p.stderr.readline()
            assert line or p.poll() is None, "worker exited before the pause"
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


def _enqueue(store, texts: list[dict]) -> None:
    from basira.ingest.clean import ReadOptions
    from basira.intake.items import parse_item
    from basira.intake.queue import enqueue

    opts = ReadOptions()
    enqueue(store, [parse_item(item(t), i, opts)[0] for i, t in enumerate(texts)], "test", False)


def test_two_worker_processes_share_one_queue_without_double_processing(db_url, texts):
    url = _pg_url(db_url)
    with open_store(url) as store:
        _enqueue(store, texts[:200])
        procs = [_worker(url, "--batch", "5", "--until-empty") for _ in range(2)]
        outs = [p.communicate(timeout=600) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outs]
        taken = [qid for out, _ in outs for line in out.splitlines() for qid in json.loads(line)["queue_ids"]]
        assert len(taken) == len(set(taken)) == 200  # every item exactly once, across both
        assert queue_counts(store) == {"done": 200}
        assert store.count_posts() == store.count_detections() == 200
        assert store.count_cases() == store.count_events("case.opened")


def test_a_worker_killed_mid_batch_loses_nothing(db_url, texts):
    url = _pg_url(db_url)
    with open_store(url) as store:
        _enqueue(store, texts[:30])
        _kill_at_pause(url, 10, "inside:2")
        # Batch 1 committed; batch 2 was processed (posts stored, scored) but its queue rows not marked done.
        assert queue_counts(store) == {"done": 10, "pending": 20}
        assert store.count_posts() == 20
        q = _worker(url, "--batch", "10", "--until-empty")
        out, errs = q.communicate(timeout=600)
        assert q.returncode == 0, errs[-2000:]
        assert queue_counts(store) == {"done": 30}
        assert store.count_posts() == store.count_detections() == 30
        assert store.count_cases() == store.count_events("case.opened")
