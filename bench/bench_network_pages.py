"""Network pages bench: the `make demo` platform (2,000 accounts, seed 7, scanned by the detector into SQLite),
served in-process (FastAPI TestClient, one analyst session). Measures the one-off analysis behind the pages
(load + analyse + index; done at server start, then again only when the data changes) and the time of each
page once it is cached: /network, the riskiest community, the riskiest account (ego graph capped at 150
nodes), a median account, the graph JSON, and the GEXF/GraphML downloads. `python -m bench.run network_pages`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import warnings
from pathlib import Path

REPEATS = 15
PASSWORD = "bench password 1234"


def _p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def run() -> dict:
    from basira.network.cache import cache_for
    from basira.review.service import ReviewService, ReviewSettings
    from basira.scan import scan_paths
    from basira.simulate import simulate_platform
    from basira.store import open_store
    from basira.web.app import create_app

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient

    tmp = Path(tempfile.mkdtemp(prefix="basira-bench-netpages-"))
    simulate_platform(2000, 7, str(tmp / "demo-platform"))
    store = open_store(f"sqlite:///{tmp / 'demo.db'}")
    scan_paths(store, [str(tmp / "demo-platform")], workers=1)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("bench", PASSWORD, "analyst")
    app = create_app(svc)
    cookie, csrf = svc.start_session(svc.repo.user_by_name("bench"))
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("basira_session", cookie)

    cold = []
    for _ in range(3):  # a fresh cache each time: what a server start (or a data change) costs
        from basira.network import cache as cache_module

        cache_module._CACHES.pop(store, None)
        t = time.perf_counter()
        snap = cache_for(store).get(store)
        cold.append(time.perf_counter() - t)
    a = snap.view.analysis
    top = int(a.risk.top(1)[0])
    order = a.risk.score.argsort()
    median = int(order[len(order) // 2])
    riskiest_comm = int(a.communities.membership[top])
    ids = {"top": a.data.accounts[top].id, "median": a.data.accounts[median].id}
    pages = {
        "network index": "/network",
        "community page (riskiest)": f"/communities/{riskiest_comm}",
        "community page (largest)": "/communities/0",
        "account page (riskiest)": f"/accounts/{ids['top']}",
        "account page (median risk)": f"/accounts/{ids['median']}",
        "account graph JSON (riskiest)": f"/accounts/{ids['top']}/graph.json",
        "community graph JSON (largest)": "/communities/0/graph.json",
        "GEXF, whole graph": "/network/export/gexf",
        "GraphML, riskiest community": f"/communities/{riskiest_comm}/export/graphml",
    }
    times: dict[str, dict] = {}
    for name, path in pages.items():
        r = c.get(path)
        assert r.status_code == 200, (path, r.status_code)
        xs = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            r = c.get(path)
            xs.append(time.perf_counter() - t)
        times[name] = {"path": path, "median_ms": round(1000 * statistics.median(xs), 1),
                       "p95_ms": round(1000 * _p95(xs), 1), "bytes": len(r.content)}
    store.close()
    summary = [
        f"The `make demo` platform ({a.data.n:,} accounts, {len(a.graph.edges):,} interactions, "
        f"{a.communities.count} communities), SQLite, served in-process; {REPEATS} requests per page after one warm-up.",
        "",
        f"- Analysis behind the pages (load + analyse + index; at server start and after data changes): "
        f"median {statistics.median(cold):.2f} s",
        "",
        "| page | median | p95 | size |",
        "|---|---|---|---|",
        *[f"| {k} | {v['median_ms']:.0f} ms | {v['p95_ms']:.0f} ms | {v['bytes'] / 1024:.0f} KB |" for k, v in times.items()],
    ]
    return {"title": "Network pages (web app)", "cold_analysis_s": [round(x, 3) for x in cold], "pages": times,
            "accounts": a.data.n, "interactions": len(a.graph.edges), "summary": summary}
