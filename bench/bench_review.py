"""Review bench: 20 concurrent reviewers (threads with httpx) working one PostgreSQL-backed queue through the
web app (uvicorn on 127.0.0.1, `basira serve`, in its own process). Each reviewer loops: queue page → claim
next → case page → decide, until the queue is empty. Checks: no case decided twice, no decision lost, audit
chain intact. Reports p50/p95/max page time. `python -m bench.run review`.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

import httpx
import sqlalchemy as sa

from bench.pg import PgSchema

PG_URL = os.environ.get("BASIRA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/basira_test")
REVIEWERS = 20
CASES = 600
WORKERS = int(os.environ.get("BASIRA_BENCH_WORKERS", 2))
PASSWORD = "bench password 1234"
ACTIONS = [("remove", "TVEC-1.1"), ("keep", "OK-3"), ("remove", "TVEC-1.2"), ("escalate", "ESC-1"), ("refer", "LAW-1")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def _reviewer(base: str, name: str, out: dict, lock: threading.Lock, start: threading.Event) -> None:
    times: dict[str, list[float]] = {"queue": [], "case": [], "claim": [], "decide": []}
    decided: list[int] = []
    errors: list[str] = []
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as c:
        r = c.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
        r = c.post("/login", data={"username": name, "password": PASSWORD, "csrf": token})
        assert r.status_code == 303, r.text
        c.get("/queue")  # warm up (templates compiled, connections open) before the clock starts
        c.get("/cases/1")
        start.wait()
        csrf = None
        i = 0
        while True:
            t = time.perf_counter()
            r = c.get("/queue")
            times["queue"].append(time.perf_counter() - t)
            csrf = csrf or re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
            t = time.perf_counter()
            r = c.post("/queue/next", data={"csrf": csrf})
            times["claim"].append(time.perf_counter() - t)
            loc = r.headers.get("location", "")
            m = re.match(r"/cases/(\d+)$", loc)
            if not m:
                break
            cid = int(m.group(1))
            t = time.perf_counter()
            r = c.get(loc)
            times["case"].append(time.perf_counter() - t)
            action, reason = ACTIONS[i % len(ACTIONS)]
            i += 1
            t = time.perf_counter()
            r = c.post(f"/cases/{cid}/decide", data={"csrf": csrf, "action": action, "reason_code": reason})
            times["decide"].append(time.perf_counter() - t)
            if r.status_code == 303 and "Decision+recorded" in r.headers.get("location", ""):
                decided.append(cid)
            else:
                errors.append(f"{cid}: {r.status_code} {r.headers.get('location')}")
    with lock:
        out["decided"][name] = decided
        out["errors"].extend(errors)
        for k, v in times.items():
            out["times"][k].extend(v)


def run() -> dict:
    from basira.review.demo import seed_cases
    from basira.review.service import ReviewService, ReviewSettings
    from basira.store import open_store

    schema = PgSchema(PG_URL, "bench_review")
    url = schema.create()
    proc = None
    try:
        store = open_store(url)
        seed_cases(store, CASES, seed=11, accounts=120)
        svc = ReviewService(store, ReviewSettings())
        names = [f"reviewer{i:02d}" for i in range(REVIEWERS)]
        for n in names:
            svc.add_user(n, PASSWORD, "reviewer")
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "basira.cli", "serve", "--db", url, "--port", str(port), "--insecure-cookies",
             "--workers", str(WORKERS), "--no-access-log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        out: dict = {"decided": {}, "errors": [], "times": {"queue": [], "case": [], "claim": [], "decide": []}}
        lock, go = threading.Lock(), threading.Event()
        threads = [threading.Thread(target=_reviewer, args=(base, n, out, lock, go)) for n in names]
        for t in threads:
            t.start()
        time.sleep(0.5)
        t0 = time.perf_counter()
        go.set()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0

        all_decided = [c for v in out["decided"].values() for c in v]
        with store.read() as conn:
            live = conn.execute(sa.text(
                "SELECT case_id, count(*) FROM decisions WHERE undone_at IS NULL AND stage = 'review' GROUP BY case_id"
            )).all()
            still_open = conn.execute(sa.text("SELECT count(*) FROM cases WHERE status = 'open'")).scalar()
        per_case = {r[0]: r[1] for r in live}
        decided_twice = sum(1 for n in per_case.values() if n > 1) + (len(all_decided) - len(set(all_decided)))
        lost = len(set(all_decided) ^ set(per_case))  # acknowledged but not stored, or stored but not acknowledged
        chain_ok, _ = store.verify_events()
        store.close()
        pages = out["times"]["queue"] + out["times"]["case"]
        ms = lambda x: round(x * 1000, 1)  # noqa: E731
        result = {
            "title": "Review: 20 concurrent reviewers on one PostgreSQL queue",
            "reviewers": REVIEWERS,
            "server_workers": WORKERS,
            "cases": CASES,
            "decisions": len(all_decided),
            "cases_left_open": still_open,
            "decided_twice": decided_twice,
            "lost_decisions": lost,
            "errors": out["errors"][:20],
            "audit_chain_intact": chain_ok,
            "wall_seconds": round(wall, 2),
            "decisions_per_second": round(len(all_decided) / wall, 1),
            "page_ms": {"p50": ms(statistics.median(pages)), "p95": ms(_percentile(pages, 95)),
                        "max": ms(max(pages)), "n": len(pages)},
            "by_request_ms": {k: {"p50": ms(statistics.median(v)), "p95": ms(_percentile(v, 95))}
                              for k, v in out["times"].items() if v},
        }
        ok = decided_twice == 0 and lost == 0 and still_open == 0 and chain_ok and not out["errors"]
        result["summary"] = [
            f"{REVIEWERS} reviewers (threads with httpx, no think time) against `basira serve --workers {WORKERS}` "
            f"on PostgreSQL decided {len(all_decided)} of {CASES} cases in {wall:.1f} s "
            f"({result['decisions_per_second']} decisions/s).",
            "",
            "| page time | p50 | p95 | max |",
            "|---|---|---|---|",
            f"| queue + case pages ({len(pages)} requests) | {result['page_ms']['p50']} ms | "
            f"**{result['page_ms']['p95']} ms** | {result['page_ms']['max']} ms |",
            *(f"| {k} | {v['p50']} ms | {v['p95']} ms | |" for k, v in result["by_request_ms"].items()),
            "",
            f"Correctness: decided twice **{decided_twice}**, lost decisions **{lost}**, cases left open "
            f"{still_open}, errors {len(out['errors'])}, audit chain intact: {chain_ok}. "
            f"{'All checks pass.' if ok else 'CHECKS FAILED.'} Target: p95 page time < 300 ms.",
        ]
        return result
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        schema.drop()
