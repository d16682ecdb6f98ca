"""What runs on the Dask workers: the plugin that loads the detector once, and the task kinds — each one step
of the local scan (basira.scan.ingest.ingest_part, basira.scan.score.score_window) on the worker's store."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from basira.core.killpoints import pause, pause_point
from basira.scan.ingest import PartResult, ingest_part
from basira.scan.resolve import Part
from basira.scan.score import ScoreTally, ensure_detector, score_window

# Test hook for the worker-killed test: "score:N" pauses (for a SIGKILL) inside this worker's N-th scoring
# window, with detections written but not committed.
PAUSE_ENV = "BASIRA_CLUSTER_TEST_PAUSE"
_stores: dict[str, Any] = {}
_windows = [0]


class BasiraPlugin(WorkerPlugin):
    """Loads the detector in each worker process once, before its first task."""

    name = "basira"

    def setup(self, worker: Any) -> None:
        ensure_detector(pool_worker=True)


def _store(db_url: str) -> Any:
    from basira.store import open_store

    s = _stores.get(db_url)
    if s is None:
        s = _stores[db_url] = open_store(db_url, migrate_schema=False)
    return s


def ingest_task(db_url: str, part: Part, options: Any, on_error: str) -> PartResult:
    """Ingest one part (a file, or a byte range of one), with checkpoints."""
    return ingest_part(_store(db_url), part, options, on_error)


def score_task(db_url: str, version: str, lo: int, hi: int, batch_size: int, since: Any = None) -> ScoreTally:
    """Score the posts with lo < id <= hi that lack a detection by `version` (ingested since `since`, when
    given); commit per batch of `batch_size`, each with its cases."""
    if ensure_detector(pool_worker=True) != version:
        raise RuntimeError(f"this worker's model is {ensure_detector()}, the client's {version}: same install?")
    hook = pause_point(PAUSE_ENV)
    _windows[0] += 1
    inside = (lambda: pause("basira-cluster")) if hook == ("score", _windows[0]) else None
    return score_window(_store(db_url), version, lo, hi, batch_size, since, before_commit=inside)
