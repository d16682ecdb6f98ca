"""The client side of a cluster scan or rescore: split, submit, follow progress, then the hash pass and summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from basira.core.errors import InputError

if TYPE_CHECKING:
    from basira.store import Store

CHUNK_BYTES = 4 << 20  # JSON Lines files larger than this are split into byte ranges of about this size
SCORE_WINDOW = 2000  # post ids per scoring task
LINE_FORMATS = ("jsonl", "x_v2")
RETRIES = 3
Progress = Callable[[str, int, int | None], None]


def require_postgresql(store: Store) -> None:
    if store.dialect != "postgresql":
        raise InputError("--db", None, None, "cluster scans need PostgreSQL (workers on other machines write to "
                         "it at once); SQLite is for one machine: run `basira scan` without --cluster")


def connect(address: str) -> Any:
    """A Dask client: `tcp://host:port`, or the path of a scheduler file (`dask scheduler --scheduler-file`)."""
    from distributed import Client

    from basira.cluster.tasks import BasiraPlugin

    try:
        if "://" not in address and Path(address).exists():
            client = Client(scheduler_file=address, timeout="30s")
        else:
            client = Client(address, timeout="30s")
    except OSError as exc:
        raise InputError("--cluster", None, None, f"cannot reach the Dask scheduler at {address}: {exc}") from None
    client.register_plugin(BasiraPlugin())
    return client


def split_inputs(inputs: list[Any], options: Any, chunk_bytes: int = CHUNK_BYTES) -> list[dict[str, Any]]:
    """Ingest tasks: whole files, and byte ranges of large JSON Lines files cut at line starts (with the
    number of lines before each range, so records keep their file's line numbers)."""
    from basira.ingest.runner import fingerprint

    tasks: list[dict[str, Any]] = []
    for inp in inputs:
        p = Path(inp.path)
        size = p.stat().st_size
        if inp.format not in LINE_FORMATS or size <= chunk_bytes or p.suffix.lower() not in (".jsonl", ".ndjson"):
            tasks.append({"path": inp.path, "format": inp.format})
            continue
        source, fp = str(p.resolve()), fingerprint(p, options)
        start, lines = 0, 0
        with open(p, "rb") as fh:
            while start < size:
                fh.seek(min(start + chunk_bytes, size))
                if fh.tell() < size:
                    fh.readline()  # to the next line start
                end = fh.tell()
                tasks.append({"path": inp.path, "format": inp.format, "source": source, "fingerprint": fp,
                              "start": start, "end": end, "line_offset": lines})
                fh.seek(start)
                left = end - start
                while left > 0:
                    buf = fh.read(min(left, 1 << 20))
                    lines += buf.count(b"\n")
                    left -= len(buf)
                start = end
    return tasks


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
                     batch_size: int = 500, window: int = SCORE_WINDOW, since: Any = None) -> dict[str, int]:
    from basira.cluster.tasks import score_task
    from basira.intake.queue import post_id_bounds

    lo, hi = post_id_bounds(store)
    futures = [client.submit(score_task, db_url, version, a, min(a + window, hi), batch_size, since,
                             key=f"basira-score-{version}-{a}-{time.time_ns()}", retries=RETRIES, pure=False)
               for a in range(lo - 1, hi, window)] if hi else []
    totals = {"scored": 0, "detections_new": 0, "cases_new": 0, "flagged_new": 0}
    for r in _run(client, futures, "score", report):
        for k in totals:
            totals[k] += r[k]
    return totals


def cluster_scan(store: Store, db_url: str, address: str, paths: list[str], fmt: str = "auto",
                 on_error: str = "skip", progress: Progress | None = None, batch_size: int = 500,
                 platform: str | None = None, settings: Any = None, chunk_bytes: int = CHUNK_BYTES,
                 score_window: int = SCORE_WINDOW) -> Any:
    """`basira scan --cluster`: the local scan's result (ScanSummary), computed on a Dask cluster."""
    from basira.detect import load_detector
    from basira.ingest.clean import ReadOptions
    from basira.scan import MAX_ERRORS_KEPT, ScanSummary, _error_row, _unchanged_since_ingest, resolve_inputs
    from basira.store import Checkpoint

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
        if _unchanged_since_ingest(store, str(Path(inp.path).resolve()), inp.format, options):
            summary.files.append({"file": inp.path, "format": inp.format, "unchanged": True})
        else:
            todo.append(inp)
    client = connect(address)
    try:
        summary.workers = len(client.scheduler_info().get("workers", {}))
        from basira.cluster.tasks import ingest_task

        tasks = split_inputs(todo, options, chunk_bytes)
        futures = [client.submit(ingest_task, db_url, t, options, on_error, retries=RETRIES, pure=False,
                                 key=f"basira-ingest-{i}-{time.time_ns()}") for i, t in enumerate(tasks)]
        per_file: dict[str, dict[str, Any]] = {}
        for r in _run(client, futures, "ingest", report):
            f = per_file.setdefault(r["file"], {"file": r["file"], "posts_new": 0, "posts_seen": 0,
                                                "accounts_new": 0, "records_skipped": 0, "errors": 0,
                                                "completed": True})
            if "error" in r:
                e = r["error"]
                f["completed"] = False
                summary.error_count += 1
                if len(summary.errors) < MAX_ERRORS_KEPT:
                    summary.errors.append(_error_row(e["file"], e["line"], e["field"], e["reason"]))
                if on_error == "stop":
                    summary.stopped = True
                continue
            for k in ("posts_new", "posts_seen", "accounts_new", "records_skipped"):
                f[k] += r[k]
            f["errors"] += r["error_count"]
            summary.error_count += r["error_count"]
            for e in r["errors"]:
                if len(summary.errors) < MAX_ERRORS_KEPT:
                    summary.errors.append(_error_row(e["file"], e["line"], e["field"], e["reason"]))
        for inp in todo:  # a split file read to its end: its whole-file checkpoint, so a re-scan skips it
            f = per_file.get(inp.path, {"completed": False})
            f["format"] = inp.format
            summary.files.append(f)
            if f["completed"] and any(t.get("start") is not None and t["path"] == inp.path for t in tasks):
                from basira.ingest.runner import fingerprint

                src = str(Path(inp.path).resolve())
                store.save_checkpoint(Checkpoint(src, fingerprint(Path(src), options), inp.format,
                                                 f["posts_seen"], True))
        scored = score_on_cluster(client, store, db_url, detector.version, report, batch_size, score_window)
    finally:
        client.close()
    summary.detections_new = scored["detections_new"]
    summary.cases_new = scored["cases_new"]
    summary.flagged_new = scored["flagged_new"]
    finish(store, summary, posts_before, accounts_before, started)
    store.append_event("scan.completed" if not summary.stopped else "scan.stopped",
                       {k: v for k, v in summary.to_dict().items()
                        if k not in ("errors", "files", "skipped_files", "by_language", "by_category")}
                       | {"files": [i.path for i in inputs], "cluster": address}, actor="scan")
    return summary


def finish(store: Store, summary: Any, posts_before: int, accounts_before: int, started: float) -> None:
    """What the local scan does after scoring (basira.scan.finish_scan), then the run's time."""
    from basira.scan import finish_scan

    finish_scan(store, summary, posts_before, accounts_before)
    summary.seconds = round(time.monotonic() - started, 3)
