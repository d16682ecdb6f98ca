"""Recompute the queue priority of open cases from everything the store knows about them (basira.cases.priority
has the formula): the detection, hash-bank matches, the account's prior removals and status, its network
neighbourhood, its followers and the post's reposts, the review group and the content's age. Run at the end of
every scan (so a case's rank follows new evidence) and by `basira review prioritize`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.cases.groups import group_inputs
from basira.cases.priority import PrioritySignals, account_risk, case_priority, components, label_categories
from basira.cases.records import PriorityExplanation
from basira.store import bulk
from basira.store.bank_models import BankMatchRow
from basira.store.models import Account, Case, Detection, Post
from basira.store.network_models import Follow
from basira.store.review_models import Decision

if TYPE_CHECKING:
    from basira.store.store import Store

C, DT, P, A, F = Case.__table__, Detection.__table__, Post.__table__, Account.__table__, Follow.__table__
D, BM = Decision.__table__, BankMatchRow.__table__
QUEUE_STATUSES = ("open", "escalated", "appealed")
SUBJECTS = ("post", "account")  # network-level cases rank by their own rule (basira.network.cases)


def _where_in(conn: Any, column: Any, values: Iterable[Any]) -> Iterator[Any]:
    """`column IN values` in as few statements as the database allows (one array on PostgreSQL)."""
    vals = sorted(set(values))
    step = (len(vals) or 1) if conn.dialect.name == "postgresql" else 900
    for i in range(0, len(vals), step):
        yield bulk.in_values(conn.dialect.name, column, vals[i:i + step])


def signals_for(store: Store, case_ids: Iterable[int] | None = None) -> dict[int, PrioritySignals]:
    """The priority inputs of open (queue) post and account cases; all of them when `case_ids` is None.

    Set-based: every aggregate is read for these cases' accounts and posts only, counted by the database (the
    scan's tail read every follow and every repost of the platform into Python before)."""
    q = (sa.select(C.c.id, C.c.subject_kind, C.c.subject_id, C.c.details, DT.c.score, DT.c.categories,
                   P.c.account_id, P.c.external_id, P.c.platform_id, P.c.created_at)
         .outerjoin(DT, DT.c.id == C.c.detection_id)
         .outerjoin(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
         .where(C.c.status.in_(QUEUE_STATUSES), C.c.subject_kind.in_(SUBJECTS)))
    with store.read() as conn:
        rows: list[Any] = []
        if case_ids is None:
            rows = list(conn.execute(q).all())
        else:
            for where in _where_in(conn, C.c.id, case_ids):
                rows += conn.execute(q.where(where)).all()
        if not rows:
            return {}
        account_of = {r.id: (r.subject_id if r.subject_kind == "account" else r.account_id) for r in rows}
        accounts = {a for a in account_of.values() if a is not None}
        post_ids = [r.subject_id for r in rows if r.subject_kind == "post"]
        matches: dict[int, int] = {}
        for where in _where_in(conn, BM.c.subject, [f"post:{p}" for p in post_ids]):
            for subj, n in conn.execute(sa.select(BM.c.subject, sa.func.count(sa.distinct(BM.c.item_id)))
                                        .where(where, BM.c.status == "match").group_by(BM.c.subject)):
                matches[int(subj.split(":", 1)[1])] = int(n)
        followers: dict[int, int] = {}
        for where in _where_in(conn, F.c.target_id, accounts):
            followers.update(conn.execute(sa.select(F.c.target_id, sa.func.count()).where(where)
                                          .group_by(F.c.target_id)).all())
        reposts: dict[tuple[int, str], int] = defaultdict(int)
        exts = {r.external_id for r in rows if r.external_id is not None}
        for col in (P.c.repost_of, P.c.quote_of):
            for where in _where_in(conn, col, exts):
                for pf, ext, n in conn.execute(sa.select(P.c.platform_id, col, sa.func.count()).where(where)
                                               .group_by(P.c.platform_id, col)):
                    reposts[(pf, ext)] += int(n)
        # Prior removals: live removal decisions on the account's posts or on the account itself.
        removed_post = (sa.select(P.c.account_id, sa.func.count(sa.distinct(C.c.id)))
                        .select_from(D).join(C, C.c.id == D.c.case_id)
                        .join(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
                        .where(D.c.action == "remove", D.c.undone_at.is_(None)).group_by(P.c.account_id))
        removals: dict[int, int] = defaultdict(int)
        for aid, n in conn.execute(removed_post):
            removals[aid] += int(n)
        for aid, n in conn.execute(sa.select(C.c.subject_id, sa.func.count(sa.distinct(C.c.id))).select_from(D)
                                   .join(C, C.c.id == D.c.case_id)
                                   .where(C.c.subject_kind == "account", D.c.action == "remove",
                                          D.c.undone_at.is_(None)).group_by(C.c.subject_id)):
            removals[aid] += int(n)
        status = {r.id: (r.status, r.suspended_at) for r in conn.execute(
            sa.select(A.c.id, A.c.status, A.c.suspended_at).where(
                sa.or_(A.c.status != "active", A.c.suspended_at.is_not(None))))}
        # Community risk: the share of the account's follow neighbours (either direction) that posted content
        # with a case, smoothed (k / (n + 3)) so one flagged neighbour of one is not a flagged community.
        flagged_accounts = (sa.select(P.c.account_id).select_from(C)
                            .join(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
                            .where(P.c.account_id.is_not(None)))
        neigh_n: dict[int, int] = defaultdict(int)
        neigh_k: dict[int, int] = defaultdict(int)
        for me, other in ((F.c.source_id, F.c.target_id), (F.c.target_id, F.c.source_id)):
            for where in _where_in(conn, me, accounts):
                for a, n, k in conn.execute(
                        sa.select(me, sa.func.count(),
                                  sa.func.sum(sa.case((other.in_(flagged_accounts), 1), else_=0)))
                        .where(where).group_by(me)):
                    neigh_n[a] += int(n)
                    neigh_k[a] += int(k or 0)
        newest = dict(conn.execute(sa.select(P.c.platform_id, sa.func.max(P.c.created_at)).group_by(P.c.platform_id)).all())
        groups = group_inputs(conn, [r.id for r in rows])
    out = {}
    for r in rows:
        aid = account_of[r.id]
        det = r.details or {}
        # The bank labels of its matches too: the tail's pass dropped them, so a match labelled recruitment ranked
        # as a default-severity one once the scan ended (tests/test_hash_scan.py caught it when v5 moved the scores).
        labels = label_categories(m.get("labels") or {} for m in det.get("hash_matches") or [])
        cats = tuple(sorted(set(det.get("categories") or r.categories or []) | set(labels)))
        st = status.get(aid)
        g = groups.get(r.id)
        created = g["newest"] if g and g.get("newest") else r.created_at
        top = newest.get(r.platform_id)
        age = _hours(top, created) if top is not None and created is not None else None
        reach_posts = reposts.get((r.platform_id, r.external_id), 0) if r.external_id is not None else 0
        out[r.id] = PrioritySignals(
            model_score=round(float(r.score if r.score is not None else det.get("score") or 0.0), 6),
            hash_matches=matches.get(r.subject_id, 0) if r.subject_kind == "post" else 0,
            categories=cats,
            account_risk=round(account_risk(removals.get(aid, 0) if aid else 0,
                                            suspended=bool(st and (st[1] is not None or st[0] == "suspended")),
                                            returning=bool(st and st[0] == "returning")), 6),
            community_risk=round(neigh_k.get(aid, 0) / (neigh_n.get(aid, 0) + 3), 6) if aid else 0.0,
            followers=int(g["followers"]) if g else int(followers.get(aid, 0)) if aid else 0,
            reposts=int(g["reposts"]) if g else reach_posts,
            group_size=int(g["size"]) if g else 1,
            group_accounts=int(g["accounts"]) if g else 1,
            age_hours=None if age is None else round(age, 4),
        )
    return out


def _hours(a: datetime, b: datetime) -> float:
    return max((a - b).total_seconds(), 0.0) / 3600.0


def reprioritize(store: Store, case_ids: Iterable[int] | None = None) -> int:
    """Store the formula's priority on each open case; return how many changed."""
    sig = signals_for(store, case_ids)
    if not sig:
        return 0
    new = {cid: case_priority(s) for cid, s in sig.items()}
    ids = sorted(new)
    changed = 0
    with store.write() as conn:
        old: dict[int, float] = {}
        for where in _where_in(conn, C.c.id, ids):
            old.update(conn.execute(sa.select(C.c.id, C.c.priority).where(where)).all())
        rows = [{"id": cid, "priority": p} for cid, p in new.items() if abs((old.get(cid) or 0.0) - p) > 1e-12]
        bulk.update_rows(conn, C, ["id"], rows)  # one statement on PostgreSQL
        changed = len(rows)
    return changed


def explain(store: Store, case_id: int) -> PriorityExplanation | None:
    """The inputs and each weighted term of one case's priority (for the case page)."""
    s = signals_for(store, [case_id]).get(case_id)
    if s is None:
        return None
    from dataclasses import asdict

    from basira.cases.priority import WEIGHTS, tie_breaker
    return PriorityExplanation(inputs=asdict(s), terms={k: round(WEIGHTS[k] * v, 3) for k, v in components(s).items()},
                               tie=tie_breaker(s), priority=case_priority(s))
