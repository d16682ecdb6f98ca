"""Store queries behind the network pages: a cheap fingerprint of what the analysis reads (to know when a
cached analysis is stale), an account's flagged posts with their cases, and the open network-level cases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.store.models import Account, Case, Detection, Post
from basira.store.network import NETWORK_SUBJECT_KINDS
from basira.store.network_models import Follow

if TYPE_CHECKING:
    from basira.store.store import Store


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
