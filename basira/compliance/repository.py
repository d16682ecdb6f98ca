"""Repository functions of compliance with Regulation (EU) 2021/784: removal orders and their execution, deadline
alerts, notices to content providers, complaints, preservation and its purge. A writer takes the caller's `Tx`
(one unit of work: basira.compliance.service opens it, a DecisionEffects listener is handed the decision's) and
appends every state change to the hash-chained event log in it; readers take the store and return the records
of basira.compliance.records. The caller passes `now` (an injectable clock); the rules themselves are pure, in
basira.compliance.orders/.preservation.

Executing an order removes each target the way a reviewer's decision does: an `order`-stage `remove` decision on
a case (the open case of that post or account, or a new one with details.source = "removal_order"), and the
action webhook queued in webhook_deliveries, due at once (no undo window: the law's clock is running)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from basira.cases import events as case_events
from basira.cases.intake import Finding, submit
from basira.cases.priority import ORDER_PRIORITY
from basira.compliance import orders as rules
from basira.compliance import preservation as keep
from basira.compliance.records import (
    CloseResult,
    ComplaintDecision,
    ComplaintListItem,
    ComplaintView,
    Deadline,
    DueOrder,
    ExecutionResult,
    LegalHold,
    NoticeView,
    OrderAlertView,
    OrderSummary,
    OrderTargetView,
    OrderToAlert,
    OrderView,
    PreservedCopy,
    PreservedListItem,
    PreservedRecord,
    PreviewAccount,
    PreviewMedia,
    PreviewPost,
    StatementToSend,
    TargetPreview,
)
from basira.core.errors import BasiraError
from basira.core.time import iso
from basira.review.effects import Removal, RemovalDelivered
from basira.store.compliance_models import (
    Complaint,
    ContentNotice,
    OrderAlert,
    PreservedItem,
    RemovalOrder,
    RemovalOrderTarget,
)
from basira.store.db import Database, EventEntry, Tx
from basira.store.events import append as append_events
from basira.store.models import Account, Case, Detection, Media, Platform, Post
from basira.store.review_models import CaseClaim, Decision, User, WebhookDelivery
from basira.store.subjects import subject_ids

RO, T, AL = RemovalOrder.__table__, RemovalOrderTarget.__table__, OrderAlert.__table__
N, CP, PI = ContentNotice.__table__, Complaint.__table__, PreservedItem.__table__
P, A, PF, M, DT = Post.__table__, Account.__table__, Platform.__table__, Media.__table__, Detection.__table__
C, D, W, CL, U = Case.__table__, Decision.__table__, WebhookDelivery.__table__, CaseClaim.__table__, User.__table__

# Outcomes whose removal decision the order made (a complaint can be about it; reinstating undoes it).
REMOVAL_OUTCOMES = ("removed", "sent", "recorded")
STALE_SENDING = timedelta(minutes=2)  # an alert "sending" this long had its sender die: send it again
# webhook(decision_id, platform action, facts) -> (url, idempotency key, payload) or None (no webhook configured)
Webhook = Callable[[int, str, dict[str, Any]], "tuple[str, str, dict[str, Any]] | None"]
# on_error(item, exception): told about one row that failed, so a sweep can go on with the others
OnError = Callable[[str, BaseException], None]


def _awaiting_ack(statement: dict[str, Any] | None) -> bool:
    """A statement with removals sent but not yet acknowledged is not final: it goes out once they are."""
    return any(i.get("outcome") == "sent" for i in (statement or {}).get("items", ()))


class ComplianceError(BasiraError):
    """A request refused. `kind` maps to an HTTP status: not_found, conflict, invalid, forbidden."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Executor:
    """Who executes: a user of the review app (the removal decisions are theirs)."""

    user_id: int
    username: str


class ComplianceRepo:
    def __init__(self, store: Database) -> None:
        self.store = store

    def _events(self, conn: Connection, *entries: EventEntry) -> None:
        append_events(conn, list(entries))

    # --- intake -----------------------------------------------------------------------------------------------

    def add_orders(self, tx: Tx, items: Sequence[rules.OrderInput], source: str, created_by: str | None,
                   now: datetime) -> tuple[list[int], list[str]]:
        """Store checked orders in one transaction; return (ids stored, references already on file). An order
        already received (same authority and reference) is not stored twice."""
        if source not in rules.SOURCES:
            raise ComplianceError("invalid", f"source must be one of {rules.SOURCES}")
        ids, dupes = [], []
        conn = tx.conn
        for o in items:
            received = o.received_at or now
            try:
                with conn.begin_nested():
                    oid = conn.execute(sa.insert(RO).values(
                        authority=o.authority, order_ref=o.order_ref, legal_basis=o.legal_basis,
                        reasons=o.reasons, reason_code=o.reason_code, contact=o.contact, source=source,
                        created_by=(created_by or "")[:256] or None, received_at=received,
                        deadline_at=rules.deadline(received), status="open",
                        details={**o.details, **({"notice_withheld_until": iso(o.notice_withheld_until)}
                                                 if o.notice_withheld_until else {})},
                    ).returning(RO.c.id)).scalar_one()
            except IntegrityError:
                dupes.append(f"{o.authority} {o.order_ref}")
                continue
            for target in o.targets:
                kind, post_id, account_id = self._resolve(conn, target)
                conn.execute(sa.insert(T).values(order_id=oid, target=target, kind=kind, post_id=post_id,
                                                 account_id=account_id, outcome="pending"))
            self._events(conn, ("order.received", created_by, f"order:{oid}", {
                "authority": o.authority, "order_ref": o.order_ref, "source": source,
                "received_at": iso(received), "deadline_at": iso(rules.deadline(received)),
                "targets": list(o.targets)}))
            ids.append(oid)
        return ids, dupes

    def _resolve(self, conn: Connection, target: str) -> tuple[str, int | None, int | None]:
        """(kind, post id, account id) for a target; kind 'unknown' with no ids when nothing matches."""
        ref = rules.parse_target(target)
        if ref.kind in ("post", "account"):
            t = P if ref.kind == "post" else A
            rid = conn.execute(sa.select(t.c.id).join(PF, PF.c.id == t.c.platform_id)
                               .where(PF.c.name == ref.platform, t.c.external_id == ref.external_id)).scalar()
            if rid is None:
                return ref.kind, None, None
            return (ref.kind, rid, None) if ref.kind == "post" else (ref.kind, None, rid)
        host, segs = rules.url_candidates(ref.url or "")
        pid = conn.execute(sa.select(M.c.post_id).where(M.c.url == ref.url).limit(1)).scalar()
        if pid is not None:
            return "post", pid, None
        labels = set((host or "").lower().split("."))  # x.com → platform "x"; no match: any platform
        platforms = [r.id for r in conn.execute(sa.select(PF.c.id, PF.c.name)) if r.name.lower() in labels]
        for seg in segs[:3]:
            q = sa.select(P.c.id).where(P.c.external_id == seg)
            if platforms:
                q = q.where(P.c.platform_id.in_(platforms))
            rows = conn.execute(q.limit(2)).scalars().all()
            if len(rows) == 1:
                return "post", rows[0], None
        for seg in segs[:2]:
            q = sa.select(A.c.id).where(A.c.handle == seg.lstrip("@"))
            if platforms:
                q = q.where(A.c.platform_id.in_(platforms))
            rows = conn.execute(q.limit(2)).scalars().all()
            if len(rows) == 1:
                return "account", None, rows[0]
        return "unknown", None, None

    # --- reading ----------------------------------------------------------------------------------------------

    def list_orders(self, now: datetime, status: str | None = None, limit: int = 200) -> list[OrderSummary]:
        """Orders with their target counts and deadline state at `now`."""
        n_targets = sa.select(sa.func.count()).where(T.c.order_id == RO.c.id).scalar_subquery()
        n_found = (sa.select(sa.func.count())
                   .where(T.c.order_id == RO.c.id, sa.or_(T.c.post_id.is_not(None), T.c.account_id.is_not(None)))
                   .scalar_subquery())
        q = sa.select(RO, n_targets.label("target_count"), n_found.label("found_count"))
        if status:
            q = q.where(RO.c.status == status)
        # Open orders: most urgent first; the rest: newest first.
        q = q.order_by(sa.case((RO.c.status == "open", 0), else_=1), sa.case((RO.c.status == "open", RO.c.deadline_at)),
                       RO.c.received_at.desc(), RO.c.id.desc()).limit(limit)
        with self.store.read() as conn:
            return [OrderSummary.from_row(r._mapping, **_deadline(r.deadline_at, r.status, now))
                    for r in conn.execute(q)]

    def order(self, order_id: int, now: datetime) -> OrderView | None:
        """An order with its targets, alerts, notices, complaints and preserved items, its deadline state at `now`."""
        with self.store.read() as conn:
            r = conn.execute(sa.select(RO).where(RO.c.id == order_id)).first()
            if r is None:
                return None
            targets = [OrderTargetView.from_row(t._mapping) for t in conn.execute(
                sa.select(T).where(T.c.order_id == order_id).order_by(T.c.id))]
            return OrderView.from_row(
                r._mapping, targets=targets, target_count=len(targets),
                found_count=sum(t.post_id is not None or t.account_id is not None for t in targets),
                alerts=[OrderAlertView.from_row(a._mapping) for a in conn.execute(
                    sa.select(AL).where(AL.c.order_id == order_id).order_by(AL.c.id))],
                notices=self._notices(conn, N.c.order_id == order_id),
                complaints=[ComplaintView.from_row(c._mapping) for c in conn.execute(
                    sa.select(CP).where(CP.c.order_id == order_id).order_by(CP.c.id))],
                preserved=[PreservedRecord.from_row(p._mapping) for p in conn.execute(
                    sa.select(*(PI.c[k] for k in keep.MINIMAL_FIELDS)).where(PI.c.order_id == order_id)
                    .order_by(PI.c.id))],
                **_deadline(r.deadline_at, r.status, now))

    def target_previews(self, order_id: int, text_limit: int = 2000) -> list[TargetPreview]:
        """What executing the order would act on, per target: the post (text, media, account) or the account, found
        now (content ingested since the order came in included). For the confirmation step; reads only."""
        out = []
        with self.store.read() as conn:
            for t in conn.execute(sa.select(T).where(T.c.order_id == order_id).order_by(T.c.id)):
                kind, post_id, account_id = t.kind, t.post_id, t.account_id
                if post_id is None and account_id is None:
                    kind, post_id, account_id = self._resolve(conn, t.target)
                post, account, media = None, None, []
                aid = account_id
                if post_id is not None:
                    p = conn.execute(sa.select(P.c.external_id, P.c.text, P.c.lang, P.c.created_at, P.c.account_id,
                                               PF.c.name.label("platform")).join(PF, PF.c.id == P.c.platform_id)
                                     .where(P.c.id == post_id)).first()
                    if p is not None:
                        post = PreviewPost.from_row(p._mapping, text=p.text[:text_limit],
                                                    cut=len(p.text) > text_limit)
                        aid = p.account_id
                        media = [PreviewMedia.from_row(m._mapping) for m in conn.execute(
                            sa.select(M.c.url, M.c.kind).where(M.c.post_id == post_id).order_by(M.c.position))]
                if aid is not None:
                    a = conn.execute(sa.select(A.c.handle, A.c.display_name, A.c.external_id, A.c.status)
                                     .where(A.c.id == aid)).first()
                    account = PreviewAccount.from_row(a._mapping) if a else None
                out.append(TargetPreview.from_row(t._mapping, kind=kind, post_id=post_id, account_id=account_id,
                                                  post=post, account=account, media=media))
        return out

    def _notices(self, conn: Connection, *where: sa.ColumnElement[bool]) -> list[NoticeView]:
        q = (sa.select(N, W.c.status.label("delivery_status"), W.c.delivered_at.label("webhook_delivered_at"))
             .outerjoin(W, W.c.id == N.c.delivery_id).where(*where).order_by(N.c.id))
        return [NoticeView.from_row(r._mapping, delivered_at=r.delivered_at or r.webhook_delivered_at)
                for r in conn.execute(q)]

    def notices(self, post_id: int | None = None, limit: int = 200) -> list[NoticeView]:
        with self.store.read() as conn:
            return self._notices(conn, *([N.c.post_id == post_id] if post_id is not None else []))[-limit:]

    # --- execution ----------------------------------------------------------------------------------------------

    def _locked(self, conn: Connection, table: sa.Table, row_id: int, what: str) -> Any:
        """The row, locked against concurrent writers until the transaction ends (PostgreSQL; SQLite's writes
        are serialized already)."""
        q = sa.select(table).where(table.c.id == row_id)
        if self.store.dialect == "postgresql":
            q = q.with_for_update()
        r = conn.execute(q).first()
        if r is None:
            raise ComplianceError("not_found", f"no {what} {row_id}")
        return r

    def _lock_order(self, conn: Connection, order_id: int) -> Any:
        return self._locked(conn, RO, order_id, "removal order")

    def execute(self, tx: Tx, order_id: int, who: Executor, now: datetime, webhook: Webhook | None,
                method: str | None = None) -> ExecutionResult:
        """Execute an open order: remove every target found (decision + action webhook), preserve it, queue the
        notice to its provider, and store the statement back to the authority. Targets not found are reported
        as such in the statement; an order none of whose targets is found cannot be executed (reject it)."""
        conn = tx.conn
        o = self._lock_order(conn, order_id)
        if o.status != "open":
            raise ComplianceError("conflict", f"removal order {order_id} is {o.status}, not open")
        targets = [t._asdict() for t in conn.execute(sa.select(T).where(T.c.order_id == order_id)
                                                     .order_by(T.c.id))]
        for t in targets:  # content ingested since the order came in is found now
            if t["post_id"] is None and t["account_id"] is None:
                t["kind"], t["post_id"], t["account_id"] = self._resolve(conn, t["target"])
        found = [t for t in targets if t["post_id"] is not None or t["account_id"] is not None]
        if not found:
            raise ComplianceError("conflict", "none of the order's targets is on the service; reject the order "
                                  "with the reason (art. 3(7)/(8)) instead")
        order = o._asdict()
        withheld = order["details"].get("notice_withheld_until")
        withheld_at = rules.parse_time(withheld, "notice_withheld_until") if withheld else None
        done: dict[tuple[str, int], dict[str, Any]] = {}
        for t in targets:
            if t["post_id"] is None and t["account_id"] is None:
                conn.execute(sa.update(T).where(T.c.id == t["id"]).values(kind="unknown", outcome="not_found",
                                                                          executed_at=now))
                continue
            kind, sid = ("post", t["post_id"]) if t["post_id"] is not None else ("account", t["account_id"])
            if (kind, sid) not in done:  # one item named twice (URL and id) is removed once
                done[(kind, sid)] = self._prior_or_remove(tx, order, kind, sid, who, now, webhook, withheld_at)
            r = done[(kind, sid)]
            conn.execute(sa.update(T).where(T.c.id == t["id"]).values(
                kind=kind, post_id=t["post_id"], account_id=t["account_id"], case_id=r["case_id"],
                decision_id=r["decision_id"], delivery_id=r["delivery_id"], outcome=r["outcome"],
                executed_at=now))
        n = Counter(r["outcome"] for r in done.values())
        how = method or rules.execution_method(n["sent"], n["recorded"])  # a code, said in words where read
        order.update(status="executed", executed_at=now, executed_by=who.username, execution_method=how)
        targets = self._statement_targets(conn, order_id)
        st = rules.statement(order, targets, now)
        conn.execute(sa.update(RO).where(RO.c.id == order_id).values(
            status="executed", executed_at=now, executed_by=who.username, execution_method=how, statement=st))
        self._events(conn, ("order.executed", who.username, f"order:{order_id}", {
            "sent": n["sent"], "recorded": n["recorded"], "already_removed": n["already_removed"],
            "not_found": sum(t["outcome"] == "not_found" for t in targets),
            "actioned_at": iso(now), "removal_confirmed": st["removal_confirmed"], "method": how}))
        return ExecutionResult(order_id, "executed", n["sent"], n["recorded"], n["already_removed"],
                               st["removal_confirmed"], st)

    def _statement_targets(self, conn: Connection, order_id: int) -> list[dict[str, Any]]:
        """An order's targets with `removed_at`: when the platform acknowledged the removal webhook."""
        q = (sa.select(T, W.c.delivered_at.label("removed_at")).outerjoin(W, W.c.id == T.c.delivery_id)
             .where(T.c.order_id == order_id).order_by(T.c.id))
        return [r._asdict() for r in conn.execute(q)]

    def _prior_or_remove(self, tx: Tx, order: dict[str, Any], kind: str, sid: int, who: Executor,
                         now: datetime, webhook: Webhook | None, withheld_at: datetime | None) -> dict[str, Any]:
        """Remove one found item for the order, unless a reviewer's removal already stands. A prior removal counts
        as `already_removed` only once the platform acknowledged it; one still being delivered is `sent` (the order
        waits on that delivery); one never sent is sent now (or `recorded`, with no action sink)."""
        conn = tx.conn
        prior = self._prior_removal(conn, kind, sid, now)
        if prior is not None:
            dl = conn.execute(sa.select(W.c.id, W.c.status).where(W.c.decision_id == prior.id, W.c.action == "remove")
                              .order_by(W.c.id.desc())).first()
            base = {"case_id": prior.case_id, "decision_id": prior.id, "delivery_id": dl.id if dl else None}
            outcome = ("already_removed" if dl is not None and dl.status == "delivered"
                       else "sent" if dl is not None and dl.status != "failed"
                       else None)
            if outcome is None and webhook is None:
                outcome = "recorded"
            if outcome is not None:
                self._preserve(conn, kind, sid, now, reason="removal_order", case_id=prior.case_id,
                               order_id=order["id"], actor=who.username)
                return {**base, "outcome": outcome}
            if dl is None and webhook is not None:  # never sent to the platform: send it now, under the reviewer's decision
                facts = {"case_id": prior.case_id, "decision_id": prior.id, "stage": "order", "action": "remove",
                         "reason_code": order["reason_code"], "platform_action": "remove",
                         "final_at": iso(now), **subject_ids(conn, kind, sid)}
                base["delivery_id"] = self._enqueue(conn, prior.case_id, prior.id, "remove", facts, webhook, now)
                self._preserve(conn, kind, sid, now, reason="removal_order", case_id=prior.case_id,
                               order_id=order["id"], actor=who.username)
                return {**base, "outcome": "sent"}
        r = self._remove(tx, order, kind, sid, who, now, webhook, withheld_at)
        return {**r, "outcome": "sent" if r["delivery_id"] is not None else "recorded"}

    def confirm_removals(self, tx: Tx, delivery_id: int, now: datetime) -> None:
        """The platform acknowledged a removal webhook: order targets waiting on it become `removed`, and each
        order's statement is prepared again (it now states the time of execution once all are confirmed)."""
        conn = tx.conn
        orders = sorted(set(conn.execute(sa.select(T.c.order_id).where(
            T.c.delivery_id == delivery_id, T.c.outcome == "sent")).scalars()))
        if not orders:
            return
        conn.execute(sa.update(T).where(T.c.delivery_id == delivery_id, T.c.outcome == "sent")
                     .values(outcome="removed"))
        for oid in orders:
            o = conn.execute(sa.select(RO).where(RO.c.id == oid)).one()._asdict()
            st = rules.statement(o, self._statement_targets(conn, oid), now)
            conn.execute(sa.update(RO).where(RO.c.id == oid).values(statement=st))
            self._events(conn, ("order.removal_confirmed", "basira", f"order:{oid}", {
                "delivery_id": delivery_id, "all_confirmed": st["removal_confirmed"],
                "executed_at": st["executed_at"], "within_deadline": st["within_deadline"]}))

    def _prior_removal(self, conn: Connection, kind: str, sid: int, now: datetime) -> Any:
        """The final, unreversed removal decision already taken on this item, if any (the newest)."""
        rows = conn.execute(sa.select(D.c.id, D.c.case_id, D.c.final_at).join(C, C.c.id == D.c.case_id).where(
            C.c.subject_kind == kind, C.c.subject_id == sid, D.c.action == "remove", D.c.undone_at.is_(None),
            D.c.final_at <= now).order_by(D.c.id.desc())).all()
        post_id = sid if kind == "post" else None
        for r in rows:
            if self._still_removed(conn, {"decision_id": r.id, "case_id": r.case_id, "order_id": None,
                                          "post_id": post_id}):
                return r
        return None

    def _remove(self, tx: Tx, order: dict[str, Any], kind: str, sid: int, who: Executor, now: datetime,
                webhook: Webhook | None, withheld_at: datetime | None) -> dict[str, Any]:
        conn = tx.conn
        case = conn.execute(sa.select(C.c.id, C.c.status).where(
            C.c.subject_kind == kind, C.c.subject_id == sid, C.c.closed_at.is_(None))).first()
        oid = order["id"]
        # A case already open on it (e.g. the detector's) records the order too; its own source, if any, stays.
        got = submit(tx, [Finding(
            (kind, sid), "order", f"removal order {order['order_ref']} ({order['authority']})",
            priority=ORDER_PRIORITY, details={"source": "removal_order", "order_id": oid}, ref=f"order:{oid}",
            raises=True, append_reason=False, raise_priority=False,
            merge=lambda old: {"source": "removal_order", **old, "order_id": oid})], who.username, at=now, lookup=True)
        cid, prev = got.cases[(kind, sid)], ("open" if case is None else case.status)
        try:
            with conn.begin_nested():
                did = conn.execute(sa.insert(D).values(
                    case_id=cid, stage="order", action="remove", reason_code=order["reason_code"],
                    note=f"removal order {order['order_ref']} from {order['authority']}", user_id=who.user_id,
                    decided_at=now, final_at=now, prev_status=prev).returning(D.c.id)).scalar_one()
        except IntegrityError:
            raise ComplianceError("conflict", f"case {cid} already has a live order decision") from None
        conn.execute(sa.update(C).where(C.c.id == cid).values(status="decided", closed_at=now))
        conn.execute(sa.delete(CL).where(CL.c.case_id == cid))
        self._events(conn, case_events.decided(cid, did, "order", "remove", order["reason_code"], who.username,
                                               now, prev, "decided", order_id=order["id"]))
        ids = subject_ids(conn, kind, sid)
        delivery_id = notice_delivery = None
        if webhook is not None:
            facts = {"case_id": cid, "decision_id": did, "stage": "order", "action": "remove",
                     "reason_code": order["reason_code"], "decided_by": who.username, "final_at": iso(now),
                     "platform_action": "remove", "removal_order": {
                         "authority": order["authority"], "order_ref": order["order_ref"],
                         "legal_basis": order["legal_basis"], "deadline_at": iso(order["deadline_at"])},
                     **ids}
            delivery_id = self._enqueue(conn, cid, did, "remove", facts, webhook, now)
        body = rules.content_notice(order, ids, reasons=order["reasons"], legal_basis=order["legal_basis"], now=now)
        if webhook is not None:
            notice_delivery = self._enqueue(conn, cid, did, "notify", {"case_id": cid, "decision_id": did,
                                                                      "notice": body, **ids},
                                            webhook, withheld_at if withheld_at and withheld_at > now else now)
        self._add_notice(conn, kind, sid, ids, body, now, order_id=order["id"], delivery_id=notice_delivery,
                         withheld_until=withheld_at)
        self._preserve(conn, kind, sid, now, reason="removal_order", case_id=cid, order_id=order["id"],
                       decision_id=did, actor=who.username)
        return {"case_id": cid, "decision_id": did, "delivery_id": delivery_id}

    def _enqueue(self, conn: Connection, case_id: int, decision_id: int, action: str, facts: dict[str, Any],
                 webhook: Webhook, due: datetime) -> int | None:
        out = webhook(decision_id, action, facts)
        if out is None:
            return None
        url, key, payload = out
        return int(conn.execute(sa.insert(W).values(
            case_id=case_id, decision_id=decision_id, idempotency_key=key, url=url, action=action, payload=payload,
            status="pending", attempts=0, next_attempt_at=due, created_at=due).returning(W.c.id)).scalar_one())

    def _add_notice(self, conn: Connection, kind: str, sid: int, ids: dict[str, Any], body: dict[str, Any],
                    now: datetime, *, order_id: int | None = None, decision_id: int | None = None,
                    delivery_id: int | None = None, withheld_until: datetime | None = None) -> int:
        post_id = sid if kind == "post" else None
        account_id = sid if kind == "account" else conn.execute(
            sa.select(P.c.account_id).where(P.c.id == sid)).scalar()
        nid = conn.execute(sa.insert(N).values(
            post_id=post_id, account_id=account_id, platform=ids.get("platform"),
            external_post_id=ids.get("post_id"), external_account_id=ids.get("account_id"), order_id=order_id,
            decision_id=decision_id, reasons=body["reasons"], legal_basis=body["legal_basis"], redress=body["redress"],
            body=body, created_at=now, withheld_until=withheld_until, delivery_id=delivery_id,
        ).returning(N.c.id)).scalar_one()
        assert isinstance(nid, int)
        self._events(conn, ("notice.created", "basira", f"{kind}:{sid}", {
            "notice_id": nid, "order_id": order_id, "decision_id": decision_id,
            "withheld_until": iso(withheld_until), "queued": delivery_id is not None}))
        return nid

    def reject(self, tx: Tx, order_id: int, status: str, reason: str, actor: str, now: datetime) -> CloseResult:
        """Close an open order without executing it: `rejected` (it cannot be executed — manifest errors,
        factual impossibility: art. 3(7)/(8)) or `withdrawn` (the authority withdrew it). Needs a reason."""
        if status not in ("rejected", "withdrawn"):
            raise ComplianceError("invalid", "status must be rejected or withdrawn")
        if not (reason or "").strip():
            raise ComplianceError("invalid", "a reason is required")
        conn = tx.conn
        o = self._lock_order(conn, order_id)
        if o.status != "open":
            raise ComplianceError("conflict", f"removal order {order_id} is {o.status}, not open")
        order = {**o._asdict(), "status": status, "status_reason": reason.strip()}
        targets = [t._asdict() for t in conn.execute(sa.select(T).where(T.c.order_id == order_id)
                                                     .order_by(T.c.id))]
        st = rules.statement(order, targets, now) if status == "rejected" else None
        conn.execute(sa.update(RO).where(RO.c.id == order_id).values(status=status, status_reason=reason.strip(),
                                                                   statement=st))
        self._events(conn, (f"order.{status}", actor, f"order:{order_id}", {"reason": reason.strip()}))
        return CloseResult(order_id, status, st)

    def mark_statement_sent(self, tx: Tx, order_id: int, actor: str, now: datetime, channel: str) -> bool:
        conn = tx.conn
        n = conn.execute(sa.update(RO).where(RO.c.id == order_id, RO.c.statement.is_not(None),
                                            RO.c.statement_sent_at.is_(None))
                         .values(statement_sent_at=now)).rowcount
        if n:
            self._events(conn, ("order.statement_sent", actor, f"order:{order_id}",
                                {"channel": channel, "at": iso(now)}))
        return bool(n)

    def statements_to_send(self) -> list[StatementToSend]:
        with self.store.read() as conn:
            return [StatementToSend.from_row(r._mapping) for r in conn.execute(
                sa.select(RO.c.id, RO.c.authority, RO.c.order_ref, RO.c.contact, RO.c.statement)
                .where(RO.c.statement.is_not(None), RO.c.statement_sent_at.is_(None), RO.c.contact.is_not(None))
                .order_by(RO.c.id)) if not _awaiting_ack(r.statement)]

    def due_orders(self, now: datetime, within: timedelta, limit: int = 5) -> list[DueOrder]:
        """Open orders whose deadline is within `within` of now or past, most urgent first (the banner on every page)."""
        with self.store.read() as conn:
            return [DueOrder.from_row(r._mapping, **_deadline(r.deadline_at, "open", now)) for r in conn.execute(
                sa.select(RO.c.id, RO.c.authority, RO.c.order_ref, RO.c.deadline_at)
                .where(RO.c.status == "open", RO.c.deadline_at <= now + within)
                .order_by(RO.c.deadline_at, RO.c.id).limit(limit))]

    # --- deadline alerts ----------------------------------------------------------------------------------------

    def open_orders(self, now: datetime) -> list[OrderToAlert]:
        """Open orders with the thresholds already handled, per channel. An alert whose send started more than
        STALE_SENDING ago without an outcome (the sender died) counts as not handled."""
        with self.store.read() as conn:
            rows = conn.execute(
                sa.select(RO.c.id, RO.c.authority, RO.c.order_ref, RO.c.received_at, RO.c.deadline_at,
                          sa.select(sa.func.count()).where(T.c.order_id == RO.c.id).scalar_subquery()
                          .label("target_count"))
                .where(RO.c.status == "open").order_by(RO.c.deadline_at)).all()
            done: dict[int, dict[str, set[int]]] = {}
            if rows:
                handled = sa.or_(AL.c.status.in_(("sent", "skipped")),
                                 sa.and_(AL.c.status == "sending", AL.c.sent_at > now - STALE_SENDING))
                for a in conn.execute(sa.select(AL.c.order_id, AL.c.channel, AL.c.threshold_minutes)
                                      .where(AL.c.order_id.in_([r.id for r in rows]), handled)):
                    done.setdefault(a.order_id, {}).setdefault(a.channel, set()).add(a.threshold_minutes)
        return [OrderToAlert.from_row(r._mapping, alerts_done={ch: frozenset(ts) for ch, ts in done.get(r.id, {}).items()})
                for r in rows]

    def claim_alert(self, tx: Tx, order_id: int, threshold: int, channel: str, now: datetime,
                    status: str = "sending") -> int | None:
        """Take an alert (or mark it skipped); None when another sender has it. While `sending`, sent_at is when
        the attempt started. Taken again: a failed alert with fewer than 5 attempts, or a stale `sending` one."""
        started = now if status == "sending" else None
        conn = tx.conn
        try:
            with conn.begin_nested():
                return int(conn.execute(sa.insert(AL).values(
                    order_id=order_id, threshold_minutes=threshold, channel=channel, status=status, attempts=0,
                    sent_at=started).returning(AL.c.id)).scalar_one())
        except IntegrityError:
            pass
        retry = sa.or_(sa.and_(AL.c.status == "failed", AL.c.attempts < 5),
                       sa.and_(AL.c.status == "sending", AL.c.sent_at <= now - STALE_SENDING))
        r = conn.execute(sa.update(AL).where(
            AL.c.order_id == order_id, AL.c.threshold_minutes == threshold, AL.c.channel == channel, retry,
        ).values(status=status, sent_at=started).returning(AL.c.id)).first()
        return r.id if r else None

    def record_alert(self, tx: Tx, alert_id: int, ok: bool, error: str | None, now: datetime) -> None:
        conn = tx.conn
        r = conn.execute(sa.update(AL).where(AL.c.id == alert_id).values(
            status="sent" if ok else "failed", attempts=AL.c.attempts + 1, last_error=error,
            sent_at=now if ok else None).returning(AL.c.order_id, AL.c.threshold_minutes, AL.c.channel)).one()
        self._events(conn, ("order.alert_sent" if ok else "order.alert_failed", "basira", f"order:{r.order_id}",
                            {"threshold_minutes": r.threshold_minutes, "channel": r.channel, "error": error}))

    # --- preservation -------------------------------------------------------------------------------------------

    def _snapshot(self, conn: Connection, kind: str, sid: int, case_id: int | None) -> dict[str, Any]:
        """The removed content and related data (art. 6(1)): the post (text, links, media) or the account, the
        author, the detections, and the case."""
        snap: dict[str, Any] = {"kind": kind}
        account_id = sid if kind == "account" else None
        if kind == "post":
            p = conn.execute(sa.select(P, PF.c.name.label("platform")).join(PF, PF.c.id == P.c.platform_id)
                             .where(P.c.id == sid)).first()
            if p is not None:
                snap["post"] = _jsonable(p._asdict())
                snap["media"] = [_jsonable(m._asdict()) for m in conn.execute(
                    sa.select(M.c.position, M.c.url, M.c.kind, M.c.sha256, M.c.pdq, M.c.md5).where(M.c.post_id == sid)
                    .order_by(M.c.position))]
                snap["detections"] = [_jsonable(d._asdict()) for d in conn.execute(
                    sa.select(DT.c.model_version, DT.c.score, DT.c.categories, DT.c.evidence, DT.c.created_at)
                    .where(DT.c.post_id == sid).order_by(DT.c.id))]
                account_id = p.account_id
        if account_id is not None:
            a = conn.execute(sa.select(A, PF.c.name.label("platform")).join(PF, PF.c.id == A.c.platform_id)
                             .where(A.c.id == account_id)).first()
            snap["account"] = _jsonable(a._asdict()) if a else None
        if case_id is not None:
            c = conn.execute(sa.select(C.c.id, C.c.reason, C.c.details, C.c.opened_at).where(C.c.id == case_id)).first()
            snap["case"] = _jsonable(c._asdict()) if c else None
        return snap

    def _preserve(self, conn: Connection, kind: str, sid: int, now: datetime, *, reason: str, case_id: int | None,
                  order_id: int | None = None, decision_id: int | None = None, actor: str | None = None) -> int:
        snap = self._snapshot(conn, kind, sid, case_id)
        src = snap.get("post") or snap.get("account") or {}
        pid = conn.execute(sa.insert(PI).values(
            post_id=sid if kind == "post" else None,
            account_id=sid if kind == "account" else (src.get("account_id")),
            platform=src.get("platform"), external_id=src.get("external_id"), case_id=case_id, order_id=order_id,
            decision_id=decision_id, reason=reason, legal_basis=keep.LEGAL_BASIS, preserved_at=now,
            preserve_until=keep.preserve_until(now), content=snap, content_sha256=keep.content_hash(snap),
        ).returning(PI.c.id)).scalar_one()
        assert isinstance(pid, int)
        self._events(conn, ("preservation.created", actor, f"preserved:{pid}", {
            "subject": f"{kind}:{sid}", "reason": reason, "order_id": order_id, "decision_id": decision_id,
            "preserve_until": iso(keep.preserve_until(now)), "content_sha256": keep.content_hash(snap)}))
        return pid

    def preserve_decision(self, tx: Tx, case_id: int, decision_id: int, now: datetime, actor: str | None = None) -> int | None:
        """Preserve what a reviewer's `remove` decision removed, and record the notice to its provider (art. 11).
        Idempotent per decision."""
        conn = tx.conn
        # The decision row locked first: a second writer (the request path and the compliance loop) waits
        # here, then sees the first one's copy. The unique index on decision_id is the backstop.
        q = sa.select(D.c.action, D.c.reason_code, D.c.id).where(D.c.id == decision_id)
        d = conn.execute(q.with_for_update() if tx.dialect == "postgresql" else q).first()
        if conn.execute(sa.select(PI.c.id).where(PI.c.decision_id == decision_id)).first() is not None:
            return None
        c = conn.execute(sa.select(C.c.subject_kind, C.c.subject_id).where(C.c.id == case_id)).first()
        if d is None or c is None or d.action != "remove":
            return None
        try:
            with conn.begin_nested():
                pid = self._preserve(conn, c.subject_kind, c.subject_id, now, reason="decision",
                                     case_id=case_id, decision_id=decision_id, actor=actor)
        except IntegrityError:  # another writer preserved it between our check and our insert
            if conn.execute(sa.select(PI.c.id).where(PI.c.decision_id == decision_id)).first() is None:
                raise
            return None
        ids = subject_ids(conn, c.subject_kind, c.subject_id)
        body = rules.content_notice(None, ids, reasons=f"Removed under the service's terms: {d.reason_code}",
                                    legal_basis="Terms of service; Regulation (EU) 2021/784, art. 5", now=now,
                                    decision=d._asdict())
        delivery = conn.execute(sa.select(W.c.id).where(W.c.decision_id == decision_id, W.c.action == "remove")
                                ).scalar()
        self._add_notice(conn, c.subject_kind, c.subject_id, ids, body, now, decision_id=decision_id,
                         delivery_id=delivery)
        return pid

    def unpreserved_removals(self, limit: int = 500) -> list[tuple[int, int]]:
        """(decision id, case id) of live reviewer removals with no preserved copy, oldest first."""
        has_copy = sa.select(PI.c.id).where(PI.c.decision_id == D.c.id).exists()
        with self.store.read() as conn:
            return [(r.id, r.case_id) for r in conn.execute(
                sa.select(D.c.id, D.c.case_id)
                .where(D.c.action == "remove", D.c.undone_at.is_(None), D.c.stage.in_(("review", "escalation")),
                       ~has_copy)
                .order_by(D.c.id).limit(limit))]

    def preserved(self, *, include_purged: bool = True, limit: int = 500) -> list[PreservedListItem]:
        """Preserved items without their content (minimal record plus legal hold)."""
        cols = [PI.c[k] for k in keep.MINIMAL_FIELDS] + [PI.c.legal_hold_reason]
        q = sa.select(*cols, PI.c.content.is_not(None).label("has_content")).order_by(PI.c.id.desc()).limit(limit)
        if not include_purged:
            q = q.where(PI.c.purged_at.is_(None))
        with self.store.read() as conn:
            return [PreservedListItem.from_row(r._mapping) for r in conn.execute(q)]

    def preserved_item(self, item_id: int) -> PreservedCopy | None:
        with self.store.read() as conn:
            r = conn.execute(sa.select(PI).where(PI.c.id == item_id)).first()
        return PreservedCopy.from_row(r._mapping) if r else None

    def set_legal_hold(self, tx: Tx, item_id: int, until: datetime, reason: str, actor: str, now: datetime) -> LegalHold:
        keep.check_hold(until, reason, now)
        conn = tx.conn
        r = conn.execute(sa.select(PI.c.purged_at).where(PI.c.id == item_id)).first()
        if r is None:
            raise ComplianceError("not_found", f"no preserved item {item_id}")
        if r.purged_at is not None:
            raise ComplianceError("conflict", f"preserved item {item_id} was purged; nothing left to hold")
        conn.execute(sa.update(PI).where(PI.c.id == item_id).values(legal_hold_until=until,
                                                                    legal_hold_reason=reason.strip()))
        self._events(conn, ("preservation.legal_hold", actor, f"preserved:{item_id}",
                            {"until": iso(until), "reason": reason.strip()}))
        return LegalHold(item_id, until, reason.strip())

    def purge(self, tx: Tx, now: datetime, actor: str = "basira", limit: int = 1000,
              on_error: OnError | None = None) -> list[int]:
        """Purge every preserved item whose time (six months, or the legal hold if later) is over: its snapshot
        is deleted; a post still removed has its text blanked and media URLs dropped (hashes, ids and dates
        stay). Return the ids purged."""
        purged, events = [], []
        conn = tx.conn
        due = [r._asdict() for r in conn.execute(
            sa.select(PI.c.id, PI.c.post_id, PI.c.account_id, PI.c.order_id, PI.c.case_id, PI.c.decision_id,
                      PI.c.preserve_until, PI.c.legal_hold_until, PI.c.purged_at, PI.c.content_sha256)
            .where(PI.c.purged_at.is_(None), PI.c.preserve_until <= now,  # held items do not crowd out the rest
                   sa.or_(PI.c.legal_hold_until.is_(None), PI.c.legal_hold_until <= now))
            .order_by(PI.c.id).limit(limit))]
        for item in (i for i in due if keep.purge_due(i, now)):
            try:
                with conn.begin_nested():  # one item's fault rolls back that item only
                    blanked = self._purge_item(conn, item, now)
            except Exception as exc:
                if on_error is None:
                    raise
                on_error(f"preserved:{item['id']}", exc)
                continue
            events.append(("preservation.purged", actor, f"preserved:{item['id']}", {
                "post_id": item["post_id"], "account_id": item["account_id"], "order_id": item["order_id"],
                "content_sha256": item["content_sha256"], "post_text_blanked": blanked}))
            purged.append(item["id"])
        self._events(conn, *events)  # one append for the batch: the chain's head is read once
        return purged

    def _purge_item(self, conn: Connection, item: dict[str, Any], now: datetime) -> bool:
        """Delete one item's snapshot; blank the post when it is still removed. True when the post was blanked."""
        conn.execute(sa.update(PI).where(PI.c.id == item["id"]).values(content=None, purged_at=now))
        if item["post_id"] is not None and self._still_removed(conn, item) and not conn.execute(
                sa.select(PI.c.id).where(PI.c.post_id == item["post_id"], PI.c.purged_at.is_(None))).first():
            conn.execute(sa.update(P).where(P.c.id == item["post_id"]).values(text=""))
            conn.execute(sa.update(M).where(M.c.post_id == item["post_id"]).values(url=None))
            return True
        return False

    def _still_removed(self, conn: Connection, item: dict[str, Any]) -> bool:
        """False when the removal was reversed (decision undone, appeal overturned, complaint upheld): the post
        is live again and is the platform's data, not ours to blank."""
        if item["decision_id"] is not None:
            d = conn.execute(sa.select(D.c.undone_at).where(D.c.id == item["decision_id"])).first()
            if d is None or d.undone_at is not None:
                return False
        if item["case_id"] is not None and conn.execute(sa.select(D.c.id).where(
                D.c.case_id == item["case_id"], D.c.action == "overturn", D.c.undone_at.is_(None))).first():
            return False
        cond = []
        if item["order_id"] is not None:
            cond.append(sa.and_(CP.c.order_id == item["order_id"],
                                sa.or_(CP.c.post_id.is_(None), CP.c.post_id == item["post_id"])))
        if item["case_id"] is not None:
            cond.append(CP.c.case_id == item["case_id"])
        return not (cond and conn.execute(sa.select(CP.c.id).where(CP.c.reinstated, sa.or_(*cond))).first())

    # --- complaints ---------------------------------------------------------------------------------------------

    def add_complaint(self, tx: Tx, *, complainant: str, grounds: str, now: datetime, order_id: int | None = None,
                      case_id: int | None = None, post_id: int | None = None, actor: str | None = None) -> int:
        """A complaint by a content provider about a removal (art. 10): against an order's removal or a case's."""
        if (order_id is None) == (case_id is None):
            raise ComplianceError("invalid", "a complaint is about one removal order or one case")
        if not (complainant or "").strip() or not (grounds or "").strip():
            raise ComplianceError("invalid", "a complaint needs the complainant and the grounds")
        conn = tx.conn
        account_id = None
        if order_id is not None:
            o = conn.execute(sa.select(RO.c.status).where(RO.c.id == order_id)).first()
            if o is None:
                raise ComplianceError("not_found", f"no removal order {order_id}")
            if o.status != "executed":
                raise ComplianceError("conflict", f"removal order {order_id} is {o.status}: nothing was removed")
            if post_id is not None and not conn.execute(sa.select(T.c.id).where(
                    T.c.order_id == order_id, T.c.post_id == post_id, T.c.outcome.in_(REMOVAL_OUTCOMES))).first():
                raise ComplianceError("invalid", f"post {post_id} was not removed under order {order_id}")
        else:
            c = conn.execute(sa.select(C.c.subject_kind, C.c.subject_id).where(C.c.id == case_id)).first()
            if c is None:
                raise ComplianceError("not_found", f"no case {case_id}")
            if not conn.execute(sa.select(D.c.id).where(D.c.case_id == case_id, D.c.action == "remove",
                                                        D.c.undone_at.is_(None))).first():
                raise ComplianceError("conflict", f"case {case_id} has no live removal to complain about")
            if c.subject_kind == "post":
                post_id = c.subject_id
            else:
                account_id = c.subject_id
        if post_id is not None:
            account_id = conn.execute(sa.select(P.c.account_id).where(P.c.id == post_id)).scalar()
        cid = conn.execute(sa.insert(CP).values(
            order_id=order_id, case_id=case_id, post_id=post_id, account_id=account_id,
            complainant=complainant.strip()[:256], grounds=grounds.strip()[:20_000], received_at=now,
            status="open", reinstated=False).returning(CP.c.id)).scalar_one()
        assert isinstance(cid, int)
        self._events(conn, ("complaint.received", actor or complainant.strip()[:128], f"complaint:{cid}",
                            {"order_id": order_id, "case_id": case_id, "post_id": post_id}))
        return cid

    def complaints(self, status: str | None = None, limit: int = 200) -> list[ComplaintListItem]:
        q = sa.select(CP, RO.c.authority, RO.c.order_ref).outerjoin(RO, RO.c.id == CP.c.order_id)
        if status:
            q = q.where(CP.c.status == status)
        with self.store.read() as conn:
            return [ComplaintListItem.from_row(r._mapping) for r in conn.execute(
                q.order_by(CP.c.received_at.desc(), CP.c.id.desc()).limit(limit))]

    def complaint(self, complaint_id: int) -> ComplaintView | None:
        with self.store.read() as conn:
            r = conn.execute(sa.select(CP).where(CP.c.id == complaint_id)).first()
        return ComplaintView.from_row(r._mapping) if r else None

    def decide_complaint(self, tx: Tx, complaint_id: int, upheld: bool, reasons: str, who: Executor, now: datetime,
                         webhook: Webhook | None) -> ComplaintDecision:
        """Decide a complaint with reasons (art. 10(2)). Upheld: the content is reinstated — a `restore` action
        webhook for each removal it is about; the preserved copy stays until its own time is over."""
        if not (reasons or "").strip():
            raise ComplianceError("invalid", "a decision on a complaint needs its reasons")
        conn = tx.conn
        c = self._locked(conn, CP, complaint_id, "complaint")
        if c.status != "open":
            raise ComplianceError("conflict", f"complaint {complaint_id} is already {c.status}")
        restored = 0
        if upheld and webhook is not None:
            if c.order_id is not None:
                q2 = sa.select(T.c.case_id, T.c.decision_id).distinct().where(
                    T.c.order_id == c.order_id, T.c.outcome.in_(REMOVAL_OUTCOMES))
                if c.post_id is not None:
                    q2 = q2.where(T.c.post_id == c.post_id)
                pairs = [(r.case_id, r.decision_id) for r in conn.execute(q2)]
            else:
                pairs = [(r.case_id, r.id) for r in conn.execute(sa.select(D.c.case_id, D.c.id).where(
                    D.c.case_id == c.case_id, D.c.action == "remove", D.c.undone_at.is_(None)))]
            for case_id, did in pairs:
                ids = conn.execute(sa.select(C.c.subject_kind, C.c.subject_id).where(C.c.id == case_id)).one()
                facts = {"case_id": case_id, "decision_id": did, "action": "restore", "platform_action": "restore",
                         "complaint_id": complaint_id, "reasons": reasons.strip(),
                         **subject_ids(conn, ids.subject_kind, ids.subject_id)}
                restored += self._enqueue(conn, case_id, did, "restore", facts, webhook, now) is not None
        status = "upheld" if upheld else "rejected"
        conn.execute(sa.update(CP).where(CP.c.id == complaint_id).values(
            status=status, decided_at=now, decided_by=who.username, decision_reasons=reasons.strip(),
            reinstated=upheld, reinstated_at=now if upheld else None))
        self._events(conn, (f"complaint.{status}", who.username, f"complaint:{complaint_id}",
                            {"reasons": reasons.strip(), "reinstated": upheld, "restore_webhooks": restored}))
        return ComplaintDecision(complaint_id, status, upheld, restored)

    def user(self, username: str) -> tuple[Executor, str] | None:
        """An active user of the review app and their role."""
        with self.store.read() as conn:
            r = conn.execute(sa.select(U.c.id, U.c.username, U.c.role).where(
                U.c.username == username, U.c.disabled_at.is_(None))).first()
        return (Executor(r.id, r.username), r.role) if r else None


def _deadline(deadline_at: datetime, status: str, now: datetime) -> dict[str, Any]:
    d = Deadline.at(deadline_at, status, now)
    return {"seconds_left": d.seconds_left, "time_left": d.time_left, "overdue": d.overdue}


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in d.items()}


def preserve_on_removal(tx: Tx, removal: Removal) -> dict[str, Any]:
    """DecisionEffects listener: a reviewer's removal is preserved for six months (Regulation (EU) 2021/784,
    art. 6) and its provider noticed (art. 11), in the decision's own transaction."""
    ComplianceRepo(tx.store).preserve_decision(tx, removal.case_id, removal.decision_id, removal.at, removal.actor)
    return {}


def confirm_on_delivery(tx: Tx, delivered: RemovalDelivered) -> dict[str, Any]:
    """DecisionEffects listener: the platform acknowledged a removal webhook, so the order targets waiting on it
    are removed and their statements restated, in the same transaction as the delivery's own record."""
    ComplianceRepo(tx.store).confirm_removals(tx, delivered.delivery_id, delivered.at)
    return {}
