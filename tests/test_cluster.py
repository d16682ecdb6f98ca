"""`basira scan --cluster` and `basira rescore --cluster` on a real Dask cluster: a scheduler and two worker
processes on localhost (subprocesses). The database state equals a local scan's (compared by external ids),
also after a worker is killed mid-scan. Synthetic input from the simulator, kept small."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from basira.simulate import simulate_platform
from basira.store import open_store
from tests.conftest import fresh_db_url

ROOT = Path(__file__).resolve().parents[1]
DASK = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
WORKER = [sys.executable, "-m", "distributed.cli.dask_worker"]


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Path:
    """The simulator's platform, and a file of copies: simulated texts each posted again many times by other
    accounts, spread over the file (so over several scoring windows and both workers)."""
    import orjson

    out = tmp_path_factory.mktemp("platform").resolve()
    simulate_platform(accounts=80, seed=5, out_dir=str(out))
    texts = list(dict.fromkeys(t["text"] for line in (out / "tweets.jsonl").read_bytes().splitlines()
                               for t in orjson.loads(line).get("data", []) if len(t["text"]) >= 40))[:60]
    with open(out / "copies.jsonl", "wb") as fh:
        for i in range(8 * len(texts)):
            fh.write(orjson.dumps({"platform": "forum", "id": f"c{i}", "account_id": f"a{i % 23}", "lang": "en",
                                   "text": texts[i % len(texts)], "created_at": f"2026-10-{1 + i % 28:02d}T12:00:00Z"})
                     + b"\n")
    return out


@pytest.fixture
def pg(tmp_path):
    with fresh_db_url("postgresql", tmp_path) as url:
        yield url


@pytest.fixture(scope="module")
def local_state(platform, tmp_path_factory):
    """The state a local scan of the same input leaves (its own PostgreSQL schema), and how many distinct
    texts it scored."""
    from basira.scan import scan_paths

    with fresh_db_url("postgresql", tmp_path_factory.mktemp("local")) as url, open_store(url) as store:
        s = scan_paths(store, [str(platform)], workers=1)
        with store.engine.connect() as conn:
            posts = conn.execute(sa.text("SELECT text, lang FROM posts")).all()
        # One scoring process scores each distinct text once (its cache holds them all); copies reuse it. A
        # text's result depends on its language when the post names a specific one (und, zxx… name none).
        unspecific = {"und", "zxx", "qme", "qam", "qht", "qct", "art"}
        distinct = {(t, lang if lang and lang.lower() not in unspecific else None) for t, lang in posts}
        # At most once each: the cache's key can fold two stored spellings of one text's language (seen: 1,447
        # scored for 1,457 stored pairs), so the stored pairs are an upper bound, and copies are never re-scored.
        assert 0 < s.texts_scored <= len(distinct) <= s.posts_total - 400
        yield snapshot(store) | {"texts_scored": s.texts_scored}


@pytest.fixture(scope="module")
def shared_cluster(tmp_path_factory):
    """One scheduler and two workers for the tests that kill none (each test its own database)."""
    with dask_cluster(tmp_path_factory.mktemp("dask")) as (address, procs):
        yield address, procs


def snapshot(store) -> dict:
    """Everything a scan writes, keyed by external ids (surrogate ids differ between runs)."""
    q = {
        "posts": "SELECT pl.name, p.external_id, p.text, p.lang, a.external_id, p.created_at, p.reply_to, "
                 "p.quote_of, p.repost_of, p.thread, p.source_file, p.source_line FROM posts p "
                 "JOIN platforms pl ON pl.id = p.platform_id LEFT JOIN accounts a ON a.id = p.account_id",
        "accounts": "SELECT pl.name, a.external_id, a.handle, a.display_name, a.bio, a.status, a.created_at "
                    "FROM accounts a JOIN platforms pl ON pl.id = a.platform_id",
        "detections": "SELECT p.external_id, d.model_version, round(d.score::numeric, 9), "
                      "d.categories::text, d.evidence::text FROM detections d JOIN posts p ON p.id = d.post_id",
        "cases": "SELECT c.subject_kind, p.external_id, c.status, c.reason, c.details::text FROM cases c "
                 "LEFT JOIN posts p ON p.id = c.subject_id AND c.subject_kind = 'post'",
        # Priorities: of every case outside a review group (a group's lead is the copy whose case opened first,
        # which on a cluster can be another copy, and carries the group's priority).
        "priorities": "SELECT p.external_id, round(c.priority::numeric, 9) FROM cases c JOIN posts p ON "
                      "p.id = c.subject_id AND c.subject_kind = 'post' WHERE c.id NOT IN "
                      "(SELECT case_id FROM review_group_members)",
        # Review groups, as the sets of their members' posts.
        "groups": "SELECT string_agg(p.external_id, ',' ORDER BY p.external_id) FROM review_group_members m "
                  "JOIN cases c ON c.id = m.case_id JOIN posts p ON p.id = c.subject_id AND c.subject_kind = 'post' "
                  "GROUP BY m.group_id",
        # The leads of open review groups (by content: the earliest post).
        "leads": "SELECT p.external_id FROM review_groups g JOIN cases c ON c.id = g.lead_case_id JOIN posts p "
                 "ON p.id = c.subject_id AND c.subject_kind = 'post' WHERE g.status = 'open'",
        "media": "SELECT p.external_id, m.position, m.url, m.sha256, m.pdq FROM media m JOIN posts p ON p.id = m.post_id",
        # The follow graph (on a cluster in ranges, after the posts' ranges).
        "follows": "SELECT s.external_id, t.external_id FROM follows f JOIN accounts s ON s.id = f.source_id "
                   "JOIN accounts t ON t.id = f.target_id",
    }
    with store.engine.connect() as conn:
        out = {k: sorted(map(tuple, conn.execute(sa.text(v))), key=repr) for k, v in q.items()}
        out["case_events"] = conn.execute(sa.text("SELECT count(*) FROM events WHERE kind = 'case.opened'")).scalar()
    return out


def lines_of(platform: Path) -> dict[str, set[int]]:
    """Post id -> the lines of tweets.jsonl it is on (as a page's post or as a referenced tweet)."""
    import orjson

    out: dict[str, set[int]] = {}
    for n, line in enumerate((platform / "tweets.jsonl").read_bytes().splitlines(), start=1):
        page = orjson.loads(line)
        for t in [*page.get("data", []), *page.get("includes", {}).get("tweets", [])]:
            out.setdefault(t["id"], set()).add(n)
    return out


def assert_same(got: dict, want: dict, platform: Path, groups: bool = True) -> None:
    """Equal, except where a post is on several lines: ingest keeps the first copy stored, and tasks running at
    once may store a later line's copy first (same content; source_line is then one of that post's lines)."""
    skip = {"posts", "texts_scored"} if groups else {"posts", "texts_scored", "groups", "leads", "priorities"}
    for k in want:
        if k not in skip and got[k] != want[k]:
            a, b = set(got[k]) - set(want[k]), set(want[k]) - set(got[k])
            raise AssertionError(f"{k}: {len(a)} rows differ; cluster {sorted(a, key=repr)[:2]} local {sorted(b, key=repr)[:2]}")
    where = lines_of(platform)
    mine = {r[:2]: r for r in got["posts"]}
    assert set(mine) == {r[:2] for r in want["posts"]}
    for r in want["posts"]:
        m = mine[r[:2]]
        assert m[:-1] == r[:-1], (r, m)
        assert m[-1] == r[-1] or m[-1] in where.get(r[1], set()), (r, m)


def _scheduler_ready(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text()).get("address"))
    except (OSError, ValueError):
        return False


@contextmanager
def dask_cluster(tmp_path: Path, pause_first: bool = False):
    """`dask scheduler` and two `dask worker` processes (no nanny: a killed worker stays dead)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("BASIRA_CLUSTER_TEST_PAUSE", None)
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([*DASK, "--scheduler-file", str(sched_file), "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", "127.0.0.1:0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp_path)]
    try:
        for i in range(2):
            wenv = {**env, "BASIRA_CLUSTER_TEST_PAUSE": "score:1"} if pause_first and i == 0 else env
            procs.append(subprocess.Popen(
                [*WORKER, "--scheduler-file", str(sched_file), "--nthreads", "1", "--no-nanny",
                 "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", "--death-timeout", "120"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE if i == 0 else subprocess.DEVNULL,
                env=wenv, cwd=tmp_path, text=True))
        from distributed import Client

        deadline = time.monotonic() + 120
        while not _scheduler_ready(sched_file):  # the file can exist before its address is written
            assert time.monotonic() < deadline, "the scheduler did not start"
            time.sleep(0.2)
        with Client(scheduler_file=str(sched_file), timeout="60s") as c:
            c.wait_for_workers(2, timeout=120)
        yield str(sched_file), procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def test_cluster_scan_equals_a_local_scan_and_rescans_add_nothing(platform, local_state, pg, shared_cluster):
    from basira.cluster.client import cluster_scan

    address, _ = shared_cluster
    with open_store(pg) as store:
        stages: dict[str, int] = {}
        # Ranges small enough that the follow graph is split too (its ranges start once the posts' have ended).
        chunk = min(64 * 1024, (platform / "follows.jsonl").stat().st_size // 2)
        # overlap: each worker ingests and scores at once (by default only where cores are spare; here 2
        # single-threaded workers fill the 2 cores, and the kill tests below run them one task at a time).
        s = cluster_scan(store, pg, address, [str(platform)], chunk_bytes=chunk, overlap=True,
                         progress=lambda st, done, total: stages.__setitem__(st, total))
        assert s.workers == 2 and stages["ingest"] > 3 and stages["score"] >= 1  # the big file was split
        # Each text's copies go to one worker (by text), which scores it once: every distinct text at least
        # once, and again only when the other worker took over a task at the end (work stealing).
        assert local_state["texts_scored"] <= s.texts_scored < s.posts_total
        assert s.flagged_new == s.flagged_total > 0 and s.cases_open == local_state["case_events"]
        # Ranges ingested at once number their posts in another order than a local scan; review groups do not
        # depend on it (basira.cases.groups: linked groups merge, the earliest post leads). Everything is equal.
        first = snapshot(store)
        assert_same(first, local_state, platform)
        assert sum(1 for g in first["groups"] if g[0].count(",") >= 6) >= 10  # the copies' review groups
        # Again through the command line (BASIRA_DASK_SCHEDULER): nothing new, every file skipped as unchanged.
        r = subprocess.run([sys.executable, "-m", "basira.cli", "scan", str(platform), "--db", pg, "--json"],
                           capture_output=True, text=True, cwd=ROOT,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "BASIRA_DASK_SCHEDULER": address})
        assert r.returncode == 0, r.stderr[-2000:]
        again = json.loads(r.stdout)
        assert (again["posts_new"], again["detections_new"], again["cases_new"], again["workers"]) == (0, 0, 0, 2)
        assert again["files"] and all(f.get("unchanged") for f in again["files"])
        assert snapshot(store) == first  # groups and priorities included


def test_a_worker_killed_mid_scan_loses_and_duplicates_nothing(platform, local_state, pg, tmp_path):
    from basira.cluster.client import cluster_scan

    with dask_cluster(tmp_path, pause_first=True) as (address, procs), open_store(pg) as store:
        victim = procs[1]
        killed = threading.Event()

        def watch() -> None:
            for line in victim.stderr:
                if "basira-cluster-paused" in line:
                    victim.send_signal(signal.SIGKILL)
                    killed.set()
                    return

        threading.Thread(target=watch, daemon=True).start()
        # Many small scoring windows, so that the paused worker surely gets one.
        cluster_scan(store, pg, address, [str(platform)], chunk_bytes=64 * 1024, batch_size=50, score_window=100)
        assert killed.is_set(), "the paused worker never got a scoring task"
        # The killed window's cases opened last here; review groups and their leads do not depend on the order
        # cases open (basira.cases.groups), so they are the local scan's too (issue 17 saw leads differ).
        assert_same(snapshot(store), local_state, platform)


def test_rescore_on_the_cluster_scores_what_the_model_lacks(platform, local_state, pg, shared_cluster):
    from basira.cluster.rescore import rescore
    from basira.ingest import ingest_file

    with open_store(pg) as store:
        for f in sorted(platform.glob("*.jsonl")):
            try:
                ingest_file(store, str(f))
            except Exception:  # noqa: BLE001 - files of no post format (ground truth) are not ingested
                pass
        address, _ = shared_cluster
        out = rescore(store, pg, address)
        assert out.scored == store.count_posts() == out.detections_new
        assert rescore(store, pg, address).scored == 0  # resumable: nothing left
        got = snapshot(store)
        assert got["detections"] == local_state["detections"] and got["cases"] == local_state["cases"]


def test_cluster_scan_refuses_sqlite(tmp_path, platform):
    r = subprocess.run([sys.executable, "-m", "basira.cli", "scan", str(platform), "--db",
                        str(tmp_path / "x.db"), "--cluster", "tcp://127.0.0.1:1"],
                       capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2 and "cluster scans need PostgreSQL" in r.stderr and "Traceback" not in r.stderr


def _bank_texts(platform: Path, n: int) -> list[str]:
    """Distinct long texts of simulated posts, to put in a bank (the simulator's own synthetic content)."""
    import orjson

    seen: dict[str, None] = {}
    for line in (platform / "tweets.jsonl").read_bytes().splitlines():
        for t in orjson.loads(line).get("data", []):
            if len(t["text"]) >= 60 and not t["text"].startswith("RT "):
                seen.setdefault(t["text"])
    return list(seen)[:n]


def _bank(store, texts: list[str]) -> None:
    from basira import banks as repo
    from basira.signals import get_signal_type
    from basira.signals.exchange import BankEntry

    if repo.get_bank(store, "synthetic") is None:
        with store.transaction() as tx:
            repo.create_bank(tx, "synthetic")
    mh = get_signal_type("text_minhash")
    with store.transaction() as tx:
        repo.add_entries(tx, "synthetic", [BankEntry.make("text_minhash", mh.hash_text(t), labels={"n": str(i)})
                                              for i, t in enumerate(texts)])


def _matches(store) -> list[tuple]:
    q = ("SELECT p.external_id, i.labels::text, m.status FROM bank_matches m JOIN bank_items i ON i.id = m.item_id "
         "JOIN posts p ON m.subject = 'post:' || p.id")
    with store.engine.connect() as conn:
        return sorted(map(tuple, conn.execute(sa.text(q))))


def test_workers_match_the_banks_and_reload_them_when_they_change(platform, pg, tmp_path, shared_cluster):
    """The hash pass runs on the workers against each one's snapshot of the banks: the same matches and cases
    as a local scan; a bank item added later reaches the workers (their snapshots reload) on the next scan."""
    from basira.cluster.client import cluster_scan
    from basira.scan import scan_paths

    texts = _bank_texts(platform, 6)
    assert len(texts) == 6
    with fresh_db_url("postgresql", tmp_path / "local") as url, open_store(url) as local:
        _bank(local, texts[:3])
        scan_paths(local, [str(platform)], workers=1)
        want_first = _matches(local), snapshot(local)
        _bank(local, texts[3:])
        scan_paths(local, [str(platform)], workers=1)
        want_then = _matches(local), snapshot(local)
    assert want_first[0] and len(want_then[0]) > len(want_first[0])
    address, _ = shared_cluster
    with open_store(pg) as store:
        _bank(store, texts[:3])
        s = cluster_scan(store, pg, address, [str(platform)], chunk_bytes=64 * 1024, score_window=500)
        assert s.hash_matches > 0
        assert _matches(store) == want_first[0]
        # The windows' hash tasks open their cases in whatever order they finish, the local pass in post id
        # order: the groups do not depend on it.
        assert_same(snapshot(store), want_first[1], platform)
        _bank(store, texts[3:])  # the workers' snapshots are now stale
        again = cluster_scan(store, pg, address, [str(platform)], chunk_bytes=64 * 1024, score_window=500)
        assert again.posts_new == 0 and again.hash_matches > 0
        assert _matches(store) == want_then[0]
        assert_same(snapshot(store), want_then[1], platform)


KILL_SCAN = """
import sys
from basira.cluster.client import cluster_scan
from basira.store import open_store

platform, db, address = sys.argv[1:]
with open_store(db) as store:
    cluster_scan(store, db, address, [platform], chunk_bytes=64 * 1024, batch_size=50, score_window=100)
"""


def _kill_client_at(where: str, platform: Path, db: str, address: str) -> None:
    """Run a cluster scan in a client process and SIGKILL it at `where` (basira.cluster.client.PAUSE_ENV), with
    the tasks it submitted still running on the workers."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BASIRA_CLUSTER_CLIENT_TEST_PAUSE": where}
    client = subprocess.Popen([sys.executable, "-c", KILL_SCAN, str(platform), db, address], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    timer = threading.Timer(300, client.kill)  # a client that never pauses fails the test below, not the suite
    timer.start()
    try:
        tail = []
        for line in client.stderr:
            tail.append(line)
            if "basira-cluster-client-paused" in line:
                client.send_signal(signal.SIGKILL)
                break
        client.wait()
    finally:
        timer.cancel()
    assert client.returncode == -signal.SIGKILL, "".join(tail[-30:])


def _events(store, kind: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT count(*) FROM events WHERE kind = :k"), {"k": kind}).scalar()


def test_a_client_killed_mid_ingest_is_resumed_by_running_the_scan_again(platform, local_state, pg, shared_cluster):
    """SIGKILL of the client after a few parts ended, the next parts and score tasks running on the workers
    (they go on as orphans, their results unwanted); the same scan run again, at once, ends with the local
    scan's state: nothing lost, nothing twice."""
    from basira.cluster.client import cluster_scan

    address, _ = shared_cluster
    _kill_client_at("parts:3", platform, pg, address)
    with open_store(pg) as store:
        assert 0 < len(snapshot(store)["posts"]) < len(local_state["posts"])  # killed mid-ingest
        assert _events(store, "scan.completed") == 0
        s = cluster_scan(store, pg, address, [str(platform)], chunk_bytes=64 * 1024, batch_size=50,
                         score_window=100)
        assert s.posts_total == len(local_state["posts"])
        assert_same(snapshot(store), local_state, platform)
        assert _events(store, "scan.completed") == 1


@pytest.fixture(scope="module")
def banked_state(platform, tmp_path_factory):
    """A local scan's state and matches with three simulated texts in a bank."""
    from basira.scan import scan_paths

    with fresh_db_url("postgresql", tmp_path_factory.mktemp("banked")) as url, open_store(url) as store:
        _bank(store, _bank_texts(platform, 3))
        scan_paths(store, [str(platform)], workers=1)
        yield _matches(store), snapshot(store)


@pytest.mark.parametrize("where", ["match:2", "record:1"])
def test_a_client_killed_in_the_hash_pass_is_resumed_by_running_the_scan_again(platform, banked_state, pg,
                                                                               shared_cluster, where):
    """SIGKILL of the client while the workers match the banks (windows matched, none recorded) or record the
    matches (chunks recorded, the banks' checkpoints not moved, no review groups formed): the scan run again
    ends with the local scan's matches, cases and groups."""
    from basira.cluster.client import cluster_scan

    address, _ = shared_cluster
    matches, state = banked_state
    assert matches
    with open_store(pg) as store:
        _bank(store, _bank_texts(platform, 3))
        _kill_client_at(where, platform, pg, address)
        assert len(snapshot(store)["posts"]) == len(state["posts"]) and _events(store, "scan.completed") == 0
        cluster_scan(store, pg, address, [str(platform)], chunk_bytes=64 * 1024, batch_size=50, score_window=100)
        assert _matches(store) == matches
        assert_same(snapshot(store), state, platform)
        assert _events(store, "scan.completed") == 1


ORPHAN = """
import sys, time
from distributed import Client

with Client(scheduler_file=sys.argv[1], timeout="60s") as c:
    f = c.submit(time.sleep, float(sys.argv[2]), key="basira-orphan-%d" % time.time_ns(), pure=False)
    while c.processing() and not any(c.processing().values()):
        time.sleep(0.05)
    print("running", time.time(), flush=True)
    time.sleep(3600)
"""


def test_a_new_client_waits_for_the_tasks_a_killed_client_left_running(pg, shared_cluster):
    """A killed client's tasks run on to their end (a thread cannot be stopped); the scan run again waits for
    them before it submits the same parts, windows or chunks of matches (basira.cluster.client.connect)."""
    from basira.cluster.client import connect

    address, _ = shared_cluster
    with open_store(pg):  # migrated: the workers' plugin loads its banks
        connect(address, pg).close()  # warm workers (a first connect loads the detector in each: seconds)
    client = subprocess.Popen([sys.executable, "-c", ORPHAN, address, "10"], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    started = float(client.stdout.readline().split()[1])
    client.send_signal(signal.SIGKILL)
    client.wait()

    def cancelled(dask_worker) -> int:
        return sum(1 for ts in dask_worker.state.tasks.values() if ts.state == "cancelled")

    c = connect(address, pg)
    try:
        assert time.time() >= started + 10 - 0.5  # it returned once the orphan had slept its 10 s
        assert not any(c.run(cancelled).values())
    finally:
        c.close()
