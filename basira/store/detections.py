"""The detections table: what the detector said about each post, by model version. A bottom-level table API
(no workflow): basira.cases.detector records detections and opens the cases of the flagged ones."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from basira.store import bulk
from basira.store.db import Database, Tx
from basira.store.models import Detection, Post, now

__all__ = ["POLICIES", "add_detections", "count_flagged", "detection_breakdown", "detection_id", "detection_policy",
           "posts_lacking_detection", "store_new_detections"]

_CHUNK = 500  # rows per IN (...) lookup
POLICIES = ("terrorist_support", "hate_speech")  # the detector's Detection.policy values (issue 11)


def detection_policy(row: dict[str, Any]) -> str | None:
    """The detections.policy column of a detection row: its `policy`, else the copy in its evidence; a value
    the detector does not produce is stored as None."""
    ev = row.get("evidence")
    value = row.get("policy", ev.get("policy") if isinstance(ev, dict) else None)
    return value if value in POLICIES else None


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def add_detections(tx: Tx, rows: Sequence[dict[str, Any]]) -> int:
    """Store detections ({post_id, model_version, score, categories, evidence}); re-scoring a post
    with the same model version replaces its result. Return the number new."""
    if not rows:
        return 0
    t = Detection.__table__
    created = now()
    values = [
        {
            "post_id": r["post_id"],
            "model_version": r["model_version"],
            "score": float(r["score"]),
            "categories": list(r.get("categories") or []),
            "evidence": r.get("evidence") or {},
            "policy": detection_policy(r),
            "created_at": created,
        }
        for r in rows
    ]
    existing: set[tuple[int, str]] = set()
    for chunk in _chunks(values):
        q = sa.select(t.c.post_id, t.c.model_version).where(t.c.post_id.in_([v["post_id"] for v in chunk]))
        existing.update((r.post_id, r.model_version) for r in tx.execute(q))
    stmt = tx.insert(t)
    stmt = stmt.on_conflict_do_update(
        index_elements=["post_id", "model_version"],
        set_={"score": stmt.excluded.score, "categories": stmt.excluded.categories, "evidence": stmt.excluded.evidence,
              "policy": stmt.excluded.policy},
    )
    tx.execute(stmt, values)
    return sum(1 for v in values if (v["post_id"], v["model_version"]) not in existing)


def detection_id(store: Database, post_id: int, model_version: str) -> int | None:
    """The id of the post's detection by `model_version`, or None."""
    t = Detection.__table__
    with store.read() as conn:
        got = conn.execute(
            sa.select(t.c.id).where(t.c.post_id == post_id, t.c.model_version == model_version)
        ).scalar()
    return None if got is None else int(got)


def store_new_detections(tx: Tx, rows: Sequence[dict[str, Any]], at: datetime) -> list[Any]:
    """Insert detections ({post_id, model_version, score, flagged, categories, evidence, text_keys}; `flagged`
    kept in the evidence) of posts not yet scored by that model version; return the new rows' (id, post_id)."""
    values = [
        {
            "post_id": int(r["post_id"]),
            "model_version": r["model_version"],
            "score": float(r["score"]),
            "categories": list(r.get("categories") or []),
            "evidence": {**(r.get("evidence") or {}), "flagged": bool(r.get("flagged"))},
            "policy": detection_policy(r),
            "text_keys": r.get("text_keys"),
            "created_at": at,
        }
        for r in rows
    ]
    return tx.insert_rows(Detection.__table__, values, ("post_id", "model_version"), ("id", "post_id"))


def posts_lacking_detection(
    store: Database, model_version: str, after_id: int = 0, limit: int = 1000, max_chars: int | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Posts (id, text, lang) after `after_id`, in id order, that have no detection by `model_version`:
    up to `limit` of them (and, with `max_chars`, no more text than that in all, but at least one post),
    and the id to continue after. An empty list means there are no more.

    Walks the posts in id windows and looks their detections up by key, so each call costs the same
    on any table size, whatever the planner's statistics say (an anti-join can turn into a full scan).
    """
    t, dt = Post.__table__, Detection.__table__
    out: list[dict[str, Any]] = []
    last = after_id
    chars = 0
    with store.read() as conn:
        while len(out) < limit:
            ids = list(
                conn.execute(
                    sa.select(t.c.id).where(t.c.id > last).order_by(t.c.id).limit(limit - len(out))
                ).scalars()
            )
            if not ids:
                break
            window_start, last = last, ids[-1]
            done = set(
                conn.execute(
                    sa.select(dt.c.post_id).where(
                        dt.c.model_version == model_version, bulk.in_values(store.dialect, dt.c.post_id, ids)
                    )
                ).scalars()
            )
            todo = [i for i in ids if i not in done]
            full = False
            if todo and max_chars is not None:
                # Bound the batch's memory by its texts' length (a batch of million-character posts).
                lens = dict(
                    conn.execute(sa.select(t.c.id, sa.func.length(t.c.text))
                     .where(bulk.in_values(store.dialect, t.c.id, todo))).all()
                )
                keep: list[int] = []
                for i in todo:
                    if (out or keep) and chars + (lens.get(i) or 0) > max_chars:
                        full = True
                        break
                    keep.append(i)
                    chars += lens.get(i) or 0
                if full:
                    # Continue after the last post taken (the first one left out comes next time).
                    stop = keep[-1] if keep else max((i for i in ids if i < todo[0]), default=window_start)
                    todo, last = keep, stop
            if todo:
                q = (sa.select(t.c.id, t.c.text, t.c.lang).where(bulk.in_values(store.dialect, t.c.id, todo))
                     .order_by(t.c.id))
                out.extend(r._asdict() for r in conn.execute(q))
            if full:
                break
    return out, last


def count_flagged(store: Database, model_version: str) -> int:
    """Posts that `model_version` flagged (the detector's decision, kept in the detection's evidence)."""
    t = Detection.__table__
    q = sa.select(sa.func.count()).select_from(t).where(t.c.model_version == model_version,
                                                        t.c.evidence["flagged"].as_boolean())
    with store.read() as conn:
        return int(conn.execute(q).scalar_one())


def detection_breakdown(store: Database, model_version: str) -> dict[str, Any]:
    """Scored and flagged posts per language, and flagged posts per category, for one model version.
    The language is the one the detector used (the post's own, else identified), kept in the evidence."""
    t = Detection.__table__
    lang = sa.func.coalesce(t.c.evidence["lang"].as_string(), "und").label("lang")
    flag = sa.case((t.c.evidence["flagged"].as_boolean(), 1), else_=0)
    q = (
        sa.select(lang, sa.func.count(), sa.func.sum(flag))
        .where(t.c.model_version == model_version)
        .group_by(lang)
    )
    if store.dialect == "postgresql":
        cat_sql = (
            "SELECT c.value, count(*) FROM detections d, json_array_elements_text(d.categories) AS c(value) "
            "WHERE d.model_version = :v AND (d.evidence->>'flagged')::boolean GROUP BY c.value"
        )
    else:
        cat_sql = (
            "SELECT j.value, count(*) FROM detections d, json_each(d.categories) AS j "
            "WHERE d.model_version = :v AND json_extract(d.evidence, '$.flagged') GROUP BY j.value"
        )
    with store.read() as conn:
        by_lang = {r[0]: {"posts": int(r[1]), "flagged": int(r[2] or 0)} for r in conn.execute(q)}
        by_cat = {r[0]: int(r[1]) for r in conn.execute(sa.text(cat_sql), {"v": model_version})}
    return {
        "by_language": dict(sorted(by_lang.items(), key=lambda kv: (-kv[1]["posts"], kv[0]))),
        "by_category": dict(sorted(by_cat.items(), key=lambda kv: (-kv[1], kv[0]))),
    }
