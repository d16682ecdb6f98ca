"""`basira worker`: drain the content intake queue (POST /api/v1/content?mode=async) and send each batch's
results as a signed webhook (basira.review.webhooks: the same signature, idempotency key and backoff as the
action webhooks). Run as many as needed, on any machine that reaches the database (PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from basira.core.killpoints import pause, pause_point
from basira.core.time import utcnow

if TYPE_CHECKING:
    from basira.store import Store

# Test hook for the kill tests: "inside:N" pauses (for a SIGKILL) once claimed batch N is processed but before
# the queue rows are marked done; "stored:N" once batch N's posts and detections are committed but before
# its hash pass.
_PAUSE_ENV = "BASIRA_WORKER_TEST_PAUSE"


@dataclass
class WorkerStats:
    batches: int = 0
    items: int = 0
    delivered: int = 0
    delivery_failures: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def deliver_results(store: Store, url: str | None, secret: str | None, limit: int = 100,
                    client: Any = None) -> tuple[int, int]:
    """Send due result webhooks, one signed POST per up to `limit` items; return (items delivered, failed
    attempts). Without a URL nothing is due (items are queued with delivery `none`)."""
    import httpx

    from basira.intake.queue import due_deliveries
    from basira.review import webhooks

    if not url or not secret:
        return 0, 0
    at = utcnow()
    delivered = failed = 0
    own = client is None
    client = client or httpx.Client(timeout=10.0)
    try:
        with due_deliveries(store, at, limit) as rows:
            if not rows:
                return 0, 0
            ids = ",".join(str(r["id"]) for r in rows)
            key = hashlib.sha256(f"basira:content:{ids}".encode()).hexdigest()[:40]
            payload = {"type": "content.results",
                       "results": [{"queue_id": r["id"], **(r["result"] or {})} for r in rows]}
            outcome = webhooks.post(client, url, secret, key, payload, int(at.timestamp()))
            for r in rows:
                attempts = int(r["delivery_attempts"]) + 1
                status, next_at = webhooks.next_state(attempts, outcome, at)
                r["update"] = {"delivery_status": status, "delivery_attempts": attempts,
                               "next_delivery_at": next_at, "last_delivery_error": outcome.error}
            if outcome.delivered:
                delivered = len(rows)
            else:
                failed = 1
    finally:
        if own:
            client.close()
    return delivered, failed


def run_worker(store: Store, *, batch: int = 100, until_empty: bool = False, poll: float = 0.5,
               webhook_url: str | None = None, webhook_secret: str | None = None,
               log: Callable[[dict[str, Any]], None] | None = None, should_stop: Callable[[], bool] = lambda: False,
               ) -> WorkerStats:
    """Claim, process and finish batches until stopped (or, with until_empty, until nothing is pending)."""
    from basira.intake.process import ensure_detector, process, records_of
    from basira.intake.queue import claim
    from basira.scan.commits import relax_commits

    # One BLAS thread, as the scan's scoring processes: workers run side by side, and more threads than cores spin.
    ensure_detector(pool_worker=True)
    relax_commits(store)  # the claim's own commit stays synchronous and makes the batch durable
    name = worker_name()
    hook = pause_point(_PAUSE_ENV)
    stats = WorkerStats()
    while not should_stop():
        n = stats.batches + 1
        inside = (lambda: pause("basira-worker")) if hook == ("inside", n) else None
        stored = (lambda: pause("basira-worker")) if hook == ("stored", n) else None
        with claim(store, batch, name, before_commit=inside) as c:
            if c.rows:
                results = process(store, records_of([item for _, item in c.rows]), actor="intake",
                                  after_store=stored)
                c.results.update({qid: r for (qid, _), r in zip(c.rows, results, strict=True)})
        if c.rows:
            stats.batches += 1
            stats.items += len(c.rows)
            if log:
                log({"worker": name, "batch": stats.batches, "t": round(utcnow().timestamp(), 3),
                     "queue_ids": [qid for qid, _ in c.rows]})
        d, f = deliver_results(store, webhook_url, webhook_secret, limit=batch)
        stats.delivered += d
        stats.delivery_failures += f
        if not c.rows and not d:
            if until_empty:
                break
            time.sleep(poll)
    return stats


def print_log(entry: dict[str, Any]) -> None:
    print(json.dumps(entry), file=sys.stdout, flush=True)
