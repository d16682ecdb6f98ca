"""Scan: ingest files, score every post the current model has not scored, open a case per flagged post.

Ingest runs in a thread while the main thread scores the posts it has committed, in batches, on a process
pool (one detector per worker). Ingest batches commit with their file checkpoints, and each scored batch
commits its detections with their cases, so a scan killed at any point resumes on the next run without
losing or repeating anything.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from basira.cases.priority import PrioritySignals, case_priority
from basira.core.errors import InputError
from basira.core.killpoints import pause, pause_point
from basira.hash_scan import match_ingested_posts
from basira.ingest import detect_format, get_format, ingest_file
from basira.ingest.base import read_head
from basira.ingest.clean import ReadOptions
from basira.ingest.runner import fingerprint
from basira.scan_chunks import detect_bounded

if TYPE_CHECKING:
    from basira.detect import Detector
    from basira.store import Store

FORMAT_ALIASES = {"x-v2": "x_v2", "x": "x_v2", "twitter": "x_v2"}
SCAN_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")
BATCH = 500  # posts per scoring batch
BATCH_CHARS = 2_000_000  # and no more text than this per batch (bounded memory with million-character posts)
LONG_KEY = 4096  # texts longer than this are remembered by their hash, not their text
POOL_MIN_BYTES = 4 << 20  # inputs smaller than this are scored in-process (a pool costs more than it saves)
MAX_ERRORS_KEPT = 1000
SEEN_MAX = 10_000  # texts remembered per scoring process (a few MB; tens at most for long texts)
# Test hook for the resume-after-kill test: "after:N" / "inside:N" pauses (for a SIGKILL) once scored batch N
# has committed, or while it is written but not committed.
_PAUSE_ENV = "BASIRA_SCAN_TEST_PAUSE"
_UNSPECIFIC_LANGS = {"und", "zxx", "qme", "qam", "qht", "qct", "art"}

# progress(stage, done, total): stage "ingest" counts records read (total unknown), "score" posts scored.
Progress = Callable[[str, int, int | None], None]


@dataclass
class ScanSummary:
    posts_total: int = 0
    posts_new: int = 0
    accounts_total: int = 0
    accounts_new: int = 0
    flagged_total: int = 0
    flagged_new: int = 0
    cases_open: int = 0
    cases_new: int = 0
    detections_new: int = 0
    hash_matches: int = 0  # new bank matches acted on (cases opened or raised); see basira.hash_scan
    hash_cases_raised: int = 0  # open cases whose priority a new match raised
    groups_new: int = 0  # review groups of copies formed (basira.cases.groups)
    cases_grouped: int = 0  # new cases that joined a group
    errors: list[dict[str, Any]] = field(default_factory=list)  # {file, line, reason}; the first 1,000
    error_count: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)  # per file: file, format, posts_new, ...
    skipped_files: list[dict[str, str]] = field(default_factory=list)  # in folders: files of no known format
    by_language: dict[str, dict[str, int]] = field(default_factory=dict)  # lang -> {posts, flagged}
    by_category: dict[str, int] = field(default_factory=dict)  # flagged posts per category
    model_version: str = ""
    threshold: float = 0.0
    workers: int = 1
    seconds: float = 0.0
    stopped: bool = False  # on_error="stop" hit a malformed record

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ScanInput:
    path: str
    format: str


def normalize_format(fmt: str) -> str:
    fmt = FORMAT_ALIASES.get(fmt.lower(), fmt.lower())
    if fmt != "auto":
        get_format(fmt)  # unknown names raise InputError
    return fmt


def resolve_inputs(paths: Iterable[str], fmt: str = "auto") -> tuple[list[ScanInput], list[dict[str, str]]]:
    """Files to scan with their formats, and the files skipped inside folders.

    A file named on the command line must exist and have a recognisable format (InputError otherwise). A
    folder is searched recursively for *.jsonl, *.ndjson, *.json and *.csv; files in it of no known format
    (say, a follow graph or a ground-truth file) are skipped and listed.
    """
    fmt = normalize_format(fmt)
    inputs: list[ScanInput] = []
    skipped: list[dict[str, str]] = []
    seen: set[str] = set()

    def add(path: str, name: str) -> None:
        key = str(Path(path).resolve())
        if key not in seen:
            seen.add(key)
            inputs.append(ScanInput(path, name))

    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.is_file() and x.suffix.lower() in SCAN_SUFFIXES):
                try:
                    if fmt == "auto":
                        add(str(f), detect_format(str(f)).name)
                    elif get_format(fmt).sniff(str(f), read_head(str(f))):
                        add(str(f), fmt)
                    else:
                        skipped.append({"file": str(f), "reason": f"not {fmt}"})
                except InputError as exc:
                    skipped.append({"file": str(f), "reason": exc.reason.split(";")[0]})
        elif p.exists():
            add(raw, detect_format(raw).name if fmt == "auto" else fmt)
        else:
            raise InputError(raw, None, None, "no such file or folder")
    return inputs, skipped


# --- scoring (runs in pool workers, or in-process for small scans) ----------------------------------------

_detector: Detector | None = None
_seen: OrderedDict[tuple[str, str | None], dict[str, Any]] = OrderedDict()  # (text, lang) -> result, LRU


def _init_worker(pool_worker: bool = False) -> None:
    global _detector
    from basira.detect import load_detector

    if pool_worker:
        from basira.detect.embedding import SentenceEmbedder

        # One BLAS thread per worker: the workers already fill the cores, and more threads than cores spin
        # (on a loaded machine that doubled the scan's CPU time).
        SentenceEmbedder.use_threads(1)
    _detector = load_detector()
    if _seen and next(iter(_seen.values()))["model_version"] != _detector.version:
        _seen.clear()


def _noop() -> None:
    return None


def score_posts(posts: Sequence[tuple[int, str, str | None]]) -> list[dict[str, Any]]:
    """Detection rows for (post id, text, lang) triples. Identical texts (copies, coordinated bursts) are
    scored once: in the batch, and across batches through a bounded cache in each process."""
    assert _detector is not None, "call _init_worker first"
    det = _detector
    texts: dict[tuple[str, str | None], str] = {}
    keys = []
    for _, text, lang in posts:
        # A long text is remembered by its hash (the cache holds up to SEEN_MAX keys); NUL never occurs in a
        # stored text (basira.ingest.clean), so a hash key cannot equal a text.
        tk = text if len(text) <= LONG_KEY else "\x00sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()
        key = (tk, None if not lang or lang.lower() in _UNSPECIFIC_LANGS else lang)
        texts[key] = text
        keys.append(key)
    todo = list(dict.fromkeys(k for k in keys if k not in _seen))
    if todo:
        threshold_for = getattr(det, "threshold_for", lambda lang: det.threshold)
        # Long texts are scored chunk by chunk (basira.scan_chunks): bounded memory, offsets on the whole text.
        results = detect_bounded(det, [texts[k] for k in todo], [lang for _, lang in todo])
        for key, d in zip(todo, results, strict=True):
            _seen[key] = {
                "model_version": det.version,
                "score": d.score,
                "flagged": d.flagged,
                "categories": list(d.categories),
                # The review queue's order: confidence × severity of the worst category (account risk and
                # hash matches raise it later, when those signals arrive).
                "priority": case_priority(PrioritySignals(model_score=d.score, categories=tuple(d.categories))),
                "evidence": {
                    "lang": d.lang,
                    "flagged": d.flagged,
                    "threshold": threshold_for(d.lang),
                    "signals": list(d.signals),
                    # the detector's policy output (issue 11): terrorist_support | hate_speech | None
                    "policy": getattr(d, "policy", None),
                    "spans": [e.to_dict() for e in d.evidence],
                },
            }
    rows = [{"post_id": post_id, **_seen[key]} for (post_id, _, _), key in zip(posts, keys, strict=True)]
    for key in keys:
        _seen.move_to_end(key)
    while len(_seen) > SEEN_MAX:
        _seen.popitem(last=False)
    return rows


# --- the scan ---------------------------------------------------------------------------------------------


def _error_row(file: str, line: int | None, field_: str | None, reason: str) -> dict[str, Any]:
    return {"file": file, "line": line, "reason": f"field '{field_}': {reason}" if field_ else reason}


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
        pending = len(store.posts_lacking_detection(version, 0, 2000)[0])
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
        pool = ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker, initargs=(True,))
        for f in [pool.submit(_noop) for _ in range(workers)]:  # start (and load) every worker up front
            f.result()
    else:
        _init_worker()

    ingest_state: dict[str, Any] = {"file": None, "records": 0, "error": None}
    stop_ingest = threading.Event()

    def ingest_all() -> None:
        try:
            ingest_files()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            ingest_state["error"] = exc

    def ingest_files() -> None:
        for inp in inputs:
            if stop_ingest.is_set():
                return
            source = str(Path(inp.path).resolve())
            if _unchanged_since_ingest(store, source, inp.format, options):
                summary.files.append({"file": inp.path, "format": inp.format, "unchanged": True})
                continue
            ingest_state["file"] = source
            try:
                res = ingest_file(store, inp.path, inp.format, on_error=on_error, options=options)
            except InputError as exc:
                if on_error == "stop":
                    raise
                # The rest of this file is unreadable: report it and go on with the next.
                summary.error_count += 1
                if len(summary.errors) < MAX_ERRORS_KEPT:
                    summary.errors.append(_error_row(exc.file, exc.line, exc.field, exc.reason))
                summary.files.append({"file": inp.path, "format": inp.format, "completed": False})
                continue
            finally:
                ingest_state["records"] += _records_done(store, ingest_state["file"])
                ingest_state["file"] = None
            summary.error_count += res.error_count
            for e in res.errors:
                if len(summary.errors) < MAX_ERRORS_KEPT:
                    summary.errors.append(_error_row(e["file"], e["line"], e["field"], e["reason"]))
            summary.files.append(
                {
                    "file": inp.path,
                    "format": res.format,
                    "posts_new": res.posts_new,
                    "posts_seen": res.posts_seen,
                    "accounts_new": res.accounts_new,
                    "records_skipped": res.records_skipped,
                    "errors": res.error_count,
                    "completed": res.completed,
                }
            )

    hook = pause_point(_PAUSE_ENV)
    batches = 0
    scored = 0

    def commit(rows: list[dict[str, Any]]) -> None:
        nonlocal batches, scored
        batches += 1
        inside = (lambda: pause("basira-scan")) if hook == ("inside", batches) else None
        new, opened = store.record_detections(rows, before_commit=inside)
        summary.detections_new += new
        summary.cases_new += opened
        summary.flagged_new += sum(1 for r in rows if r["flagged"])
        scored += len(rows)
        report("score", scored, None)
        if hook == ("after", batches):
            pause("basira-scan")

    # A daemon thread: on Ctrl-C the process may exit mid-batch; the uncommitted batch is simply redone.
    ingesting = threading.Thread(target=ingest_all, name="basira-ingest", daemon=True)
    ingesting.start()
    inflight: set[Future] = set()
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
                batch, last_id = store.posts_lacking_detection(
                    version, last_id, batch_size, max_chars=BATCH_CHARS
                )
                if not batch:
                    break
                posts = [(b["id"], b["text"], b["lang"]) for b in batch]
                got += len(posts)
                room -= 1
                if pool:
                    inflight.add(pool.submit(score_posts, posts))
                else:
                    commit(score_posts(posts))
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
            report("ingest", ingest_state["records"] + (_records_done(store, cur) if cur else 0), None)
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
        summary.error_count += 1
        summary.errors.append(_error_row(exc.file, exc.line, exc.field, exc.reason))
    elif exc is not None:
        raise exc
    finish_scan(store, summary, posts_before, accounts_before)
    summary.seconds = round(time.monotonic() - started, 3)
    store.append_event(
        "scan.completed" if not summary.stopped else "scan.stopped",
        {
            k: v
            for k, v in summary.to_dict().items()
            if k not in ("errors", "files", "skipped_files", "by_language", "by_category")
        }
        | {"files": [i.path for i in inputs]},
        actor="scan",
    )
    return summary


def finish_scan(store: Store, summary: ScanSummary, posts_before: int, accounts_before: int) -> None:
    """After scoring (here or on a cluster, basira.cluster): the hash pass, review groups, priorities, totals."""
    hashed = match_ingested_posts(store)
    summary.hash_matches, summary.hash_cases_raised = hashed.matches_new, hashed.cases_raised
    summary.cases_new += hashed.cases_new
    from basira.cases.groups import assign_groups
    from basira.cases.prioritize import reprioritize

    grouped = assign_groups(store, datetime.now(UTC))  # copies of one content join one review group
    summary.groups_new, summary.cases_grouped = grouped["groups_new"], grouped["joined"]
    reprioritize(store)  # the rank follows the evidence the scan added
    summary.posts_total = store.count_posts()
    summary.accounts_total = store.count_accounts()
    summary.posts_new = summary.posts_total - posts_before
    summary.accounts_new = summary.accounts_total - accounts_before
    summary.flagged_total = store.count_flagged(summary.model_version)
    summary.cases_open = store.count_cases("open")
    breakdown = store.detection_breakdown(summary.model_version)
    summary.by_language = breakdown["by_language"]
    summary.by_category = breakdown["by_category"]


def _unchanged_since_ingest(store: Store, source: str, fmt: str, options: ReadOptions | None = None) -> bool:
    """True when the file was ingested to the end and has not changed since (same size and mtime, which is
    the ingest checkpoint's fingerprint): a re-scan then need not read it again."""
    cp = store.get_checkpoint(source)
    if cp is None or not cp.completed or cp.format != fmt:
        return False
    return cp.fingerprint == fingerprint(Path(source), options)


def _records_done(store: Store, source: str | None) -> int:
    if source is None:
        return 0
    cp = store.get_checkpoint(source)
    return cp.records_done if cp else 0
