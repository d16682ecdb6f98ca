"""The network repository: what the analysis reads (accounts, posts with their detector scores, follows), a
cheap fingerprint of it (to know when a cached analysis is stale), an account's flagged posts with their cases,
and the open network-level cases.

Functions take a Store (they only read) and return plain rows; basira.network.load turns them into the
algorithms' inputs. Follows are written by the ingest repository (basira.ingest.repository.add_follows).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.core.time import utc
from basira.store.models import Account, Case, Detection, Media, Platform, Post
from basira.store.network_models import NETWORK_SUBJECT_KINDS, Follow

if TYPE_CHECKING:
    from basira.store.store import Store

__all__ = ["count_follows", "flagged_posts", "iter_follows", "iter_network_posts", "network_accounts", "network_cases",
           "network_fingerprint"]
_CHUNK = 500


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


def network_fingerprint(store: Store) -> tuple[Any, ...]:
    """Changes whenever a post, follow, detection or account is added, or an account is suspended or removed.
    Max ids come from primary-key indexes; the suspension counts scan the accounts table (fine to ~1M rows)."""
    A, P, F, D = Account.__table__, Post.__table__, Follow.__table__, Detection.__table__
    gone = sa.or_(A.c.status != "active", A.c.suspended_at.is_not(None), A.c.removed_at.is_not(None))
    with store.read() as conn:
        ids = conn.execute(sa.select(
            sa.select(sa.func.max(P.c.id)).scalar_subquery(), sa.select(sa.func.max(F.c.id)).scalar_subquery(),
            sa.select(sa.func.max(D.c.id)).scalar_subquery(), sa.select(sa.func.max(A.c.id)).scalar_subquery(),
        )).one()
        g = conn.execute(sa.select(sa.func.count(), sa.func.max(A.c.suspended_at), sa.func.max(A.c.removed_at))
                         .where(gone)).one()
    return (*tuple(ids), int(g[0]), str(g[1]), str(g[2]))


def flagged_posts(store: Store, account_id: int, threshold: float, limit: int = 100) -> list[dict[str, Any]]:
    """The account's posts whose latest detection flagged them (the detector's own decision when recorded,
    else score >= threshold), newest first, each with its case (the latest) if one was opened."""
    P, D, C = Post.__table__, Detection.__table__, Case.__table__
    latest = (sa.select(D.c.post_id, sa.func.max(D.c.id).label("did")).join(P, P.c.id == D.c.post_id)
              .where(P.c.account_id == account_id).group_by(D.c.post_id).subquery())
    decided = D.c.evidence["flagged"].as_boolean()
    q = (sa.select(P.c.id, P.c.external_id, sa.func.substr(P.c.text, 1, 280).label("snippet"), P.c.lang,
                   P.c.created_at, D.c.score, C.c.id.label("case_id"), C.c.status.label("case_status"))
         .join(latest, latest.c.post_id == P.c.id).join(D, D.c.id == latest.c.did)
         .outerjoin(C, sa.and_(C.c.subject_kind == "post", C.c.subject_id == P.c.id))
         .where(P.c.account_id == account_id,
                sa.or_(decided.is_(True), sa.and_(decided.is_(None), D.c.score >= threshold)))
         .order_by(P.c.created_at.desc(), P.c.id.desc(), C.c.id.desc()))
    out: dict[int, dict[str, Any]] = {}
    with store.read() as conn:
        for r in conn.execute(q):
            if r.id not in out:
                out[r.id] = r._asdict()
                if len(out) >= limit:
                    break
    return list(out.values())


def network_cases(store: Store, open_only: bool = True) -> list[dict[str, Any]]:
    """Network-level cases (a community or coordinated group), anchored on an account."""
    C = Case.__table__
    q = (sa.select(C.c.id, C.c.subject_kind, C.c.subject_id, C.c.status, C.c.priority, C.c.reason, C.c.opened_at)
         .where(C.c.subject_kind.in_(NETWORK_SUBJECT_KINDS)).order_by(C.c.priority.desc(), C.c.id))
    if open_only:
        q = q.where(C.c.closed_at.is_(None))
    with store.read() as conn:
        return [r._asdict() for r in conn.execute(q)]
