"""What runs on the Dask workers: the plugin that loads the detector once, and the two task kinds."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from basira.core.killpoints import pause, pause_point

# Test hook for the worker-killed test: "score:N" pauses (for a SIGKILL) inside this worker's N-th scoring
# window, with detections written but not committed.
PAUSE_ENV = "BASIRA_CLUSTER_TEST_PAUSE"
_stores: dict[str, Any] = {}
_windows = [0]


class BasiraPlugin(WorkerPlugin):
    """Loads the detector in each worker process once, before its first task."""

    name = "basira"

    def setup(self, worker: Any) -> None:
        from basira.intake.process import ensure_detector

        ensure_detector(pool_worker=True)


def _store(db_url: str) -> Any:
    from basira.store import open_store

    s = _stores.get(db_url)
    if s is None:
        s = _stores[db_url] = open_store(db_url, migrate_schema=False)
    return s


def ingest_task(db_url: str, task: dict[str, Any], options: Any, on_error: str) -> dict[str, Any]:
    """Ingest one file, or one byte range of one (copied to a local file first), with checkpoints."""
    from basira.core.errors import InputError
    from basira.ingest import ingest_file

    store = _store(db_url)
    out: dict[str, Any] = {"file": task["path"], "start": task.get("start")}
    tmp = None
    try:
        if task.get("start") is None:
            res = ingest_file(store, task["path"], task["format"], on_error=on_error, options=options)
        else:
            fd, tmp = tempfile.mkstemp(suffix=Path(task["path"]).suffix or ".jsonl", prefix="basira-part-")
            with os.fdopen(fd, "wb") as dst, open(task["path"], "rb") as src:
                src.seek(task["start"])
                left = task["end"] - task["start"]
                while left > 0:
                    buf = src.read(min(left, 1 << 20))
                    if not buf:
                        break
                    dst.write(buf)
                    left -= len(buf)
            key = f"{task['source']}#bytes={task['start']}-{task['end']}"
            res = ingest_file(store, tmp, task["format"], on_error=on_error, options=options,
                              part_of=(key, task["fingerprint"], task["line_offset"]))
    except InputError as exc:
        out["error"] = {"file": task["path"], "line": exc.line, "field": exc.field, "reason": exc.reason}
        return out
    finally:
        if tmp:
            os.unlink(tmp)
    out.update(posts_new=res.posts_new, posts_seen=res.posts_seen, accounts_new=res.accounts_new,
               records_skipped=res.records_skipped, error_count=res.error_count, errors=res.errors[:100])
    return out


def score_task(db_url: str, version: str, lo: int, hi: int, batch_size: int, since: Any = None) -> dict[str, int]:
    """Score the posts with lo < id <= hi that lack a detection by `version` (ingested since `since`, when
    given); commit per batch of `batch_size`, each with its cases."""
    from basira import scan
    from basira.intake.process import ensure_detector
    from basira.intake.queue import posts_lacking_detection_between

    if ensure_detector(pool_worker=True) != version:
        raise RuntimeError(f"this worker's model is {ensure_detector()}, the client's {version}: same install?")
    store = _store(db_url)
    hook = pause_point(PAUSE_ENV)
    _windows[0] += 1
    inside = (lambda: pause("basira-cluster")) if hook == ("score", _windows[0]) else None
    out = {"scored": 0, "detections_new": 0, "cases_new": 0, "flagged_new": 0}
    todo = posts_lacking_detection_between(store, version, lo, hi, since)
    for i in range(0, len(todo), batch_size):
        batch = todo[i:i + batch_size]
        rows = scan.score_posts([(b["id"], b["text"], b["lang"]) for b in batch])
        n, o = store.record_detections(rows, before_commit=inside)
        inside = None
        out["scored"] += len(rows)
        out["detections_new"] += n
        out["cases_new"] += o
        out["flagged_new"] += sum(1 for r in rows if r["flagged"])
    return out
