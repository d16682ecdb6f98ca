"""Compliance bench: how long executing a removal order takes (one order naming 500 posts: a case, an order
decision, two queued webhooks, a notice and a preserved snapshot per post, all in one transaction), how fast the
six-month purge runs, and one alert tick over 200 open orders (webhook to a local receiver). SQLite and
PostgreSQL. `python -m bench.run compliance`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import sqlalchemy as sa

from bench.pg import PgSchema

PG_URL = os.environ.get("BASIRA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/basira_test")
TARGETS = 500  # posts named by one order
ORDERS = 6  # orders executed (medians over them); ORDERS × TARGETS items then purged
OPEN_ORDERS = 200  # orders in the alert tick


class _Accept(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def _one(url: str) -> dict:
    from basira.compliance.alerts import AlertSettings
    from basira.compliance.service import ComplianceService
    from basira.review.auth import hash_password
    from basira.review.demo import seed_cases
    from basira.review.repository import ReviewRepo
    from basira.review.service import ReviewSettings
    from basira.store import open_store

    rx = ThreadingHTTPServer(("127.0.0.1", 0), _Accept)
    threading.Thread(target=rx.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{rx.server_address[1]}/hook"
    store = open_store(url)
    try:
        t0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
        now = [t0]
        for seed in range(ORDERS):
            seed_cases(store, TARGETS, seed=seed, accounts=50)
        ReviewRepo(store).add_user("lena", hash_password("bench password 1234"), "legal")
        svc = ComplianceService(store, ReviewSettings(webhook_url=hook, webhook_secret="s"),
                                AlertSettings(webhook_url=hook), clock=lambda: now[0])
        execute = []
        for seed in range(ORDERS):
            oid = svc.receive({"authority": "Bench", "order_ref": f"B-{seed}", "reasons": "bench",
                               "targets": [f"demo:p{seed}-{i}" for i in range(TARGETS)]}, "api", None)
            now[0] += timedelta(minutes=1)
            s = time.perf_counter()
            out = svc.execute(oid, "lena")
            execute.append(time.perf_counter() - s)
            assert out["removed"] == TARGETS
        for i in range(OPEN_ORDERS):
            svc.receive({"authority": "Bench", "order_ref": f"open-{i}", "reasons": "bench",
                         "targets": [f"demo:p0-{i}"]}, "api", None)
        now[0] += timedelta(minutes=31)
        s = time.perf_counter()
        alerts = svc.send_alerts()
        tick = time.perf_counter() - s
        assert alerts["sent"] == OPEN_ORDERS, alerts
        now[0] = t0 + timedelta(days=200)
        items = ORDERS * TARGETS
        s = time.perf_counter()
        purged = 0
        while batch := svc.purge():
            purged += len(batch)
        purge = time.perf_counter() - s
        assert purged == items, purged
        assert store.verify_events() == (True, None)
        with store.read() as conn:
            events = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
    finally:
        store.close()
        rx.shutdown()
    return {"execute_seconds": execute, "execute_median_s": round(statistics.median(execute), 3),
            "per_target_ms": round(1000 * statistics.median(execute) / TARGETS, 2),
            "alert_tick_s": round(tick, 3), "alerts_sent": OPEN_ORDERS,
            "purge_s": round(purge, 3), "purged": items, "purge_items_per_s": round(items / purge),
            "events": events}


def run() -> dict:
    out: dict = {"title": "Compliance: removal-order execution, alert tick, preservation purge", "backends": {},
                 "load_average_before": round(os.getloadavg()[0], 2)}
    with tempfile.TemporaryDirectory() as d:
        out["backends"]["sqlite"] = _one(f"sqlite:///{Path(d) / 'c.db'}")
    schema = PgSchema(PG_URL)
    try:
        out["backends"]["postgresql"] = _one(schema.create())
    except sa.exc.OperationalError as exc:
        out["backends"]["postgresql"] = {"skipped": str(exc).splitlines()[0]}
    finally:
        schema.drop()
    out["load_average_after"] = round(os.getloadavg()[0], 2)
    lines = [f"One removal order naming {TARGETS} posts, executed in one transaction (per post: case, `order` "
             "decision, `remove` and `notify` webhooks queued, notice, preserved snapshot, audit entries); median "
             f"of {ORDERS} orders. Alert tick: {OPEN_ORDERS} open orders at 29 minutes left, one webhook alert each "
             f"to a local receiver. Purge: {ORDERS * TARGETS} preserved items past six months. Load average "
             f"{out['load_average_before']} → {out['load_average_after']} on the 2 cores while it ran (other jobs): "
             "read the figures as upper bounds.", "",
             "| backend | execute 500-target order (s) | per target (ms) | alert tick, 200 orders (s) | "
             "purge (items/s) |", "|---|---|---|---|---|"]
    for name, r in out["backends"].items():
        if "skipped" in r:
            lines.append(f"| {name} | skipped: {r['skipped']} | | | |")
        else:
            lines.append(f"| {name} | {r['execute_median_s']} | {r['per_target_ms']} | {r['alert_tick_s']} | "
                         f"{r['purge_items_per_s']:,} |")
    out["summary"] = lines
    return out
