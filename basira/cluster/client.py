"""The client side of a cluster scan or rescore: split, submit, follow progress, then the hash pass and summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from basira.core.errors import InputError
from basira.scan.hashes import HashScanResult
from basira.scan.resolve import CHUNK_BYTES
from basira.scan.score import ScoreTally

if TYPE_CHECKING:
    from basira.store import Store

SCORE_WINDOW = 2000  # post ids per scoring task
RETRIES = 3
Progress = Callable[[str, int, int | None], None]


def require_postgresql(store: Store) -> None:
    if store.dialect != "postgresql":
        raise InputError("--db", None, None, "cluster scans need PostgreSQL (workers on other machines write to "
                         "it at once); SQLite is for one machine: run `basira scan` without --cluster")


def connect(address: str, db_url: str | None = None) -> Any:
    """A Dask client: `tcp://host:port`, or the path of a scheduler file (`dask scheduler --scheduler-file`).
    Its workers load the detector, and the banks of `db_url`, before their first task."""
    from distributed import Client

    from basira.cluster.tasks import BasiraPlugin

    try:
        if "://" not in address and Path(address).exists():
            client = Client(scheduler_file=address, timeout="30s")
        else:
            client = Client(address, timeout="30s")
    except OSError as exc:
        raise InputError("--cluster", None, None, f"cannot reach the Dask scheduler at {address}: {exc}") from None
    client.register_plugin(BasiraPlugin(db_url))
    return client


def _run(client: Any, futures: list[Any], stage: str, report: Progress) -> list[Any]:
    from distributed import as_completed

    results, done = [], 0
    report(stage, 0, len(futures))
    for fut in as_completed(futures):
        results.append(fut.result())
        done += 1
        report(stage, done, len(futures))
    return results


def score_on_cluster(client: Any, store: Store, db_url: str, version: str, report: Progress,
                     batch_size: int = 500, window: int = SCORE_WINDOW,
                     since: Any = None) -> tuple[ScoreTally, HashScanResult]:
    """Score every window of post ids on the workers, then run the hash pass window by window on them (the
    client holds back floods, the workers record the matches), as the local scan does (every detector case
    opens before the cases matches open: groups form in that order).
    The banks' scan checkpoints move only at the end: windows finish in any order, and a killed client must
    leave the unmatched ones to the next run."""
    from basira.cluster.tasks import hash_task, record_task, score_task
    from basira.scan import hashes
    from basira.scan.hashes import Found, ScanMonitor, held_back, mark_matched, plan_hash_pass
    from basira.scan.score import post_id_bounds

    lo, hi = post_id_bounds(store)
    windows = [(a, min(a + window, hi)) for a in range(lo - 1, hi, window)] if hi else []
    # Each window in one task per worker, by text (the database's hashtext), each preferring its worker: every
    # copy of a text is scored by one worker, whose cache (score_posts) then scores it once for the whole scan.
    # Interleaved windows had each worker score the copies the other had scored: 134,185 texts scored instead
    # of 119,952 distinct at 162,303 simulated posts, 2 workers. A preference only: a task whose worker is gone
    # runs on another, and a text scored twice gets the same result.
    addresses = sorted(client.scheduler_info().get("workers", {}))
    shards = len(addresses) if len(addresses) > 1 else 1
    futures = [client.submit(score_task, db_url, version, a, b, batch_size, since,
                             (s, shards) if shards > 1 else None,
                             key=f"basira-score-{version}-{a}-{s}-{time.time_ns()}", retries=RETRIES, pure=False,
                             workers=[addresses[s]] if shards > 1 else None, allow_other_workers=shards > 1)
               for a, b in windows for s in range(shards)]
    totals, hashed = ScoreTally(), HashScanResult()
    for r in _run(client, futures, "score", report):
        totals.add(r)
    plan = plan_hash_pass(store)
    if plan is not None:
        # The workers hash and look up; the client holds back the floods, in post order, through one
        # match-rate monitor for the whole scan (an item's flood counted across workers, as a local scan counts
        # it); the workers then record the chunks of matches at once (each chunk its own posts and cases).
        futures = [client.submit(hash_task, db_url, plan, a, b, key=f"basira-hash-{a}-{time.time_ns()}",
                                 retries=RETRIES, pure=False) for a, b in windows if b > plan.after]
        found: Found = {}
        for looked, got in _run(client, futures, "match", report):
            hashed.posts_matched += looked
            found.update(got)
        monitor = ScanMonitor()
        futures = [client.submit(record_task, db_url, chunk, key=f"basira-record-{min(chunk)}-{time.time_ns()}",
                                 retries=RETRIES, pure=False) for chunk in held_back(found, monitor) if chunk]
        for r in _run(client, futures, "record", report):
            hashed.add(r)
        hashes.save_quarantines(store, monitor)  # after the matches they held back (basira.scan.hashes)
        mark_matched(store, plan, hi)
    return totals, hashed


def cluster_scan(store: Store, db_url: str, address: str, paths: list[str], fmt: str = "auto",
                 on_error: str = "skip", progress: Progress | None = None, batch_size: int = 500,
                 platform: str | None = None, settings: Any = None, chunk_bytes: int = CHUNK_BYTES,
                 score_window: int = SCORE_WINDOW) -> Any:
    """`basira scan --cluster`: the local scan's result (ScanSummary), computed on a Dask cluster."""
    from basira.cluster.tasks import ingest_task
    from basira.detect import load_detector
    from basira.ingest.clean import ReadOptions
    from basira.scan.ingest import mark_file_done
    from basira.scan.resolve import resolve_inputs, split_inputs, unchanged_since_ingest
    from basira.scan.summary import ScanSummary

    require_postgresql(store)
    if on_error not in ("skip", "stop"):
        raise ValueError("on_error must be 'skip' or 'stop'")
    started = time.monotonic()
    report = progress or (lambda stage, done, total: None)
    options = ReadOptions.from_settings(settings, default_platform=platform)
    inputs, skipped = resolve_inputs(paths, fmt)
    detector = load_detector(cascade=False)
    summary = ScanSummary(model_version=detector.version, threshold=detector.threshold, skipped_files=skipped)
    posts_before, accounts_before = store.count_posts(), store.count_accounts()
    todo = []
    for inp in inputs:
        if unchanged_since_ingest(store, str(Path(inp.path).resolve()), inp.format, options):
            summary.files.append({"file": inp.path, "format": inp.format, "unchanged": True})
        else:
            todo.append(inp)
    client = connect(address, db_url)
    try:
        summary.workers = len(client.scheduler_info().get("workers", {}))
        parts = split_inputs(todo, options, chunk_bytes)
        futures = [client.submit(ingest_task, db_url, p, options, on_error, retries=RETRIES, pure=False,
                                 key=f"basira-ingest-{i}-{time.time_ns()}") for i, p in enumerate(parts)]
        per_file: dict[str, dict[str, Any]] = {}
        for r in _run(client, futures, "ingest", report):
            summary.add_part(r, per_file)
            if r.failure is not None and on_error == "stop":
                summary.stopped = True
        for inp in todo:  # a split file read to its end: its whole-file checkpoint, so a re-scan skips it
            f = per_file.get(inp.path, {"file": inp.path, "format": inp.format, "completed": False})
            summary.files.append(f)
            if f["completed"] and any(p.is_range and p.path == inp.path for p in parts):
                mark_file_done(store, inp.path, inp.format, options, f["posts_seen"])
        scored, hashed = score_on_cluster(client, store, db_url, detector.version, report, batch_size,
                                          score_window)
    finally:
        client.close()
    summary.detections_new = scored.detections_new
    summary.cases_new = scored.cases_new
    summary.flagged_new = scored.flagged_new
    summary.texts_scored = scored.texts_scored
    finish(store, summary, posts_before, accounts_before, started, hashed)
    store.append_event("scan.completed" if not summary.stopped else "scan.stopped",
                       summary.event_payload() | {"files": [i.path for i in inputs], "cluster": address},
                       actor="scan")
    return summary


def finish(store: Store, summary: Any, posts_before: int, accounts_before: int, started: float,
           hashed: HashScanResult) -> None:
    """What the local scan does after scoring (basira.scan.finish_scan; the hash pass ran on the workers),
    then the run's time."""
    from basira.scan import finish_scan

    finish_scan(store, summary, posts_before, accounts_before, hashed)
    summary.seconds = round(time.monotonic() - started, 3)
