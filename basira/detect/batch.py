"""Classify and evaluate JSON Lines files in batches (the work behind `basira classify` and `basira eval`)."""

from __future__ import annotations

import contextlib
import heapq
import multiprocessing
import multiprocessing.pool
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson

from basira.core.jsonio import iter_jsonl
from basira.detect.detector import Detection, Detector
from basira.detect.metrics import Counts, grouped_counts

BATCH = 512
IN_FLIGHT = 6  # batches queued for the workers: enough to keep both busy, little memory
POOL_MIN_BYTES = 512 * 1024  # below this (≈ 4,000 short posts) starting worker processes costs more than it saves


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    while chunk := list(islice(items, size)):
        yield chunk


def detection_record(record_id: Any, d: Detection) -> dict[str, Any]:
    return {
        "id": record_id,
        "score": d.score,
        "flagged": d.flagged,
        "lang": d.lang,
        "categories": d.categories,
        "signals": d.signals,
        "policy": d.policy,
        "evidence": [e.to_dict() for e in d.evidence],
    }


def detect_distinct(detector: Detector, texts: list[str]) -> list[Detection]:
    """detector.detect(texts), each distinct text scored once: reposts and copy-paste campaigns repeat texts
    (a simulated platform's 162,303 posts hold about 120,000 distinct texts), and a text's detection depends on it alone."""
    distinct = list(dict.fromkeys(texts))
    if len(distinct) == len(texts):
        return detector.detect(texts)
    by_text = dict(zip(distinct, detector.detect(distinct), strict=True))
    return [by_text[t] for t in texts]


def _result_lines(detector: Detector, batch: list[tuple[Any, str]]) -> bytes:
    detections = detect_distinct(detector, [text for _, text in batch])
    return b"".join(orjson.dumps(detection_record(rid, d)) + b"\n" for (rid, _), d in zip(batch, detections, strict=True))


_worker_detector: Detector | None = None  # set in the parent before fork(); the workers inherit it


def _work(batch: list[tuple[Any, str]]) -> bytes:
    assert _worker_detector is not None
    return _result_lines(_worker_detector, batch)


def pool_workers(path: str) -> int:
    """How many worker processes `classify` should use for `path`: both cores for a large file, else none."""
    if path == "-" or (os.cpu_count() or 1) < 2:
        return 0
    try:
        return 2 if os.stat(path).st_size >= POOL_MIN_BYTES else 0
    except OSError:
        return 0  # the reader reports the error with the file's name


@contextlib.contextmanager
def classify_pool(detector: Detector, workers: int) -> Iterator[Any]:
    """Worker processes forked from this one once `detector` (and its encoder) is fully loaded, so they share
    its arrays copy-on-write and start in milliseconds. Call it before any other thread starts (a progress
    bar's, say): a thread holding a lock at fork() leaves that lock held for good in the child.
    Yields None for workers < 2 (score in this process).
    """
    if workers < 2:
        yield None
        return
    global _worker_detector
    if detector.embedder is not None:
        from basira.detect.embedding import SentenceEmbedder

        SentenceEmbedder.use_threads(1)  # one BLAS thread per worker: the workers already fill the cores
        SentenceEmbedder.load_now()  # no loader thread may be running at fork()
    _worker_detector = detector
    pool = multiprocessing.get_context("fork").Pool(workers)  # forks every worker before its own threads start
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()
        _worker_detector = None


def classify_stream(
    path: str,
    out: IO[bytes],
    detector: Detector,
    advance: Callable[[int], None] = lambda n: None,
    pool: multiprocessing.pool.Pool | None = None,
) -> int:
    """Read `path` (JSON Lines with id and text), write one result line per record; return the count.

    The whole input is validated as it streams: a bad line raises InputError and the caller discards the
    partial output. With a `pool` (see classify_pool) the batches are scored by its workers, a few in flight,
    and written in input order: the output is the same as in one process.
    """
    count = 0
    records = ((obj["id"], obj["text"]) for _, obj in iter_jsonl(path, required=("id", "text")))
    if pool is None:
        for batch in _batches(records, BATCH):
            out.write(_result_lines(detector, batch))
            count += len(batch)
            advance(len(batch))
        return count
    inflight: deque[tuple[int, Any]] = deque()

    def drain(keep: int) -> None:
        nonlocal count
        while len(inflight) > keep:
            n, result = inflight.popleft()
            out.write(result.get())
            count += n
            advance(n)

    for batch in _batches(records, BATCH):
        inflight.append((len(batch), pool.apply_async(_work, (batch,))))
        drain(IN_FLIGHT)
    drain(0)
    return count


@dataclass
class EvalReport:
    by_file: dict[str, Counts]
    by_lang: dict[str, Counts]
    thresholds: dict[str, float]
    false_positives: list[tuple[float, str, str, str]] = field(default_factory=list)  # score, file, id, text
    false_negatives: list[tuple[float, str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "thresholds": self.thresholds,
            "by_file": {k: v.to_dict() for k, v in self.by_file.items()},
            "by_lang": {k: v.to_dict() for k, v in self.by_lang.items()},
            "worst_false_positives": [dict(zip(("score", "file", "id", "text"), r, strict=True)) for r in self.false_positives],
            "worst_false_negatives": [dict(zip(("score", "file", "id", "text"), r, strict=True)) for r in self.false_negatives],
        }


def evaluate_files(
    paths: Iterable[str],
    detector: Detector,
    keep: Callable[[str, dict[str, Any]], bool] = lambda stem, obj: True,
    worst: int = 10,
    advance: Callable[[int], None] = lambda n: None,
    transform: Callable[[str], str] | None = None,
) -> EvalReport:
    """Precision, recall, F1 and flag rate per file and language, and the worst mistakes."""
    rows: list[tuple[str, str, int, bool]] = []
    fps: list[tuple[float, str, str, str]] = []
    fns: list[tuple[float, str, str, str]] = []
    for path in paths:
        name = Path(path).name.removesuffix(".jsonl")
        records = (obj for _, obj in iter_jsonl(path, required=("id", "text", "label")) if keep(name, obj))
        for batch in _batches(records, BATCH):
            texts = [transform(r["text"]) if transform else r["text"] for r in batch]
            detections = detector.detect(texts, [r.get("lang") for r in batch])
            for r, d in zip(batch, detections, strict=True):
                label = int(r["label"])
                rows.append((name, d.lang, label, d.flagged))
                item = (d.score, name, str(r["id"]), r["text"][:280])
                if d.flagged and label == 0:
                    (heapq.heappush if len(fps) < worst else heapq.heappushpop)(fps, item)
                elif not d.flagged and label == 1:
                    neg = (-d.score, *item[1:])
                    (heapq.heappush if len(fns) < worst else heapq.heappushpop)(fns, neg)
            advance(len(batch))
    return EvalReport(
        by_file=grouped_counts((f, lab, fl) for f, _, lab, fl in rows),
        by_lang=grouped_counts((lang, lab, fl) for _, lang, lab, fl in rows),
        thresholds=detector.thresholds,
        false_positives=sorted(fps, reverse=True),
        false_negatives=sorted(((-s, *rest) for s, *rest in fns)),
    )
