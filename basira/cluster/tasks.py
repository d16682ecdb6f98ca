"""What runs on the Dask workers: the plugin that loads the detector once, and the task kinds — each one step
of the local scan (basira.scan.ingest.ingest_part, basira.scan.score.score_window) on the worker's store."""

from __future__ import annotations

from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from basira.core.killpoints import pause, pause_point
from basira.scan.hashes import Found, HashPlan, HashScanResult, record_chunk, snapshot_for, window_pass
from basira.scan.ingest import PartResult, ingest_part
from basira.scan.resolve import Part
from basira.scan.score import ScoreTally, ensure_detector, post_id_bounds, score_window

# Test hook for the worker-killed test: "score:N" pauses (for a SIGKILL) inside this worker's N-th scoring
# window, with detections written but not committed.
PAUSE_ENV = "BASIRA_CLUSTER_TEST_PAUSE"
_stores: dict[str, Any] = {}
_windows = [0]


class BasiraPlugin(WorkerPlugin):
    """Loads the detector in each worker process once, before its first task, and (given the database) the
    banks' snapshot, which each window then refreshes when the banks change (basira.scan.hashes)."""

    name = "basira"

    def __init__(self, db_url: str | None = None) -> None:
        self.db_url = db_url

    def setup(self, worker: Any) -> None:
        ensure_detector(pool_worker=True)
        if self.db_url:
            store = _store(self.db_url)
            snapshot_for(store, for_scans=True).get(store)


def _store(db_url: str) -> Any:
    from basira.scan.commits import relax_commits
    from basira.store import open_store

    s = _stores.get(db_url)
    if s is None:
        s = _stores[db_url] = open_store(db_url, migrate_schema=False)
        relax_commits(s)  # the client's last commit makes the workers' durable (basira.scan.commits)
    return s


def ingest_task(db_url: str, part: Part, options: Any, on_error: str, overlap: bool,
                *after: Any) -> tuple[PartResult, int]:
    """Ingest one part (a file, or a byte range of one), with checkpoints. With `overlap`, seceded from the
    worker's thread pool: ingest waits on PostgreSQL for about a third of its time (its inserts, the database's
    CPU), and the thread it leaves scores meanwhile, as a local scan's ingest thread and scoring overlap. The
    client gives a worker one part at a time (`after`: the parts this one waits for), so it runs one part and
    one score task at a time. Returns the part's result and the largest post id committed when it ended: the parts waiting on
    this one start later, so every id they take is larger (basira.cluster.client)."""
    if overlap:
        _secede()
    store = _store(db_url)
    return ingest_part(store, part, options, on_error), post_id_bounds(store)[1]


def _secede() -> None:
    from distributed import secede
    from distributed.worker import get_worker

    try:
        get_worker()
    except ValueError:  # called outside a worker (a test, a debugger): nothing to leave
        return
    secede()


def cores() -> int:
    """The cores this worker process may run on (its affinity, as a container sets it)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def score_task(db_url: str, version: str, lo: int, hi: int, batch_size: int, since: Any = None,
               shard: tuple[int, int] | None = None) -> ScoreTally:
    """One window of post ids (lo, hi]: score the posts that lack a detection by `version` (ingested since
    `since`, when given; whose text is in `shard`, when given), committing per batch of `batch_size` with
    their cases."""
    if ensure_detector(pool_worker=True) != version:
        raise RuntimeError(f"this worker's model is {ensure_detector()}, the client's {version}: same install?")
    hook = pause_point(PAUSE_ENV)
    _windows[0] += 1
    inside = (lambda: pause("basira-cluster")) if hook == ("score", _windows[0]) else None
    return score_window(_store(db_url), version, lo, hi, batch_size, since, before_commit=inside, shard=shard)


def hash_task(db_url: str, plan: HashPlan, lo: int, hi: int) -> tuple[int, Found]:
    """One window of the hash pass, against this worker's snapshot of the banks (reloaded if they changed):
    (posts looked at, what they matched), for the client to record in post order (basira.scan.hashes)."""
    return window_pass(_store(db_url), plan, lo, hi)


def record_task(db_url: str, chunk: Found) -> HashScanResult:
    """Record one chunk of the scan's matches, floods already held back by the client (basira.scan.hashes)."""
    return record_chunk(_store(db_url), chunk)
