"""Store queries for network analysis: accounts, posts with their detector scores, follows, network cases.

Functions take a Store and return plain rows; basira.network.load turns them into the algorithms' inputs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.core.time import utc
from basira.ingest.records import FollowRecord
from basira.store.models import Account, Detection, Media, Platform, Post, now
from basira.store.network_models import Follow

if TYPE_CHECKING:
    from basira.store.store import Store

NETWORK_SUBJECT_KINDS = ("community", "coordinated")  # fits cases.subject_kind (16 characters)
_CHUNK = 500


def add_follows(store: Store, follows: Sequence[FollowRecord]) -> int:
    """Store follow edges (accounts not yet known get a stub); return the number new. Idempotent."""
    if not follows:
        return 0
    from basira.ingest.records import AccountRecord

    t = Follow.__table__
    with store.write() as conn:
        stubs = [AccountRecord(f.platform, ext) for f in follows for ext in (f.source_external_id, f.target_external_id)]
        store._insert_account_stubs(conn, stubs)
        rows = []
        by_platform: dict[str, list[FollowRecord]] = {}
        for f in follows:
            by_platform.setdefault(f.platform, []).append(f)
        first = now()
        for platform, recs in by_platform.items():
            pid = store._platform_id(conn, platform)
            ids = store._account_ids(conn, pid, [x for f in recs for x in (f.source_external_id, f.target_external_id)])
            seen = set()
            for f in recs:
                key = (ids[f.source_external_id], ids[f.target_external_id])
                if key[0] != key[1] and key not in seen:
                    seen.add(key)
                    rows.append({"platform_id": pid, "source_id": key[0], "target_id": key[1], "first_seen_at": first})
        if not rows:
            return 0
        return len(store._insert_rows(conn, t, rows, ("source_id", "target_id"), ("id",)))


def count_follows(store: Store) -> int:
    t = Follow.__table__
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one())


def iter_follows(store: Store, batch_size: int = 50_000) -> Iterator[list[tuple[int, int]]]:
    """(follower account id, followee account id) pairs in batches."""
    t = Follow.__table__
    last = 0
    while True:
        with store.read() as conn:
            rows = conn.execute(
                sa.select(t.c.id, t.c.source_id, t.c.target_id).where(t.c.id > last).order_by(t.c.id).limit(batch_size)
            ).all()
        if not rows:
            return
        yield [(r.source_id, r.target_id) for r in rows]
        last = rows[-1].id


def network_accounts(store: Store) -> list[dict[str, Any]]:
    """Every account with its platform name and profile fields."""
    at, pt = Account.__table__, Platform.__table__
    q = sa.select(
        at.c.id, pt.c.name.label("platform"), at.c.external_id, at.c.handle, at.c.display_name, at.c.bio,
        at.c.created_at, at.c.status, at.c.suspended_at, at.c.removed_at, at.c.profile_image_hash,
    ).join(pt, pt.c.id == at.c.platform_id).order_by(at.c.id)
    with store.read() as conn:
        rows = [r._asdict() for r in conn.execute(q)]
    for r in rows:
        for k in ("created_at", "suspended_at", "removed_at"):
            r[k] = utc(r[k])
    return rows


def iter_network_posts(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    model_version: str | None = None,
    batch_size: int = 5000,
) -> Iterator[list[dict[str, Any]]]:
    """Posts in [since, until) with the fields the graph needs and their latest detection (of `model_version`
    if given): `score`, and `flagged` as the detector decided it when the detection records that
    (evidence.flagged), else None. Unscored posts have both None. In id order, in batches."""
    t, pt, dt = Post.__table__, Platform.__table__, Detection.__table__
    latest = sa.select(dt.c.post_id, sa.func.max(dt.c.id).label("detection_id"))
    if model_version is not None:
        latest = latest.where(dt.c.model_version == model_version)
    latest_sq = latest.group_by(dt.c.post_id).subquery()
    d2 = dt.alias("d2")

    def page(last: int) -> sa.Select[Any]:
        q = (
            sa.select(
                t.c.id, pt.c.name.label("platform"), t.c.external_id, t.c.account_id, t.c.created_at, t.c.text,
                t.c.reply_to, t.c.quote_of, t.c.repost_of, t.c.forwarded_from, t.c.mentions, t.c.urls,
                t.c.hashtags, *([t.c.thread] if "thread" in t.c else []),
                d2.c.score, d2.c.evidence["flagged"].as_boolean().label("flagged"),
            )
            .join(pt, pt.c.id == t.c.platform_id)
            .outerjoin(latest_sq, latest_sq.c.post_id == t.c.id)
            .outerjoin(d2, d2.c.id == latest_sq.c.detection_id)
            .where(t.c.id > last)
            .order_by(t.c.id)
            .limit(batch_size)
        )
        if since is not None:
            q = q.where(t.c.created_at >= since)
        if until is not None:
            q = q.where(t.c.created_at < until)
        return q

    mt = Media.__table__
    for batch in store.iter_keyset(page):
        # Each post's media identities (PDQ, else SHA-256, else the URL): one query per batch.
        ids = [r["id"] for r in batch]
        media: dict[int, list[str]] = {}
        with store.read() as conn:
            for chunk in (ids[i : i + _CHUNK] for i in range(0, len(ids), _CHUNK)):
                q = sa.select(mt.c.post_id, mt.c.pdq, mt.c.sha256, mt.c.url).where(mt.c.post_id.in_(chunk))
                for m in conn.execute(q):
                    ident = m.pdq or m.sha256 or (f"url:{m.url}" if m.url else None)
                    if ident:
                        media.setdefault(m.post_id, []).append(ident)
        for r in batch:
            r["media"] = media.get(r["id"], [])
        yield batch


def open_network_case(
    store: Store,
    kind: str,
    anchor_account_id: int,
    reason: str,
    *,
    priority: float = 0.0,
    details: dict[str, Any] | None = None,
    actor: str | None = "basira",
) -> tuple[int, bool]:
    """Open a case on a whole community or coordinated group, named by its anchor account (its riskiest
    member), unless one is open for that anchor; return (case id, newly opened). Logged as `case.opened`."""
    from basira.cases.intake import Finding, submit

    f = Finding((kind, int(anchor_account_id)), "network", reason, priority=float(priority), details=details or {})
    with store.transaction() as tx:
        got = submit(tx, [f], actor, lookup=True)
    return got.cases[f.subject], bool(got.opened)
