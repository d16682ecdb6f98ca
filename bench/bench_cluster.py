"""Cluster scans and content intake (issue 17): a real Dask scheduler with 1 and 2 worker processes against a
local scan of the same input (PostgreSQL), async intake throughput with 2 `basira worker` processes, and the
one-item sync latency of POST /api/v1/content.

Each configuration scans a fresh PostgreSQL schema. Wall time and CPU seconds (client, Dask workers and the
PostgreSQL server) are reported side by side; on this shared 2-core machine the ratios measured in one run are
the figures to quote. Environment: BASIRA_BENCH_CLUSTER_POSTS (about this many simulated posts; the issue's
target input is 200,000) or BASIRA_BENCH_CLUSTER_ACCOUNTS (default 2500 simulated accounts, ~18,000 posts),
BASIRA_BENCH_INTAKE_ITEMS (default 5000; 0: the scans only, result printed, not for bench/results),
BASIRA_BENCH_PG (a PostgreSQL URL; default the test server).

    python -m bench.run cluster                                   # writes bench/results/cluster.json
    BASIRA_BENCH_CLUSTER_POSTS=200000 python -m bench.run cluster # the issue's input (a quiet machine)
    python -m bench.bench_cluster --posts 20000                   # prints the result only
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from contextlib import contextmanager
from pathlib import Path

import orjson
import sqlalchemy as sa

from bench.pg import PgSchema

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("BASIRA_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/basira_test")


def _cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            f = fh.read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return sum(int(x) for x in f[11:15]) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> float:
    total = 0.0
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/comm") as fh:
                    if fh.read().strip() == "postgres":
                        total += _cpu(int(d))
            except OSError:
                continue
    return total


def schema() -> PgSchema:
    return PgSchema(PG_URL)


@contextmanager
def tagged_schema():
    """A fresh schema whose URL names its connections (application_name), so that the CPU of this run's own
    PostgreSQL backends can be read (the server is shared with other jobs): yields (url, cpu_of_backends)."""
    sch = PgSchema(PG_URL)
    url = sch.create()
    url = sa.make_url(url).update_query_dict({"application_name": sch.name}).render_as_string(False)

    def backends_cpu() -> float:
        assert sch.admin is not None
        with sch.admin.connect() as conn:
            pids = [r[0] for r in conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE application_name = :n"),
                                               {"n": sch.name})]
        return sum(_cpu(pid) for pid in pids)

    try:
        yield url, backends_cpu
    finally:
        sch.drop()


def _scheduler_ready(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text()).get("address"))
    except (OSError, ValueError):
        return False


@contextmanager
def cluster(tmp: Path, workers: int):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    sched = tmp / f"scheduler-{workers}.json"
    sched.unlink(missing_ok=True)
    nice = ["nice", "-n", "10"]
    procs = [subprocess.Popen([*nice, sys.executable, "-m", "distributed.cli.dask_scheduler", "--scheduler-file",
                               str(sched), "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp)]
    for _ in range(workers):
        procs.append(subprocess.Popen(
            [*nice, sys.executable, "-m", "distributed.cli.dask_worker", "--scheduler-file", str(sched),
             "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=tmp))
    try:
        while not _scheduler_ready(sched):  # the file can exist before its address is written
            time.sleep(0.2)
        from distributed import Client

        with Client(scheduler_file=str(sched), timeout="60s") as c:
            c.wait_for_workers(workers, timeout=300)
        yield str(sched), procs[1:]
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def _state(store) -> tuple:
    with store.engine.connect() as conn:
        return tuple(conn.execute(sa.text(q)).scalar() for q in (
            "SELECT count(*) FROM posts", "SELECT count(*) FROM detections",
            "SELECT count(*) FROM cases WHERE status = 'open'",
            "SELECT md5(string_agg(p.external_id || ':' || round(d.score::numeric, 9)::text, ',' "
            "ORDER BY p.external_id)) FROM detections d JOIN posts p ON p.id = d.post_id"))


PHASES = (("groups", "basira.cases.groups", "assign_groups"), ("priorities", "basira.cases.prioritize", "reprioritize"))


@contextmanager
def client_phases(backends_cpu):
    """CPU seconds of the client's serial tail, phase by phase (this process + this run's PostgreSQL backends):
    review groups (assign_groups) and priorities (reprioritize), the parts a second worker does not share."""
    import importlib

    got: dict[str, float] = {}
    saved = []
    for name, mod, fn in PHASES:
        m = importlib.import_module(mod)
        orig = getattr(m, fn)

        def timed(*a, _orig=orig, _name=name, **k):
            c0, p0 = time.process_time(), backends_cpu()
            try:
                return _orig(*a, **k)
            finally:
                got[_name] = round(got.get(_name, 0.0) + time.process_time() - c0 + backends_cpu() - p0, 2)

        saved.append((m, fn, orig))
        setattr(m, fn, timed)
    try:
        yield got
    finally:
        for m, fn, orig in saved:
            setattr(m, fn, orig)


def scan_local(data: Path) -> dict:
    from basira.detect.embedding import SentenceEmbedder
    from basira.scan import scan_paths
    from basira.store import open_store

    SentenceEmbedder.use_threads(1)  # as one Dask worker (one thread, one scoring process)
    with tagged_schema() as (url, backends_cpu), open_store(url) as store:
        pg0, cpu0, t0 = backends_cpu(), time.process_time(), time.monotonic()
        with client_phases(backends_cpu) as phases:
            s = scan_paths(store, [str(data)], workers=1)
        wall = time.monotonic() - t0
        cpu = time.process_time() - cpu0
        pg = backends_cpu() - pg0
        return {"wall_s": round(wall, 1), "cpu_s": round(cpu + pg, 1), "postgres_cpu_s": round(pg, 1),
                "tail_cpu_s": phases, "posts": s.posts_total, "texts_scored": s.texts_scored, "state": _state(store)}


def scan_cluster(data: Path, tmp: Path, workers: int) -> dict:
    from basira.cluster.client import cluster_scan
    from basira.store import open_store

    with cluster(tmp, workers) as (address, procs), tagged_schema() as (url, backends_cpu), \
            open_store(url) as store:
        from distributed import get_task_stream

        from basira.cluster.client import connect

        # Warm workers, as a standing cluster's are: the plugin loads the detector (and the banks) in each.
        watcher = connect(address, url)
        w0 = sum(_cpu(p.pid) for p in procs)
        pg0, cpu0, t0 = backends_cpu(), time.process_time(), time.monotonic()
        with client_phases(backends_cpu) as phases, get_task_stream(client=watcher) as stream:
            s = cluster_scan(store, url, address, [str(data)], chunk_bytes=chunk_bytes(data))
        wall = time.monotonic() - t0
        timeline = task_timeline(stream.data, time.time() - wall, time.time())
        watcher.close()
        client = time.process_time() - cpu0
        workers = sum(_cpu(p.pid) for p in procs) - w0
        pg = backends_cpu() - pg0  # the workers' connections are still open: their backends count
        # The client's CPU is the serial part (splitting, then review groups, priorities, totals after the
        # workers finish); the workers' is the part a second worker shares.
        return {"wall_s": round(wall, 1), "cpu_s": round(client + workers + pg, 1), "client_cpu_s": round(client, 1),
                "workers_cpu_s": round(workers, 1), "postgres_cpu_s": round(pg, 1),
                "tail_cpu_s": phases, "posts": s.posts_total, "texts_scored": s.texts_scored, "workers": s.workers,
                "timeline_s": timeline, "state": _state(store)}


def task_timeline(records: list[dict], t0: float, t1: float, step: float = 0.05) -> dict:
    """Where a cluster scan's wall time went, from Dask's task stream (seconds, summed over the workers): a
    worker ingesting and scoring at once, one of them only, another task (hash pass), or nothing — and the
    client's time before the first task and after the last (its set-up, its serial tail)."""
    starts = [(st["start"], st["stop"], r["key"].split("-")[1], r["worker"]) for r in records
              for st in r.get("startstops", ()) if st["action"] == "compute"]
    if not starts:
        return {}
    out = {"both": 0.0, "ingest_only": 0.0, "score_only": 0.0, "other": 0.0, "idle": 0.0}
    first, last = min(a for a, *_ in starts), max(b for _, b, *_ in starts)
    for w in {x[3] for x in starts}:
        mine = [x for x in starts if x[3] == w]
        t = first
        while t < last:
            kinds = {k for a, b, k, _ in mine if a <= t < b}
            key = ("both" if {"ingest", "score"} <= kinds else "ingest_only" if "ingest" in kinds else
                   "score_only" if "score" in kinds else "other" if kinds else "idle")
            out[key] += step
            t += step
    return {k: round(v, 1) for k, v in out.items()} | {"before_first_task": round(first - t0, 1),
                                                       "after_last_task": round(t1 - last, 1)}


POSTS_PER_ACCOUNT = 7.2  # the simulator's ratio (18,053 posts from 2,500 accounts)


def chunk_bytes(data: Path) -> int:
    """Byte ranges of about 4 MiB (the default), and at least 16 of them on small inputs: both workers stay busy."""
    size = (data / "tweets.jsonl").stat().st_size
    return max(256 << 10, min(4 << 20, size // 16))


def _texts(data: Path, n: int) -> list[dict]:
    out: dict[str, dict] = {}
    for line in (data / "tweets.jsonl").read_bytes().splitlines():
        for t in orjson.loads(line).get("data", []):
            out.setdefault(t["id"], t)
    items = list(out.values())
    return [{"platform": "x", "post_id": f"{i}-{t['id']}", "text": t["text"], "lang": t.get("lang"),
             "account": {"id": t["author_id"]}} for i, t in enumerate((items * (n // len(items) + 1))[:n])]


def _app(url: str):
    from basira.review.service import ReviewService, ReviewSettings
    from basira.store import open_store
    from basira.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    store = open_store(url)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("plat", "a long enough password", "platform")
    c = TestClient(create_app(svc))
    c.headers["Authorization"] = "Bearer " + svc.create_token("plat", "bench")
    return store, c


def intake_async(data: Path, n: int) -> dict:
    items = _texts(data, n)
    with schema() as url:
        store, c = _app(url)
        t0 = time.monotonic()
        for i in range(0, n, 100):
            r = c.post("/api/v1/content?mode=async", json=items[i:i + 100])
            assert r.status_code == 202, r.text
        enqueue_s = time.monotonic() - t0
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        procs = [subprocess.Popen(["nice", "-n", "10", sys.executable, "-m", "basira.cli", "worker", "--db", url,
                                   "--batch", "100", "--until-empty", "--log"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, env=env, text=True, cwd=ROOT) for _ in range(2)]
        pg0 = _postgres_cpu()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        logs = []
        for p in procs:
            out, _ = p.communicate()
            logs.extend(json.loads(x) for x in out.splitlines())
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        workers_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        pg_cpu = _postgres_cpu() - pg0
        store.close()
    ts = sorted(e["t"] for e in logs)
    by_t = sorted(logs, key=lambda e: e["t"])
    after_first = sum(len(e["queue_ids"]) for e in by_t[1:])
    span = ts[-1] - ts[0]
    return {"items": n, "enqueue_items_per_s": round(n / enqueue_s, 1),
            "worker_items_per_s": round(after_first / span, 1) if span > 0 else None,
            "processed": sum(len(e["queue_ids"]) for e in logs), "workers": len({e["worker"] for e in logs}),
            "workers_cpu_s": round(workers_cpu, 1), "postgres_cpu_s": round(pg_cpu, 1),
            "items_per_cpu_s": round(n / (workers_cpu + pg_cpu), 1) if workers_cpu + pg_cpu else None}


def intake_sync(data: Path, n: int = 200) -> dict:
    items = _texts(data, n + 20)
    with schema() as url:
        store, c = _app(url)
        for it in items[:20]:  # warm: the detector, the banks' state, the connection pool
            c.post("/api/v1/content", json=it)
        times = []
        for it in items[20:]:
            t0 = time.perf_counter()
            r = c.post("/api/v1/content", json=it)
            times.append((time.perf_counter() - t0) * 1000)
            assert r.status_code == 200
        store.close()
    times.sort()
    return {"requests": n, "p50_ms": round(statistics.median(times), 1),
            "p95_ms": round(times[int(0.95 * len(times)) - 1], 1), "max_ms": round(times[-1], 1)}


def run(posts: int | None = None) -> dict:
    from basira.simulate import simulate_platform

    posts = posts or int(os.environ.get("BASIRA_BENCH_CLUSTER_POSTS", "0"))
    accounts = math.ceil(posts / POSTS_PER_ACCOUNT) if posts else int(
        os.environ.get("BASIRA_BENCH_CLUSTER_ACCOUNTS", "2500"))
    n_items = int(os.environ.get("BASIRA_BENCH_INTAKE_ITEMS", "5000"))
    with tempfile.TemporaryDirectory(prefix="basira-bench-cluster-") as d:
        tmp = Path(d)
        data = tmp / "platform"
        simulate_platform(accounts=accounts, seed=17, out_dir=str(data))
        load0 = os.getloadavg()[0]
        local = scan_local(data)
        print("local", local, flush=True)
        one = scan_cluster(data, tmp, 1)
        print("1 worker", one, flush=True)
        two = scan_cluster(data, tmp, 2)
        print("2 workers", two, flush=True)
        same = local["state"] == one["state"] == two["state"]
        if n_items:
            sync = intake_sync(data)
            print("sync", sync, flush=True)
            asyn = intake_async(data, n_items)
            print("async", asyn, flush=True)
        else:  # BASIRA_BENCH_INTAKE_ITEMS=0: the scans only
            return {"local": local, "one": one, "two": two, "same_state": same}
        load1 = os.getloadavg()[0]
    for r in (local, one, two):
        r.pop("state")
    speedup = round(one["wall_s"] / two["wall_s"], 2)
    overhead = round(one["wall_s"] / local["wall_s"] - 1, 3)
    return {
        "name": "cluster", "title": "Cluster scans (Dask) and content intake",
        "posts": local["posts"], "local_1_process": local, "cluster_1_worker": one, "cluster_2_workers": two,
        "same_state": same, "speedup_2_vs_1": speedup, "overhead_1_worker_vs_local": overhead,
        "intake_sync": sync, "intake_async": asyn, "load_average": [round(load0, 1), round(load1, 1)],
        "summary": [
            f"- Input: {local['posts']:,} simulated posts ({accounts:,} accounts; the issue's target input is "
            "200,000), PostgreSQL, one fresh schema per run; load average "
            f"{load0:.1f} → {load1:.1f} on 2 cores.",
            "| run | wall s | CPU s (all processes + PostgreSQL) |", "|---|---:|---:|",
            f"| local scan, 1 scoring process | {local['wall_s']} | {local['cpu_s']} |",
            f"| cluster, 1 Dask worker | {one['wall_s']} | {one['cpu_s']} (client {one['client_cpu_s']}, workers "
            f"{one['workers_cpu_s']}, PostgreSQL {one['postgres_cpu_s']}) |",
            f"| cluster, 2 Dask workers | {two['wall_s']} | {two['cpu_s']} (client {two['client_cpu_s']}, workers "
            f"{two['workers_cpu_s']}, PostgreSQL {two['postgres_cpu_s']}) |",
            "- The client's serial tail after the workers finish, CPU-s (client + PostgreSQL): review groups "
            f"{one['tail_cpu_s'].get('groups')} (1 worker) / {two['tail_cpu_s'].get('groups')} (2 workers), "
            f"priorities {one['tail_cpu_s'].get('priorities')} / {two['tail_cpu_s'].get('priorities')}; local scan "
            f"{local['tail_cpu_s'].get('groups')} / {local['tail_cpu_s'].get('priorities')}.",
            f"- Distinct texts run through the detector (copies reuse a text's result): local {local['texts_scored']:,}, "
            f"1 worker {one['texts_scored']:,}, 2 workers {two['texts_scored']:,}.",
            "- Where the workers' wall time went (Dask's task stream, seconds summed over the workers): ingesting "
            "and scoring at once / ingest only / scoring only / idle between the first task and the last: 1 worker "
            + " / ".join(str(one["timeline_s"].get(k)) for k in ("both", "ingest_only", "score_only", "idle"))
            + ", 2 workers " + " / ".join(str(two["timeline_s"].get(k)) for k in ("both", "ingest_only", "score_only",
                                                                                  "idle"))
            + f"; the client before the first task {one['timeline_s'].get('before_first_task')} / "
            f"{two['timeline_s'].get('before_first_task')} s, after the last {one['timeline_s'].get('after_last_task')}"
            f" / {two['timeline_s'].get('after_last_task')} s.",
            f"- 2 workers vs 1: **{speedup}×** (target ≥ 1.6×); 1 worker vs local: **{overhead:+.1%}** "
            f"(target ≤ 15 %); identical database state in all three: {same}.",
            f"- Intake, async (batches of 100, 2 `basira worker` processes): **{asyn['worker_items_per_s']}** items/s "
            f"processed (target ≥ 1,000), enqueued at {asyn['enqueue_items_per_s']} items/s; {asyn['processed']:,} of "
            f"{asyn['items']:,} processed once each by {asyn['workers']} workers; {asyn['workers_cpu_s']} CPU-s in the "
            f"workers + {asyn['postgres_cpu_s']} in PostgreSQL ({asyn['items_per_cpu_s']} items per CPU-second).",
            f"- Intake, sync, one text item: p50 {sync['p50_ms']} ms, **p95 {sync['p95_ms']} ms** (target < 150 ms), "
            f"max {sync['max_ms']} ms over {sync['requests']} requests (in-process ASGI client, model warm).",
        ],
    }


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=None, help="about this many simulated posts (200000: the issue's)")
    print(json.dumps(run(ap.parse_args().posts), indent=2))
