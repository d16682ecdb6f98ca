"""The client side of a cluster scan or rescore: split, submit, follow progress, then the hash pass and summary."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from basira.core.errors import InputError
from basira.core.killpoints import pause, pause_point
from basira.scan.hashes import HashScanResult
from basira.scan.resolve import CHUNK_BYTES
from basira.scan.score import ScoreTally

if TYPE_CHECKING:
    from basira.store import Store

SCORE_WINDOW = 2000  # post ids per scoring task
RETRIES = 3
ORPHAN_WAIT = 600.0  # seconds a new client waits for a gone client's tasks to end (a 4 MiB part: ~5 s)
# Test hook for the client-killed test: "parts:N" pauses (for a SIGKILL) once N ingest parts have ended and the
# tasks they let start are submitted; "match:N" / "record:N" once N windows of the hash pass are matched / N
# chunks of its matches recorded (the others still running).
PAUSE_ENV = "BASIRA_CLUSTER_CLIENT_TEST_PAUSE"
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
    try:
        left = client.run(_orphans_gone, ORPHAN_WAIT)
    except BaseException:
        client.close()
        raise
    if any(left.values()):
        client.close()
        busy = ", ".join(f"{w} ({n})" for w, n in sorted(left.items()) if n)
        raise InputError("--cluster", None, None, f"workers still run tasks of a scan whose client is gone, "
                         f"{ORPHAN_WAIT:.0f} s after it: {busy}; wait for them to end, or restart those workers")
    return client


def spare_cores(client: Any) -> dict[str, bool]:
    """Per worker: whether the workers on its machine leave some of its cores idle (their threads fewer than
    its cores), so that its ingest may overlap its scoring (basira.cluster.tasks.ingest_task). Measured on
    the project's 2-core machine (PostgreSQL on it too; 37,063 posts; loaded, load 12-25), interleaved runs:
    one worker overlapping took 0.90 and 1.01x a local scan's wall time (without: 1.15 and 1.73x); two
    overlapping workers, four busy threads and two processes' GILs on two cores, took 89.9 and 121.7 s where
    two that do not took 72.8 s (and 2 CPU-s less)."""
    from basira.cluster.tasks import cores

    info = client.scheduler_info().get("workers", {})
    have = client.run(cores)
    threads: dict[str, int] = {}
    for w in info.values():
        threads[w.get("host", "")] = threads.get(w.get("host", ""), 0) + int(w.get("nthreads", 1))
    return {a: threads.get(w.get("host", ""), 0) < have.get(a, 1) for a, w in info.items()}


async def _orphans_gone(timeout: float, dask_worker: Any = None) -> int:
    """On a worker: wait (up to `timeout` seconds) until no Basira task of a client that is gone still runs
    here; how many still do. A killed client's tasks are cancelled, but a thread cannot be stopped: they run
    to their end, their results unwanted. The same parts and windows of a scan run again must not run beside
    them (their ingest would race the run's own, and two writes of one chunk of bank matches would both
    insert it): a killed scan is resumed by the same command, which waits here first."""
    import asyncio

    def left() -> int:
        return sum(1 for key, ts in dask_worker.state.tasks.items()
                   if ts.state == "cancelled" and str(key).startswith("basira-"))

    deadline = time.monotonic() + timeout
    while left() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return left()


def _run(client: Any, futures: list[Any], stage: str, report: Progress) -> list[Any]:
    from distributed import as_completed

    results, done = [], 0
    hook = pause_point(PAUSE_ENV)
    report(stage, 0, len(futures))
    for fut in as_completed(futures):
        results.append(fut.result())
        done += 1
        report(stage, done, len(futures))
        if hook == (stage, done):
            pause("basira-cluster-client")
    return results


class _Scoring:
    """A scan's score tasks: windows of post ids (lo, hi], each split by text into one task per worker, submitted
    as the ids below them become final. Score tasks go before the ingest parts still queued (priority), so the
    workers score the posts committed so far between parts, and no stage waits for the one before to end."""

    def __init__(self, client: Any, db_url: str, version: str, batch_size: int, window: int, since: Any,
                 start: int) -> None:
        self.client, self.db_url, self.version = client, db_url, version
        self.batch_size, self.window, self.since, self.next = batch_size, window, since, start
        # Each window in one task per worker, by text (the database's hashtext), each preferring its worker:
        # every copy of a text is scored by one worker, whose cache (score_posts) then scores it once for the
        # whole scan. Interleaved windows had each worker score the copies the other had scored: 134,185 texts
        # scored instead of 119,952 distinct at 162,303 simulated posts, 2 workers. A preference only: a task
        # whose worker is gone runs on another, and a text scored twice gets the same result.
        self.addresses = sorted(client.scheduler_info().get("workers", {}))
        self.shards = len(self.addresses) if len(self.addresses) > 1 else 1
        self.submitted = 0

    def upto(self, hi: int, final: bool) -> list[Any]:
        """Tasks for the whole windows of the ids up to `hi` not yet submitted (with `final`, the last part of a
        window too: no post will be stored below `hi` any more)."""
        from basira.cluster.tasks import score_task

        out: list[Any] = []
        while self.next < hi and (final or hi - self.next >= self.window):
            a, b = self.next, min(self.next + self.window, hi)
            for s in range(self.shards):
                out.append(self.client.submit(
                    score_task, self.db_url, self.version, a, b, self.batch_size, self.since,
                    (s, self.shards) if self.shards > 1 else None,
                    key=f"basira-score-{self.version}-{a}-{s}-{time.time_ns()}", retries=RETRIES, pure=False,
                    priority=1, workers=[self.addresses[s]] if self.shards > 1 else None,
                    allow_other_workers=self.shards > 1))
            self.next = b
        self.submitted += len(out)
        return out


def score_on_cluster(client: Any, store: Store, db_url: str, version: str, report: Progress,
                     batch_size: int = 500, window: int = SCORE_WINDOW,
                     since: Any = None) -> tuple[ScoreTally, HashScanResult]:
    """Score every window of stored post ids on the workers (`basira rescore --cluster`), then the hash pass."""
    from basira.scan.score import post_id_bounds

    lo, hi = post_id_bounds(store)
    scoring = _Scoring(client, db_url, version, batch_size, window, since, lo - 1 if hi else 0)
    totals = ScoreTally()
    for r in _run(client, scoring.upto(hi, final=True), "score", report):
        totals.add(r)
    return totals, hash_on_cluster(client, store, db_url, report, window)


def hash_on_cluster(client: Any, store: Store, db_url: str, report: Progress,
                    window: int = SCORE_WINDOW) -> HashScanResult:
    """The hash pass window by window on the workers, after every post is scored, as the local scan runs it
    (every detector case opens before the cases matches open: groups form in that order). The workers match;
    the client holds back the floods, in post order, through one match-rate monitor for the whole scan (an
    item's flood counted across workers, as a local scan counts it); the workers then record the chunks of
    matches at once (each chunk its own posts and cases). The banks' scan checkpoints move only at the end:
    windows finish in any order, and a killed client must leave the unmatched ones to the next run."""
    from basira.cluster.tasks import hash_task, record_task
    from basira.scan import hashes
    from basira.scan.hashes import Found, ScanMonitor, held_back, mark_matched, plan_hash_pass
    from basira.scan.score import post_id_bounds

    hashed = HashScanResult()
    plan = plan_hash_pass(store)
    if plan is None:
        return hashed
    lo, hi = post_id_bounds(store)
    windows = [(a, min(a + window, hi)) for a in range(lo - 1, hi, window)] if hi else []
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
    return hashed


def _ingest_and_score(client: Any, store: Store, db_url: str, version: str,
                      submit_part: Callable[[int, str | None, list[Any]], Any], n_parts: int, report: Progress,
                      batch_size: int, window: int, on_part: Callable[[Any], None],
                      hold_from: int | None = None) -> ScoreTally:
    """Ingest parts and score tasks at once. Each worker is a lane of parts: one part ingesting (seceded from
    the worker's thread pool where cores are spare, basira.cluster.tasks, so that its thread scores meanwhile;
    else the score tasks run between its parts), and the next part pinned to it waiting on that one (a
    dependency: it starts when the part ends, without a round trip through this client; under load the round
    trip left the worker idle 1.3 s a part). Each finished part may make more post ids final (`on_part` gets
    its result), and their windows are submitted then; an overlapping worker's parts go before its score tasks
    (priority), so a part waits for the score task in hand, not for the queued ones.
    Post ids come from one sequence in every worker's transactions, so an id below the largest committed one
    can still be in use by a part that is running: the ids up to the largest committed when a part ended (the
    task reads it) are final once the parts the other lanes were ingesting then have ended too (with one
    worker, at once: scoring follows ingest one part behind, where waiting for every part in flight kept it
    two behind). Parts from `hold_from` on start only once every part before it has ended (they depend on
    them)."""
    from distributed import as_completed

    from basira.scan.score import count_lacking, post_id_bounds

    lo, hi = post_id_bounds(store)  # posts an interrupted scan left unscored are scored first
    scoring = _Scoring(client, db_url, version, batch_size, window, None, lo - 1 if hi else 0)
    lanes: dict[str | None, list[Any]] = {a: [] for a in scoring.addresses} or {None: []}  # its parts not ended
    hold = n_parts if hold_from is None else hold_from
    index: dict[Any, int] = {}
    lane_of: dict[Any, str | None] = {}
    queued = list(range(n_parts - 1, -1, -1))  # a stack: the next part last
    running: set[Any] = set()  # parts submitted, not ended (ingesting, or waiting on the one before)

    def more() -> list[Any]:
        out = []
        while queued:
            lane = min(lanes, key=lambda a: len(lanes[a]))
            if len(lanes[lane]) >= 2:
                break
            i = queued.pop()
            after = list(lanes[lane][-1:])
            if i >= hold:
                after += [f for f in running if index[f] < hold and f not in after]
            f = submit_part(i, lane, after)
            index[f], lane_of[f] = i, lane
            lanes[lane].append(f)
            running.add(f)
            out.append(f)
        return out

    hook = pause_point(PAUSE_ENV)
    marks: list[tuple[int, set[Any]]] = []
    pending = as_completed([*more(), *scoring.upto(hi, final=not n_parts)])
    totals, parts, scores = ScoreTally(), 0, 0
    report("ingest", 0, n_parts)
    for fut in pending:
        r = fut.result()
        if fut not in running:
            scores += 1
            totals.add(r)
            report("score", scores, scoring.submitted)
            continue
        r, mark = r
        running.discard(fut)
        lane = lane_of.pop(fut)
        lanes[lane].remove(fut)
        parts += 1
        on_part(r)
        report("ingest", parts, n_parts)
        # The parts that may hold ids below `mark`, uncommitted: the ones other lanes are ingesting (the first
        # of each: the others wait on it); this lane's next started after `mark` was read, so its ids are above.
        marks.append((mark, {f[0] for a, f in lanes.items() if f and a != lane}))
        final = [m for m, waiting in marks if not waiting & running]
        marks = [(m, waiting) for m, waiting in marks if waiting & running]
        if final:
            for f in scoring.upto(max(final), final=not running and not queued):
                pending.add(f)
        for f in more():
            pending.add(f)
        if hook == ("parts", parts):
            pause("basira-cluster-client")
    # The argument above leaves no post unscored; were one left (a bug), this sweep would score it.
    if count_lacking(store, version):
        lo, hi = post_id_bounds(store)
        scoring.next = lo - 1
        for r in _run(client, scoring.upto(hi, final=True), "score", report):
            totals.add(r)
    return totals


def cluster_scan(store: Store, db_url: str, address: str, paths: list[str], fmt: str = "auto",
                 on_error: str = "skip", progress: Progress | None = None, batch_size: int = 500,
                 platform: str | None = None, settings: Any = None, chunk_bytes: int = CHUNK_BYTES,
                 score_window: int = SCORE_WINDOW, overlap: bool | None = None) -> Any:
    """`basira scan --cluster`: the local scan's result (ScanSummary), computed on a Dask cluster. `overlap`:
    whether each worker ingests and scores at once (default: the workers whose machine has cores to spare,
    spare_cores)."""
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
        # Follow graphs once every other part has ended. Their account stubs, inserted while another part
        # inserts the same account in full, won the insert and left that account without its fields (a local
        # scan reads the files one after the other); by then every account of a post is stored, and a stub
        # skips it. In at least two ranges per worker, so the end of the scan keeps every worker busy (whole, a
        # 3.3 MB follows.jsonl at 44,359 posts kept one worker on it for the last 28 s, the other idle for 17).
        parts = split_inputs([i for i in todo if i.format != "follows"], options, chunk_bytes)
        graphs = len(parts)
        for inp in (i for i in todo if i.format == "follows"):
            per_worker = Path(inp.path).stat().st_size // (2 * max(1, summary.workers)) + 1
            parts += split_inputs([inp], options, max(64 << 10, min(chunk_bytes, per_worker)))

        lanes = spare_cores(client) if overlap is None else dict.fromkeys(client.scheduler_info()["workers"], overlap)

        def submit_part(i: int, worker: str | None, after: list[Any]) -> Any:
            # Pinned to its lane's worker (another takes it if that one is gone). Overlapping, before the score
            # tasks (it leaves its slot to them at once); else after them, which run between parts.
            over = lanes.get(worker, False) if worker else bool(overlap)
            return client.submit(ingest_task, db_url, parts[i], options, on_error, over, *after,
                                 retries=RETRIES, pure=False, key=f"basira-ingest-{i}-{time.time_ns()}",
                                 priority=2 if over else 0, workers=[worker] if worker else None,
                                 allow_other_workers=True)

        per_file: dict[str, dict[str, Any]] = {}

        def on_part(r: Any) -> None:
            summary.add_part(r, per_file)
            if r.failure is not None and on_error == "stop":
                summary.stopped = True

        scored = _ingest_and_score(client, store, db_url, detector.version, submit_part, len(parts), report,
                                   batch_size, score_window, on_part, hold_from=graphs)
        for inp in todo:  # a split file read to its end: its whole-file checkpoint, so a re-scan skips it
            f = per_file.get(inp.path, {"file": inp.path, "format": inp.format, "completed": False})
            summary.files.append(f)
            if f["completed"] and any(p.is_range and p.path == inp.path for p in parts):
                mark_file_done(store, inp.path, inp.format, options, f["posts_seen"])
        hashed = hash_on_cluster(client, store, db_url, report, score_window)
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
