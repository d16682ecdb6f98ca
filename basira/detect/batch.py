"""Classify and evaluate JSON Lines files in batches (the work behind `basira classify` and `basira eval`)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import IO, Any

import orjson

from basira.detect.detector import Detection, Detector
from basira.detect.metrics import Counts, grouped_counts
from basira.jsonio import iter_jsonl

BATCH = 512


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
        "evidence": [e.to_dict() for e in d.evidence],
    }


def classify_stream(
    path: str, out: IO[bytes], detector: Detector, advance: Callable[[int], None] = lambda n: None
) -> int:
    """Read `path` (JSON Lines with id and text), write one result line per record; return the count.

    The whole input is validated as it streams: a bad line raises InputError and the caller discards the
    partial output.
    """
    count = 0
    records = (obj for _, obj in iter_jsonl(path, required=("id", "text")))
    for batch in _batches(records, BATCH):
        detections = detector.detect([r["text"] for r in batch])
        out.write(b"".join(orjson.dumps(detection_record(r["id"], d)) + b"\n" for r, d in zip(batch, detections, strict=True)))
        count += len(batch)
        advance(len(batch))
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
