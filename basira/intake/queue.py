"""The content intake queue (its repository): the async work queue, and the stored results an intake answer is read from.

PostgreSQL: a worker claims pending rows with `SELECT … FOR UPDATE SKIP LOCKED` in a transaction it keeps open
while it processes them (the processing writes through other transactions, idempotently), and marks them done
in that same transaction. Two workers never take the same row; a killed worker's transaction rolls back when
its connection drops, and its rows are pending again. SQLite has no row locks: one worker at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.store import bulk
from basira.store.intake_models import ContentQueueItem
from basira.store.models import Case, Detection, now

if TYPE_CHECKING:
    from basira.store import Store

Q = ContentQueueItem.__table__
_CHUNK = 500


def enqueue(store: Store, items: Sequence[dict[str, Any]], submitted_by: str | None,
            deliver: bool) -> list[tuple[int, bool]]:
    """Queue validated items ({platform, post_id, ...}); return (queue id, newly queued) per item, in order.
    An item whose (platform, post id) was queued before is not queued again (idempotent)."""
    if not items:
        return []
    at = now()
    rows = [{"platform": i["platform"], "external_id": i["post_id"], "item": i, "status": "pending", "attempts": 0,
             "submitted_by": submitted_by, "enqueued_at": at,
             "delivery_status": "waiting" if deliver else "none", "delivery_attempts": 0} for i in items]
    with store.transaction() as tx:
        conn = tx.conn
        new: dict[tuple[str, str], int] = {(r.platform, r.external_id): r.id for r in tx.insert_rows(
            Q, rows, ("platform", "external_id"), ("id", "platform", "external_id"))}
        keys = {(i["platform"], i["post_id"]) for i in items}
        old: dict[tuple[str, str], int] = {}
        for platform in {k[0] for k in keys}:
            ext = sorted(k[1] for k in keys if k[0] == platform and k not in new)
            for i in range(0, len(ext), _CHUNK):
                old.update(((platform, r.external_id), r.id) for r in conn.execute(
                    sa.select(Q.c.external_id, Q.c.id).where(Q.c.platform == platform,
                                                             Q.c.external_id.in_(ext[i:i + _CHUNK]))))
    out: list[tuple[int, bool]] = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        k = (item["platform"], item["post_id"])
        out.append((new.get(k) or old[k], k in new and k not in seen))
        seen.add(k)
    return out


@dataclass
class Claim:
    """Rows a worker holds: (queue id, item). Set `results[queue id]` before the `with` ends."""

    rows: list[tuple[int, dict[str, Any]]]
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    state: dict[int, tuple[int, str]] = field(default_factory=dict)  # queue id -> (attempts, delivery status)


@contextmanager
def claim(store: Store, limit: int, worker: str, before_commit: Any = None) -> Iterator[Claim]:
    """Up to `limit` pending items, held until the block ends; those given a result are then marked done in
    the claiming transaction. An exception (or a kill) leaves them all pending."""
    if store.dialect == "postgresql":
        with store.engine.connect() as conn, conn.begin():
            # Durable even on a worker's relaxed connections (basira.scan.commits): this commit marks the items
            # done, and flushes the batch's results committed before it.
            conn.execute(sa.text("SET LOCAL synchronous_commit = on"))
            got = list(conn.execute(
                sa.select(Q.c.id, Q.c.item, Q.c.attempts, Q.c.delivery_status).where(Q.c.status == "pending")
                .order_by(Q.c.id).limit(limit).with_for_update(skip_locked=True)))
            c = Claim([(r.id, r.item) for r in got], state={r.id: (r.attempts, r.delivery_status) for r in got})
            yield c
            _finish(conn, c, worker)
            if before_commit is not None:
                before_commit()
        return
    # SQLite: no row locks, and a write transaction held across the processing would block the processing's
    # own writes. Read, process, then mark done; a second worker on the same file could repeat work (harmless:
    # the store is idempotent) but never lose any.
    with store.read() as conn:
        got = list(conn.execute(sa.select(Q.c.id, Q.c.item, Q.c.attempts, Q.c.delivery_status)
                                .where(Q.c.status == "pending").order_by(Q.c.id).limit(limit)))
    c = Claim([(r.id, r.item) for r in got], state={r.id: (r.attempts, r.delivery_status) for r in got})
    yield c
    with store.write() as conn:
        _finish(conn, c, worker)
        if before_commit is not None:
            before_commit()


def _finish(conn: Any, c: Claim, worker: str) -> None:
    """Mark the items given a result done, in one statement (one per item cost a millisecond each)."""
    at = now()
    rows = [{"id": qid, "status": "done", "result": result, "worker": worker[:128], "done_at": at,
             "attempts": c.state[qid][0] + 1,
             "delivery_status": "pending" if c.state[qid][1] == "waiting" else c.state[qid][1],
             "next_delivery_at": at} for qid, result in c.results.items()]
    if rows:
        bulk.update_rows(conn, Q, ("id",), rows)


def queue_counts(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {r.status: int(r.n) for r in conn.execute(
            sa.select(Q.c.status, sa.func.count().label("n")).group_by(Q.c.status))}


def queued(store: Store, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Queue rows by id (status, result, worker, delivery), in id order."""
    out: list[dict[str, Any]] = []
    with store.read() as conn:
        for i in range(0, len(ids), _CHUNK):
            out.extend(r._asdict() for r in conn.execute(
                sa.select(Q).where(Q.c.id.in_(list(ids[i:i + _CHUNK]))).order_by(Q.c.id)))
    return out


@contextmanager
def due_deliveries(store: Store, at: datetime, limit: int) -> Iterator[list[dict[str, Any]]]:
    """Done items whose result webhook is due, held (locked, on PostgreSQL) while the caller sends it."""
    q = (sa.select(Q.c.id, Q.c.platform, Q.c.external_id, Q.c.result, Q.c.delivery_attempts)
         .where(Q.c.delivery_status == "pending", Q.c.next_delivery_at <= at).order_by(Q.c.id).limit(limit))
    if store.dialect == "postgresql":
        with store.engine.connect() as conn, conn.begin():
            rows = [r._asdict() for r in conn.execute(q.with_for_update(skip_locked=True))]
            yield rows
            for r in rows:
                conn.execute(sa.update(Q).where(Q.c.id == r["id"]).values(**r["update"]))
        return
    with store.read() as conn:
        rows = [r._asdict() for r in conn.execute(q)]
    yield rows
    with store.write() as conn:
        for r in rows:
            conn.execute(sa.update(Q).where(Q.c.id == r["id"]).values(**r["update"]))


def post_rows_on(conn: Any, keys: Sequence[tuple[str, str]], model_version: str) -> dict[tuple[str, str], tuple[int, bool]]:
    """(platform, external id) -> (post id, whether `model_version` has scored it), read on `conn` (inside the
    caller's transaction, which may have just stored the posts)."""
    from basira.store.models import Platform, Post

    t, dt = Post.__table__, Detection.__table__
    out: dict[tuple[str, str], tuple[int, bool]] = {}
    for platform in sorted({k[0] for k in keys}):
        pid = conn.execute(sa.select(Platform.id).where(Platform.name == platform)).scalar()
        if pid is None:
            continue
        ext = sorted({k[1] for k in keys if k[0] == platform})
        for i in range(0, len(ext), _CHUNK):
            q = (sa.select(t.c.external_id, t.c.id, dt.c.id.label("detection"))
                 .outerjoin(dt, sa.and_(dt.c.post_id == t.c.id, dt.c.model_version == model_version))
                 .where(t.c.platform_id == pid, t.c.external_id.in_(ext[i:i + _CHUNK])))
            out.update(((platform, r.external_id), (int(r.id), r.detection is not None)) for r in conn.execute(q))
    return out


def stored_results(store: Store, post_ids: Sequence[int], model_version: str) -> dict[int, dict[str, Any]]:
    """post id -> {score, categories, evidence, case_id}: its detection by `model_version` and its case (the
    open one, else the newest)."""
    dt, ct = Detection.__table__, Case.__table__
    out: dict[int, dict[str, Any]] = {int(p): {"case_id": None} for p in post_ids}
    ids = sorted(out)
    with store.read() as conn:
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            for r in conn.execute(sa.select(dt.c.post_id, dt.c.score, dt.c.categories, dt.c.evidence).where(
                    dt.c.model_version == model_version, dt.c.post_id.in_(chunk))):
                out[r.post_id].update(score=float(r.score), categories=list(r.categories or []),
                                      evidence=r.evidence or {})
            for c in conn.execute(sa.select(ct.c.id, ct.c.subject_id, ct.c.closed_at).where(
                    ct.c.subject_kind == "post", ct.c.subject_id.in_(chunk)).order_by(ct.c.id)):
                cur = out[c.subject_id]
                if cur.get("_open") and c.closed_at is not None:
                    continue
                cur["case_id"], cur["_open"] = c.id, c.closed_at is None
    for v in out.values():
        v.pop("_open", None)
    return out
