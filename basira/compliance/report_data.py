"""The transparency report's store queries: everything it counts over a period, as one plain dataclass.

Definitions (docs/reports.md): the period is [start, end) in UTC; a decision counts when it was made in the
period and not undone; a removal is a live `remove` decision (review or escalation stage). Counting is done
here; basira.compliance.report turns the counts into figures, tables and shares without touching the store."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.compliance.orders import removal_confirmed_at
from basira.ingest.records import utc
from basira.store.bank_models import BankItemRow, BankMatchRow, BankRow
from basira.store.models import Case, Detection, Platform, Post
from basira.store.network_models import NETWORK_SUBJECT_KINDS
from basira.store.review_models import Appeal, Decision

if TYPE_CHECKING:
    from basira.store import Store

C, P, DT, PF = Case.__table__, Post.__table__, Detection.__table__, Platform.__table__
D, AP = Decision.__table__, Appeal.__table__
BM, BI, B = BankMatchRow.__table__, BankItemRow.__table__, BankRow.__table__
_ORDER_TITLES = {"TCO-ORDER": "Removal order of a competent authority (Regulation (EU) 2021/784)"}
SOURCES = ("detector", "hash_bank", "network", "removal_order", "other")


@dataclass
class ReportCounts:
    start: datetime
    end: datetime
    platforms: list[str] = field(default_factory=list)
    # Moderation decisions (review and escalation stages) in the period, by action.
    decisions_by_action: dict[str, int] = field(default_factory=dict)
    removals: int = 0  # live `remove` decisions (the breakdowns below count these)
    removals_confirmed: int = 0  # of which the platform acknowledged the `remove` action (a delivered webhook)
    removals_by_reason: dict[str, int] = field(default_factory=dict)
    removals_by_category: dict[str, int] = field(default_factory=dict)  # detector categories; multi-label
    removals_by_language: dict[str, int] = field(default_factory=dict)  # posts only; "account" otherwise
    removals_by_subject: dict[str, int] = field(default_factory=dict)
    removals_by_source: dict[str, int] = field(default_factory=dict)  # a removal may have several sources
    removals_by_stage: dict[str, int] = field(default_factory=dict)  # review, escalation, order
    removals_by_day: dict[str, int] = field(default_factory=dict)
    # Appeals.
    appeals_filed: int = 0
    appeal_decisions: dict[str, int] = field(default_factory=dict)  # uphold, overturn
    # Where cases came from.
    cases_opened: int = 0
    cases_by_source: dict[str, int] = field(default_factory=dict)
    posts_scored: int = 0
    posts_flagged: int = 0
    bank_matches_by_bank: dict[str, int] = field(default_factory=dict)  # acted-on matches (status "match")
    bank_matches_by_status: dict[str, int] = field(default_factory=dict)
    # Removal orders and complaints (basira.compliance.repository); `*_available` False when those tables are absent.
    orders_available: bool = False
    orders_received: int = 0
    orders_by_status: dict[str, int] = field(default_factory=dict)
    orders_by_authority: dict[str, int] = field(default_factory=dict)
    orders_unconfirmed: int = 0  # marked executed, but a removal not (yet) acknowledged by the platform
    order_execute_seconds: list[float] = field(default_factory=list)  # orders received in the period, executed
    complaints_available: bool = False
    complaints_received: int = 0
    complaints_by_outcome: dict[str, int] = field(default_factory=dict)
    complaints_reinstated: int = 0
    complaint_decide_seconds: list[float] = field(default_factory=list)
    reason_titles: dict[str, str] = field(default_factory=dict)


def _in(col: Any, start: datetime, end: datetime) -> Any:
    return sa.and_(col >= start, col < end)


def _removal_acknowledged() -> Any:
    """SQL: the action sink answered 2xx to this decision's `remove` action. Removed means that; without a sink
    (or before its answer) the removal is recorded, not confirmed: nothing may have been removed."""
    from basira.store.review_models import WebhookDelivery

    W = WebhookDelivery.__table__
    return sa.exists(sa.select(W.c.id).where(W.c.decision_id == D.c.id, W.c.action == "remove",
                                             W.c.status == "delivered"))


def _bank_matched(post_id_col: Any) -> Any:
    """Whether a post has an acted-on bank match (a recorded match with status "match")."""
    subject = sa.literal("post:") + sa.cast(post_id_col, sa.String)
    return sa.exists(sa.select(BM.c.id).where(BM.c.subject == subject, BM.c.status == "match"))


def _sources(subject_kind: str, detection_id: int | None, banked: bool, order: bool) -> list[str]:
    out = []
    if detection_id is not None:
        out.append("detector")
    if banked:
        out.append("hash_bank")
    if subject_kind in NETWORK_SUBJECT_KINDS:
        out.append("network")
    if order:
        out.append("removal_order")
    return out or ["other"]


def _sorted(c: Counter) -> dict[str, int]:
    return dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def gather_counts(store: Store, start: datetime, end: datetime) -> ReportCounts:
    """Count everything the transparency report shows for [start, end)."""
    from basira.review.policy import load_catalogue

    rc = ReportCounts(start=start, end=end)
    live = sa.and_(D.c.undone_at.is_(None), _in(D.c.decided_at, start, end))
    with store.read() as conn:
        rc.platforms = list(conn.execute(sa.select(PF.c.name).order_by(PF.c.name)).scalars())
        rc.decisions_by_action = _sorted(Counter(dict(conn.execute(
            sa.select(D.c.action, sa.func.count()).where(live, D.c.stage != "appeal").group_by(D.c.action)).all())))
        from_order = C.c.details["source"].as_string() == "removal_order"
        acked = _removal_acknowledged()
        rows = conn.execute(
            sa.select(D.c.reason_code, D.c.decided_at, D.c.stage, from_order.label("from_order"),
                      acked.label("confirmed"),
                      C.c.subject_kind, C.c.detection_id, P.c.lang,
                      DT.c.categories, sa.case((C.c.subject_kind == "post", _bank_matched(C.c.subject_id)),
                                               else_=sa.false()).label("banked"))
            .join(C, C.c.id == D.c.case_id)
            .outerjoin(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
            .outerjoin(DT, DT.c.id == C.c.detection_id)
            .where(live, D.c.stage != "appeal", D.c.action == "remove")
        ).all()
        reason, cat, lang, subj, src, day, stage = (Counter() for _ in range(7))
        for r in rows:
            stage[r.stage] += 1
            reason[r.reason_code] += 1
            cat.update(r.categories or ["unspecified"])
            lang[(r.lang or "und") if r.subject_kind == "post" else "account"] += 1
            subj[r.subject_kind] += 1
            src.update(_sources(r.subject_kind, r.detection_id, bool(r.banked),
                                r.stage == "order" or bool(r.from_order)))
            day[r.decided_at.strftime("%Y-%m-%d")] += 1
        rc.removals = len(rows)
        rc.removals_confirmed = sum(1 for r in rows if r.confirmed)
        rc.removals_by_reason, rc.removals_by_category = _sorted(reason), _sorted(cat)
        rc.removals_by_language, rc.removals_by_subject, rc.removals_by_source = _sorted(lang), _sorted(subj), _sorted(src)
        rc.removals_by_day = dict(sorted(day.items()))
        rc.removals_by_stage = _sorted(stage)

        rc.appeals_filed = conn.execute(sa.select(sa.func.count()).where(_in(AP.c.filed_at, start, end))).scalar_one()
        rc.appeal_decisions = _sorted(Counter(dict(conn.execute(
            sa.select(D.c.action, sa.func.count()).where(live, D.c.stage == "appeal").group_by(D.c.action)).all())))

        cases = conn.execute(
            sa.select(C.c.subject_kind, C.c.detection_id,
                      sa.case((C.c.subject_kind == "post", _bank_matched(C.c.subject_id)), else_=sa.false()),
                      from_order)
            .where(_in(C.c.opened_at, start, end))).all()
        rc.cases_opened = len(cases)
        rc.cases_by_source = _sorted(Counter(s for k, d, b, o in cases for s in _sources(k, d, bool(b), bool(o))))
        rc.posts_scored = conn.execute(sa.select(sa.func.count(sa.distinct(DT.c.post_id)))
                                       .where(_in(DT.c.created_at, start, end))).scalar_one()
        rc.posts_flagged = conn.execute(sa.select(sa.func.count(sa.distinct(DT.c.post_id))).where(
            _in(DT.c.created_at, start, end), DT.c.evidence["flagged"].as_boolean())).scalar_one()
        rc.bank_matches_by_status = _sorted(Counter(dict(conn.execute(
            sa.select(BM.c.status, sa.func.count()).where(_in(BM.c.matched_at, start, end))
            .group_by(BM.c.status)).all())))
        rc.bank_matches_by_bank = _sorted(Counter(dict(conn.execute(
            sa.select(B.c.name, sa.func.count()).select_from(BM).join(BI, BI.c.id == BM.c.item_id)
            .join(B, B.c.id == BI.c.bank_id).where(_in(BM.c.matched_at, start, end), BM.c.status == "match")
            .group_by(B.c.name)).all())))
    _orders_and_complaints(store, rc)
    cat_ = load_catalogue()
    rc.reason_titles = {code: (r.title if (r := cat_.get(code)) else _ORDER_TITLES.get(code, code))
                        for code in rc.removals_by_reason}
    return rc


def _order_targets(store: Store, order_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """{order id: its targets (outcome, executed_at, removed_at = when the platform acknowledged the removal)}."""
    from basira.store.compliance_models import RemovalOrderTarget
    from basira.store.review_models import WebhookDelivery

    T, W = RemovalOrderTarget.__table__, WebhookDelivery.__table__
    out: dict[int, list[dict[str, Any]]] = {}
    with store.read() as conn:
        for i in range(0, len(order_ids), 500):
            q = (sa.select(T.c.order_id, T.c.outcome, T.c.executed_at, W.c.delivered_at.label("removed_at"))
                 .outerjoin(W, W.c.id == T.c.delivery_id).where(T.c.order_id.in_(order_ids[i:i + 500])))
            for t in conn.execute(q):
                out.setdefault(t.order_id, []).append(t._asdict())
    return out


def _orders_and_complaints(store: Store, rc: ReportCounts) -> None:
    """Removal orders (received, by status and authority, time to execute) and complaints (by status,
    reinstated, time to decide) received in the period."""
    from basira.store.compliance_models import Complaint, RemovalOrder

    RO, CP = RemovalOrder.__table__, Complaint.__table__
    with store.read() as conn:
        orders = conn.execute(sa.select(RO.c.id, RO.c.status, RO.c.authority, RO.c.received_at)
                              .where(_in(RO.c.received_at, rc.start, rc.end))).all()
        complaints = conn.execute(sa.select(CP.c.status, CP.c.reinstated, CP.c.received_at, CP.c.decided_at)
                                  .where(_in(CP.c.received_at, rc.start, rc.end))).all()
    rc.orders_available = rc.complaints_available = True
    rc.orders_received = len(orders)
    rc.orders_by_status = _sorted(Counter(r.status for r in orders))
    rc.orders_by_authority = _sorted(Counter(r.authority or "unknown" for r in orders))
    # Executed means: every found target confirmed removed by the platform (the statement's removal_confirmed);
    # an order only recorded (no action sink) or still waiting for the acknowledgement is not executed.
    executed = [r for r in orders if r.status == "executed"]
    targets = _order_targets(store, [r.id for r in executed])
    seconds = []
    for r in executed:
        at = removal_confirmed_at(targets.get(r.id, []))
        if at is not None:
            seconds.append((at - r.received_at).total_seconds())
    rc.order_execute_seconds = sorted(seconds)
    rc.orders_unconfirmed = len(executed) - len(seconds)
    rc.complaints_received = len(complaints)
    rc.complaints_by_outcome = _sorted(Counter(r.status for r in complaints))
    rc.complaints_reinstated = sum(1 for r in complaints if r.reinstated)
    rc.complaint_decide_seconds = sorted(
        (r.decided_at - r.received_at).total_seconds() for r in complaints if r.decided_at is not None)


def statement_facts(store: Store, *, start: datetime | None = None, end: datetime | None = None,
                    decision_id: int | None = None) -> list[Any]:
    """The facts a statement of reasons needs, for the live removals decided in [start, end) — or for one
    decision (whatever its action; an undone decision comes back with action 'undone')."""
    from basira.compliance.statements import StatementFacts
    from basira.store.models import Account, Media

    A, M = Account.__table__, Media.__table__
    # Account, community and group cases are anchored on an account: the statement's "content" is that account,
    # dated by its creation (else its earliest stored post, else when Basira first saw it).
    AP, APF = P.alias("account_posts"), PF.alias("account_platform")
    first_post = sa.select(sa.func.min(AP.c.created_at)).where(AP.c.account_id == A.c.id).scalar_subquery()
    q = (sa.select(D.c.id, D.c.case_id, D.c.stage, D.c.action, D.c.reason_code, D.c.decided_at, D.c.undone_at,
                   C.c.subject_kind, C.c.subject_id, C.c.detection_id, C.c.details, P.c.external_id.label("post_ext"),
                   P.c.lang, P.c.created_at, sa.func.coalesce(PF.c.name, APF.c.name).label("platform"),
                   A.c.external_id.label("account_ext"),
                   sa.func.coalesce(A.c.created_at, first_post, A.c.first_seen_at).label("account_date"),
                   sa.case((C.c.subject_kind == "post", _bank_matched(C.c.subject_id)), else_=sa.false())
                   .label("banked"), _removal_acknowledged().label("confirmed"))
         .join(C, C.c.id == D.c.case_id)
         .outerjoin(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
         .outerjoin(PF, PF.c.id == P.c.platform_id)
         .outerjoin(A, sa.and_(C.c.subject_kind != "post", A.c.id == C.c.subject_id))
         .outerjoin(APF, APF.c.id == A.c.platform_id)
         .order_by(D.c.decided_at, D.c.id))
    if decision_id is not None:
        q = q.where(D.c.id == decision_id)
    else:
        q = q.where(D.c.undone_at.is_(None), D.c.action == "remove")
        if start is not None:
            q = q.where(D.c.decided_at >= start)
        if end is not None:
            q = q.where(D.c.decided_at < end)
    with store.read() as conn:
        rows = conn.execute(q).all()
        post_ids = [r.subject_id for r in rows if r.subject_kind == "post"]
        kinds: dict[int, list[str]] = {}
        for i in range(0, len(post_ids), 500):
            for pid, kind in conn.execute(sa.select(M.c.post_id, M.c.kind).where(M.c.post_id.in_(post_ids[i:i + 500]))
                                          .order_by(M.c.post_id, M.c.position)):
                kinds.setdefault(pid, []).append(kind or "")
    orders = _orders_of_decisions(store, [r.id for r in rows if r.stage == "order"])
    out = []
    for r in rows:
        post = r.subject_kind == "post"
        out.append(StatementFacts(
            decision_id=r.id, case_id=r.case_id, stage=r.stage,
            action="undone" if r.undone_at is not None else r.action, reason_code=r.reason_code,
            decided_at=r.decided_at, subject_kind=r.subject_kind, platform=r.platform,
            puid=r.post_ext if post else r.account_ext,
            content_date=utc(r.created_at) if post else utc(r.account_date),
            lang=r.lang if post else None, media_kinds=tuple(kinds.get(r.subject_id, ())) if post else (),
            detector=r.detection_id is not None, hash_bank=bool(r.banked),
            network=r.subject_kind in NETWORK_SUBJECT_KINDS, source=(r.details or {}).get("source"),
            order=orders.get(r.id), confirmed=bool(r.confirmed)))
    return out


def _orders_of_decisions(store: Store, decision_ids: list[int]) -> dict[int, dict[str, Any]]:
    """{decision id: the removal order it executed (authority, order_ref, legal_basis)}, when orders are stored."""
    if not decision_ids:
        return {}
    try:
        from basira.store.compliance_models import RemovalOrder, RemovalOrderTarget
    except ImportError:
        return {}
    o, t = RemovalOrder.__table__, RemovalOrderTarget.__table__
    if not sa.inspect(store.engine).has_table(t.name):
        return {}
    out: dict[int, dict[str, Any]] = {}
    with store.read() as conn:
        for i in range(0, len(decision_ids), 500):
            q = (sa.select(t.c.decision_id, o.c.authority, o.c.order_ref, o.c.legal_basis).join(o, o.c.id == t.c.order_id)
                 .where(t.c.decision_id.in_(decision_ids[i:i + 500])))
            for r in conn.execute(q):
                out[r.decision_id] = {"authority": r.authority, "order_ref": r.order_ref, "legal_basis": r.legal_basis}
    return out
