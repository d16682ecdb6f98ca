"""The scan's scoring step: the detector loaded once per process (a scoring pool's worker, a Dask worker, a
`basira worker`), posts scored with copies scored once, detections committed with their cases.

Every path that scores stored posts — the local scan, a cluster's windows, rescore, the content intake — goes
through score_posts and record, so they leave the same detections and cases.
"""

from __future__ import annotations

import hashlib
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa

from basira.cases.grouping import text_keys
from basira.cases.priority import PrioritySignals, case_priority
from basira.scan.text_chunks import detect_bounded
from basira.store.models import Detection, Post

if TYPE_CHECKING:
    from datetime import datetime

    from basira.detect import Detector
    from basira.store import Store

__all__ = ["ScoreTally", "count_lacking", "ensure_detector", "init_worker", "record", "post_id_bounds", "posts_lacking_detection_between",
           "score_posts", "score_window", "shard_of"]

LONG_KEY = 4096  # texts longer than this are remembered by their hash, not their text
# Texts remembered per scoring process, each result kept as its JSON (~0.5 KB with its key: ~50 MB when full).
# 10,000 rescored 9 % of a 162,303-post scan's 119,952 distinct texts again (evicted before their copies came).
SEEN_MAX = 100_000
_UNSPECIFIC_LANGS = {"und", "zxx", "qme", "qam", "qht", "qct", "art"}

_detector: Detector | None = None
_seen: OrderedDict[tuple[str, str | None], bytes] = OrderedDict()  # (text, lang) -> result (JSON), LRU
_seen_version = [""]  # the model version of the results in _seen
_texts_scored = [0]  # texts this process ran the detector on
_lock = threading.Lock()


@dataclass
class ScoreTally:
    scored: int = 0
    detections_new: int = 0
    cases_new: int = 0
    flagged_new: int = 0
    texts_scored: int = 0  # distinct texts the detector ran on (copies reuse a text's result)

    def add(self, other: ScoreTally) -> ScoreTally:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)
        return self


def init_worker(pool_worker: bool = False) -> None:
    """Load the detector in this process (a pool's initializer). pool_worker: one BLAS thread."""
    global _detector
    from basira.detect import load_detector

    if pool_worker:
        from basira.detect.embedding import SentenceEmbedder

        # One BLAS thread per worker: the workers already fill the cores, and more threads than cores spin
        # (on a loaded machine that doubled the scan's CPU time).
        SentenceEmbedder.use_threads(1)
    _detector = load_detector()
    if _seen_version[0] != _detector.version:
        _seen.clear()
        _seen_version[0] = _detector.version


def ensure_detector(pool_worker: bool = False) -> str:
    """Load the detector once in this process, if it is not loaded yet; return the model version."""
    with _lock:
        if _detector is None:
            init_worker(pool_worker)
        assert _detector is not None
        return _detector.version


def noop() -> None:
    return None


def score_counted(posts: Sequence[tuple[int, str, str | None]]) -> tuple[list[dict[str, Any]], int]:
    """score_posts, and how many texts the detector ran on for them (the others were copies already scored)."""
    before = _texts_scored[0]
    rows = score_posts(posts)
    return rows, _texts_scored[0] - before


def score_posts(posts: Sequence[tuple[int, str, str | None]]) -> list[dict[str, Any]]:
    """Detection rows for (post id, text, lang) triples. Identical texts (copies, coordinated bursts) are
    scored once: in the batch, and across batches through a bounded cache in each process."""
    assert _detector is not None, "call init_worker (or ensure_detector) first"
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
        _texts_scored[0] += len(todo)
        threshold_for = getattr(det, "threshold_for", lambda lang: det.threshold)
        # Long texts are scored chunk by chunk (basira.scan.text_chunks): bounded memory, offsets on the whole text.
        results = detect_bounded(det, [texts[k] for k in todo], [lang for _, lang in todo])
        for key, d in zip(todo, results, strict=True):
            # A flagged post's case joins a review group by its text's keys (MinHash bands): computed here,
            # once per distinct text and spread over the scoring processes (a cluster's Dask workers), not in
            # the scan's serial tail (basira.cases.groups joins them).
            _seen[key] = orjson.dumps({
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
                "text_keys": text_keys(texts[key]) if d.flagged else None,
            })
    # Every row from the JSON kept, scored now or before: the same values whichever (and the stored ones).
    result = {key: orjson.loads(_seen[key]) for key in dict.fromkeys(keys)}
    rows = [{"post_id": post_id, **result[key]} for (post_id, _, _), key in zip(posts, keys, strict=True)]
    for key in keys:
        _seen.move_to_end(key)
    while len(_seen) > SEEN_MAX:
        _seen.popitem(last=False)
    return rows


def record(store: Store, rows: list[dict[str, Any]], before_commit: Callable[[], None] | None = None,
           actor: str = "detector", texts_scored: int = 0) -> ScoreTally:
    """Commit scored rows (score_posts) with a case on each new flagged detection, in one transaction."""
    from basira.cases.detector import record_detections

    with store.transaction() as tx:
        new, opened = record_detections(tx, rows, actor=actor)
        if before_commit is not None:
            before_commit()
    return ScoreTally(len(rows), new, opened, sum(1 for r in rows if r["flagged"]), texts_scored)


def shard_of(text: str, shards: int) -> int:
    """Which of `shards` scoring shards a text belongs to: the same in every process (Python's hash() is
    salted per process), so that every copy of a text goes to the same shard. (On PostgreSQL the database
    picks the shard instead: posts_lacking_detection_between.)"""
    return zlib.crc32(text.encode("utf-8", "replace")) % shards


def score_window(store: Store, version: str, lo: int, hi: int, batch_size: int = 500, since: datetime | None = None,
                 before_commit: Callable[[], None] | None = None, shard: tuple[int, int] | None = None) -> ScoreTally:
    """Score the posts with lo < id <= hi that lack a detection by `version` (ingested since `since`, when
    given), committing per batch of `batch_size` (a cluster's task; rescore). `shard` (s, n): only the posts
    whose text is in shard s of n (shard_of). `before_commit`: the first batch's test hook."""
    out = ScoreTally()
    todo = posts_lacking_detection_between(store, version, lo, hi, since, shard)
    for i in range(0, len(todo), batch_size):
        batch = todo[i:i + batch_size]
        rows, texts = score_counted([(b["id"], b["text"], b["lang"]) for b in batch])
        out.add(record(store, rows, before_commit, texts_scored=texts))
        before_commit = None
    return out


# --- the posts a window scores (repository reads) --------------------------------------------------------


def post_id_bounds(store: Store) -> tuple[int, int]:
    """(smallest, largest) post id; (0, 0) when there are none."""
    t = Post.__table__
    with store.read() as conn:
        lo, hi = conn.execute(sa.select(sa.func.min(t.c.id), sa.func.max(t.c.id))).one()
    return int(lo or 0), int(hi or 0)


def count_lacking(store: Store, model_version: str) -> int:
    """How many stored posts have no detection by `model_version` (a cluster scan's last check)."""
    t, dt = Post.__table__, Detection.__table__
    done = sa.select(dt.c.id).where(dt.c.post_id == t.c.id, dt.c.model_version == model_version)
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t).where(~done.exists())).scalar_one())


def posts_lacking_detection_between(store: Store, model_version: str, lo: int, hi: int, since: Any = None,
                                    shard: tuple[int, int] | None = None) -> list[dict[str, Any]]:
    """Posts (id, text, lang) with lo < id <= hi and no detection by `model_version` (a cluster task's
    window; `since`: only posts ingested at or after that time; `shard` (s, n): only those whose text is in
    shard s of n), in id order."""
    t, dt = Post.__table__, Detection.__table__
    done = sa.select(dt.c.post_id).where(dt.c.model_version == model_version, dt.c.post_id > lo,
                                         dt.c.post_id <= hi)
    q = sa.select(t.c.id, t.c.text, t.c.lang).where(t.c.id > lo, t.c.id <= hi, t.c.id.not_in(done))
    if since is not None:
        q = q.where(t.c.ingested_at >= since)
    pg_shard = shard is not None and store.dialect == "postgresql"
    if pg_shard:
        # The shard picked by the database (hashtext: the same in every session), so that each of a window's
        # tasks reads only its own texts: reading them all, then keeping 1/n, sent every text n times.
        assert shard is not None
        q = q.where((sa.func.hashtext(t.c.text).op("&")(0x7FFFFFFF)) % shard[1] == shard[0])
    with store.read() as conn:
        rows = [r._asdict() for r in conn.execute(q.order_by(t.c.id))]
    if shard is not None and not pg_shard:
        rows = [p for p in rows if shard_of(p["text"], shard[1]) == shard[0]]
    return rows
