"""The scan, composed of its steps: resolve the inputs (basira.scan.resolve), ingest them (basira.scan.ingest)
while the committed posts are scored (basira.scan.score), then the hash pass and the tail (finish_scan).

Ingest runs in a thread while the main thread scores the posts it has committed, in batches, on a process
pool (one detector per worker). Ingest batches commit with their file checkpoints, and each scored batch
commits its detections with their cases, so a scan killed at any point resumes on the next run without
losing or repeating anything. A cluster scan (basira.cluster) runs the same steps as Dask tasks.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import TYPE_CHECKING, Any

from basira.core.errors import InputError
from basira.core.killpoints import pause, pause_point
from basira.core.time import utcnow
from basira.ingest.clean import ReadOptions
from basira.scan import score
from basira.scan.hashes import HashScanResult, match_ingested_posts
from basira.scan.ingest import ingest_part, records_done
from basira.scan.resolve import Part, resolve_inputs, unchanged_since_ingest
from basira.scan.summary import ScanSummary
from basira.store.detections import count_flagged, detection_breakdown, posts_lacking_detection

if TYPE_CHECKING:
    from basira.store import Store

__all__ = ["BATCH", "Progress", "finish_scan", "scan_paths"]

BATCH = 500  # posts per scoring batch
BATCH_CHARS = 2_000_000  # and no more text than this per batch (bounded memory with million-character posts)
POOL_MIN_BYTES = 4 << 20  # inputs smaller than this are scored in-process (a pool costs more than it saves)
# Test hook for the resume-after-kill test: "after:N" / "inside:N" pauses (for a SIGKILL) once scored batch N
# has committed, or while it is written but not committed.
_PAUSE_ENV = "BASIRA_SCAN_TEST_PAUSE"

# progress(stage, done, total): stage "ingest" counts records read (total unknown), "score" posts scored.
Progress = Callable[[str, int, int | None], None]


def scan_paths(
    store: Store,
    paths: Iterable[str],
    fmt: str = "auto",
    on_error: str = "skip",
    workers: int | None = None,
    progress: Progress | None = None,
    batch_size: int = BATCH,
    platform: str | None = None,
    settings: Any | None = None,
) -> ScanSummary:
    """Ingest `paths` (files or folders) and score every post lacking a detection by the current model;
    open a case per flagged post. Re-running is a no-op; a killed run resumes.

    workers: scoring processes (None: both cores when the input is large, else in-process; they are spawned, so
    a script that calls this needs the `if __name__ == "__main__":` guard). on_error="stop"
    stops at the first malformed record (reported in `errors`, `stopped` set); what was committed before it
    stays, and posts not yet scored are scored by the next run. platform: the platform of generic records
    that name none (minimal {id, text} lines). settings: the record bounds (Settings.max_text_chars,
    max_record_bytes; the environment's when not given).
    """
    from basira.detect import load_detector

    if on_error not in ("skip", "stop"):
        raise ValueError("on_error must be 'skip' or 'stop'")
    started = time.monotonic()
    options = ReadOptions.from_settings(settings, default_platform=platform)
    inputs, skipped = resolve_inputs(paths, fmt)
    # The model's version and threshold only: without the sentence encoder, which a pool of workers would
    # load here for nothing (a second or more of CPU and ~100 MB).
    detector = load_detector(cascade=False)
    version, th = detector.version, detector.threshold
    if workers is None:
        size = sum(Path(i.path).stat().st_size for i in inputs)
        pending = len(posts_lacking_detection(store, version, 0, 2000)[0])
        workers = min(2, os.cpu_count() or 1) if size >= POOL_MIN_BYTES or pending >= 2000 else 1
    workers = max(1, workers)
    summary = ScanSummary(model_version=version, threshold=th, workers=workers, skipped_files=skipped)
    posts_before, accounts_before = store.count_posts(), store.count_accounts()
    report = progress or (lambda stage, done, total: None)

    pool: ProcessPoolExecutor | None = None
    if workers > 1:
        # Spawned, not forked: a forked worker once hung for good on an import lock that the parent held
        # when it forked (a 1M-post scan). A spawned worker starts clean and loads the detector itself.
        ctx = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=score.init_worker, initargs=(True,))
        for warm in [pool.submit(score.noop) for _ in range(workers)]:  # start (and load) every worker up front
            warm.result()
    else:
        score.init_worker()

    ingest_state: dict[str, Any] = {"file": None, "records": 0, "error": None}
    stop_ingest = threading.Event()

    def ingest_all() -> None:
        try:
            ingest_files()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            ingest_state["error"] = exc

    def ingest_files() -> None:
        rows: dict[str, dict[str, Any]] = {}
        for inp in inputs:
            if stop_ingest.is_set():
                return
            source = str(Path(inp.path).resolve())
            if unchanged_since_ingest(store, source, inp.format, options):
                summary.files.append({"file": inp.path, "format": inp.format, "unchanged": True})
                continue
            ingest_state["file"] = source
            try:
                res = ingest_part(store, Part(inp.path, inp.format), options, on_error)
            finally:
                ingest_state["records"] += records_done(store, ingest_state["file"])
                ingest_state["file"] = None
            if res.failure is not None and on_error == "stop":
                raise res.failure
            # An unreadable rest of a file is reported (its row not completed) and the scan goes on.
            summary.add_part(res, rows)
            summary.files.append(rows[res.file])

    hook = pause_point(_PAUSE_ENV)
    batches = 0
    scored = 0

    def commit(scored_rows: tuple[list[dict[str, Any]], int]) -> None:
        nonlocal batches, scored
        batches += 1
        inside = (lambda: pause("basira-scan")) if hook == ("inside", batches) else None
        rows, texts = scored_rows
        got = score.record(store, rows, before_commit=inside, texts_scored=texts)
        summary.texts_scored += got.texts_scored
        summary.detections_new += got.detections_new
        summary.cases_new += got.cases_new
        summary.flagged_new += got.flagged_new
        scored += got.scored
        report("score", scored, None)
        if hook == ("after", batches):
            pause("basira-scan")

    # A daemon thread: on Ctrl-C the process may exit mid-batch; the uncommitted batch is simply redone.
    ingesting = threading.Thread(target=ingest_all, name="basira-ingest", daemon=True)
    ingesting.start()
    inflight: set[Future[tuple[list[dict[str, Any]], int]]] = set()
    last_id = 0
    swept = False
    try:
        while True:
            ingest_done = not ingesting.is_alive()
            if ingest_done and ingest_state["error"] is not None:
                break
            room = (2 * workers + 1) - len(inflight) if pool else 1
            got = 0
            while room > 0:
                batch, last_id = posts_lacking_detection(
                    store, version, last_id, batch_size, max_chars=BATCH_CHARS
                )
                if not batch:
                    break
                posts = [(b["id"], b["text"], b["lang"]) for b in batch]
                got += len(posts)
                room -= 1
                if pool:
                    inflight.add(pool.submit(score.score_counted, posts))
                else:
                    commit(score.score_counted(posts))
            if inflight:
                done, inflight = wait(inflight, timeout=0.25, return_when=FIRST_COMPLETED)
                for f in done:
                    commit(f.result())
            elif not got:
                if ingest_done:
                    if swept:
                        break
                    # Once more from the start, for posts a concurrent writer committed out of id order.
                    last_id, swept = 0, True
                    continue
                time.sleep(0.1)
            if got:
                swept = False
            cur = ingest_state["file"]
            report("ingest", ingest_state["records"] + (records_done(store, cur) if cur else 0), None)
    except BaseException:
        stop_ingest.set()
        if pool:
            pool.shutdown(wait=False, cancel_futures=True)
        raise
    for f in inflight:  # batches scored while ingest stopped on an error: keep their work
        commit(f.result())
    if pool:
        pool.shutdown(wait=True)
    ingesting.join()
    exc = ingest_state["error"]
    if isinstance(exc, InputError):
        summary.stopped = True
        summary.add_error(exc.file, exc.line, exc.field, exc.reason)
    elif exc is not None:
        raise exc
    finish_scan(store, summary, posts_before, accounts_before)
    summary.seconds = round(time.monotonic() - started, 3)
    store.append_event("scan.completed" if not summary.stopped else "scan.stopped",
                       summary.event_payload() | {"files": [i.path for i in inputs]}, actor="scan")
    return summary


def finish_scan(store: Store, summary: ScanSummary, posts_before: int, accounts_before: int,
                hashed: HashScanResult | None = None) -> None:
    """After scoring (here or on a cluster, basira.cluster): the hash pass (unless `hashed` says the cluster's
    windows ran it), review groups, priorities, totals."""
    if hashed is None:
        hashed = match_ingested_posts(store)
    summary.hash_matches, summary.hash_cases_raised = hashed.matches_new, hashed.cases_raised
    summary.cases_new += hashed.cases_new
    from basira.cases.groups import assign_groups
    from basira.cases.prioritize import reprioritize

    grouped = assign_groups(store, utcnow())  # copies of one content join one review group
    summary.groups_new, summary.cases_grouped = grouped.groups_new, grouped.joined
    reprioritize(store)  # the rank follows the evidence the scan added
    summary.posts_total = store.count_posts()
    summary.accounts_total = store.count_accounts()
    summary.posts_new = summary.posts_total - posts_before
    summary.accounts_new = summary.accounts_total - accounts_before
    summary.flagged_total = count_flagged(store, summary.model_version)
    summary.cases_open = store.count_cases("open")
    breakdown = detection_breakdown(store, summary.model_version)
    summary.by_language = breakdown["by_language"]
    summary.by_category = breakdown["by_category"]
