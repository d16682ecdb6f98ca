"""The compliance workflow over the store: what the CLI, the API and the web pages call. Time comes from an
injectable clock (`clock()` returns an aware UTC datetime), so deadlines, alerts and purges can be tested by
moving the clock, and `basira compliance tick --now ISO` can replay a moment."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from basira.compliance import orders as rules
from basira.compliance.alerts import AlertSender, AlertSettings, render_text
from basira.compliance.order_file import read_orders
from basira.compliance.orders import one_line
from basira.compliance.records import (
    CloseResult,
    ComplaintDecision,
    ExecutionResult,
    LegalHold,
    OrderSummary,
    OrderView,
)
from basira.compliance.repository import ComplianceError, ComplianceRepo, Executor
from basira.core.i18n import N_
from basira.core.periodic import PeriodicLoop
from basira.core.time import utcnow
from basira.review import webhooks
from basira.review.roles import allowed
from basira.review.service import ReviewService, ReviewSettings
from basira.store import Store

Clock = Callable[[], datetime]
log_ = logging.getLogger("basira.compliance")




@dataclass
class ComplianceService:
    store: Store
    review: ReviewSettings = field(default_factory=ReviewSettings)
    alert_settings: AlertSettings = field(default_factory=AlertSettings)
    clock: Clock = utcnow
    sender: AlertSender | None = None  # default: one over alert_settings

    def __post_init__(self) -> None:
        self.repo = ComplianceRepo(self.store)
        self.sender = self.sender or AlertSender(self.alert_settings)

    @property
    def outbox(self) -> AlertSender:
        assert self.sender is not None  # set by __post_init__
        return self.sender

    def now(self) -> datetime:
        t = self.clock()
        if t.tzinfo is None:
            raise ValueError("the clock must return aware datetimes")
        return t.astimezone(UTC)

    # --- intake -----------------------------------------------------------------------------------------------

    def receive(self, obj: dict[str, Any], source: str, created_by: str | None) -> int:
        """One order from the API or the web form; raises OrderError (bad field) or ComplianceError (duplicate)."""
        order = rules.order_from_dict(obj, self.now())
        with self.store.transaction() as tx:
            ids, dupes = self.repo.add_orders(tx, [order], source, created_by, self.now())
        if dupes:
            raise ComplianceError("conflict", f"order {order.order_ref} from {order.authority} was already received")
        return ids[0]

    def import_file(self, path: str, created_by: str | None = None) -> tuple[list[int], list[str]]:
        """Every order in a file, or none (InputError naming file, line and field); duplicates are skipped."""
        items = read_orders(path, self.now())
        with self.store.transaction() as tx:
            return self.repo.add_orders(tx, items, "file", created_by or f"file:{path}", self.now())

    # --- reading ----------------------------------------------------------------------------------------------

    def orders(self, status: str | None = None, limit: int = 200) -> list[OrderSummary]:
        return self.repo.list_orders(self.now(), status, limit)

    def order(self, order_id: int) -> OrderView | None:
        return self.repo.order(order_id, self.now())

    # --- acting -----------------------------------------------------------------------------------------------

    def _executor(self, username: str, permission: str) -> Executor:
        user = self.repo.user(username)
        if user is None:
            raise ComplianceError("not_found", f"no active user {username!r}")
        who, role = user
        if not allowed(role, permission):
            action = permission.replace("_", " ")
            raise ComplianceError("forbidden", f"the {role} role may not {action}").said(
                N_("the %(role)s role may not %(action)s"), role=role, action=action)
        return who

    def _webhook(self, decision_id: int, action: str,
                 facts: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
        if not self.review.webhook_url:
            return None
        key = webhooks.idempotency_key(decision_id, action)
        return self.review.webhook_url, key, {"type": "basira.action", "action": action, "idempotency_key": key,
                                              **facts}

    def execute(self, order_id: int, username: str) -> ExecutionResult:
        who = self._executor(username, "manage_orders")
        with self.store.transaction() as tx:
            return self.repo.execute(tx, order_id, who, self.now(), self._webhook if self.review.webhook_url else None)

    def close(self, order_id: int, status: str, reason: str, username: str) -> CloseResult:
        self._executor(username, "manage_orders")
        with self.store.transaction() as tx:
            return self.repo.reject(tx, order_id, status, reason, username, self.now())

    def preserve_decision(self, case_id: int, decision_id: int, actor: str | None = None) -> int | None:
        with self.store.transaction() as tx:
            return self.repo.preserve_decision(tx, case_id, decision_id, self.now(), actor)

    def set_legal_hold(self, item_id: int, until: datetime, reason: str, username: str) -> LegalHold:
        self._executor(username, "manage_orders")
        with self.store.transaction() as tx:
            return self.repo.set_legal_hold(tx, item_id, until, reason, username, self.now())

    # --- complaints -------------------------------------------------------------------------------------------

    def file_complaint(self, *, complainant: str, grounds: str, order_id: int | None = None,
                       case_id: int | None = None, post_id: int | None = None, actor: str | None = None) -> int:
        with self.store.transaction() as tx:
            return self.repo.add_complaint(tx, complainant=complainant, grounds=grounds, now=self.now(), order_id=order_id,
                                           case_id=case_id, post_id=post_id, actor=actor)

    def decide_complaint(self, complaint_id: int, upheld: bool, reasons: str, username: str) -> ComplaintDecision:
        who = self._executor(username, "decide_complaints")
        with self.store.transaction() as tx:
            return self.repo.decide_complaint(tx, complaint_id, upheld, reasons, who, self.now(),
                                              self._webhook if self.review.webhook_url else None)

    # --- the tick: alerts, statements, purge, action webhooks --------------------------------------------------

    def send_alerts(self, report: TickReport | None = None) -> dict[str, int]:
        """Send each due deadline alert once per channel (30, 10 and 0 minutes left). An order whose alert cannot
        be built or recorded is logged and left for the next tick; the others go out."""
        counts = {"sent": 0, "failed": 0, "skipped": 0}
        channels = self.alert_settings.channels()
        if not channels:
            return counts
        report = report if report is not None else TickReport()
        for o in self.repo.open_orders(self.now()):
            try:
                for ch in channels:
                    now = self.now()
                    plan = rules.due_alert(o.deadline_at, now, o.alerts_done.get(ch, ()))
                    for t in plan.skip:
                        if self._claim_alert(o.id, t, ch, now, status="skipped") is not None:
                            counts["skipped"] += 1
                    if plan.send is None:
                        continue
                    aid = self._claim_alert(o.id, plan.send, ch, now)
                    if aid is None:
                        continue
                    ok, error = self.outbox.send(ch, rules.alert_message(o, plan.send, now))
                    with self.store.transaction() as tx:
                        self.repo.record_alert(tx, aid, ok, error, self.now())
                    counts["sent" if ok else "failed"] += 1
                    if not ok:
                        report.fail("alerts", f"order:{o.id}", f"{ch}: {error}", log=False)
            except Exception as exc:  # noqa: BLE001 - one order's fault never stops the others' alerts
                counts["failed"] += 1
                report.fail("alerts", f"order:{o.id}", exc)
        return counts

    def send_statements(self, report: TickReport | None = None) -> int:
        """E-mail each statement not yet sent to the authority's contact address (when SMTP is configured).
        Statements to other kinds of contact are sent by hand and marked sent in the web app. One that fails
        (a bad address, the server down) is logged and tried again by the next tick."""
        if not self.alert_settings.smtp_ready:
            return 0
        report = report if report is not None else TickReport()
        sent = 0
        for o in self.repo.statements_to_send():
            try:
                contact = o.contact.strip()
                if "@" not in contact or contact.lower().startswith(("http://", "https://")):
                    continue
                subject = f"Removal order {o.order_ref}: {o.statement.get('status')}"
                ok, error = self.outbox.email([contact], subject, render_text(o.statement))
                if not ok:
                    report.fail("statements", f"order:{o.id}", error or "not sent")
                elif self._mark_sent(o.id, "basira", "email"):
                    sent += 1
            except Exception as exc:  # noqa: BLE001 - one statement's fault never stops the others
                report.fail("statements", f"order:{o.id}", exc)
        return sent

    def mark_statement_sent(self, order_id: int, username: str) -> bool:
        self._executor(username, "manage_orders")
        return self._mark_sent(order_id, username, "manual")

    def _mark_sent(self, order_id: int, actor: str, channel: str) -> bool:
        with self.store.transaction() as tx:
            return self.repo.mark_statement_sent(tx, order_id, actor, self.now(), channel)

    def _claim_alert(self, order_id: int, threshold: int, channel: str, now: datetime,
                     status: str = "sending") -> int | None:
        """Its own transaction, committed before the alert goes out: another sender then sees it taken."""
        with self.store.transaction() as tx:
            return self.repo.claim_alert(tx, order_id, threshold, channel, now, status=status)

    def purge(self, report: TickReport | None = None) -> list[int]:
        on_error = (report if report is not None else TickReport()).item_failed("purge")
        with self.store.transaction() as tx:  # one item's fault rolls back that item only (a savepoint each)
            return self.repo.purge(tx, self.now(), on_error=on_error)

    def preserve_missed(self, report: TickReport | None = None) -> list[int]:
        """Preserve live reviewer removals left without a copy. A decision and its copy commit together
        (DecisionEffects); this sweep, run by every tick, is the safety net (a copy refused by a listener bug, a
        database restored from before the copy), so no removal escapes art. 6. Each decision in its own
        transaction; one that fails is reported and the others go on. Return the decision ids preserved."""
        on_error = (report if report is not None else TickReport()).item_failed("preserve_missed")
        done = []
        for decision_id, case_id in self.repo.unpreserved_removals():
            try:
                with self.store.transaction() as tx:
                    if self.repo.preserve_decision(tx, case_id, decision_id, self.now(), "basira") is not None:
                        done.append(decision_id)
            except Exception as exc:  # noqa: BLE001 - one decision's fault never stops the others' preservation
                on_error(f"decision:{decision_id}", exc)
        return done

    def tick(self, client: httpx.Client | None = None) -> dict[str, Any]:
        """One round of everything time-driven; safe to run from several processes at once. Each step runs even
        when an earlier one failed, and each item in a step on its own: a failure is logged, reported under
        `failures` (step, item, error) and retried by the next tick."""
        report = TickReport()
        out: dict[str, Any] = {
            "alerts": report.step("alerts", self.send_alerts, report, default={"sent": 0, "failed": 0, "skipped": 0}),
            "statements_sent": report.step("statements", self.send_statements, report, default=0),
            "preserved_missed": len(report.step("preserve_missed", self.preserve_missed, report, default=[])),
            "purged": len(report.step("purge", self.purge, report, default=[])),
        }
        if self.review.webhook_url and self.review.webhook_secret:
            svc = ReviewService(self.store, self.review, clock=self.now)
            out["webhooks"] = report.step("webhooks", lambda c: svc.deliver_due(c).to_dict(), client, default={})
        a = out["alerts"]
        report.ok.update({"alerts": a["sent"] + a["skipped"], "statements": out["statements_sent"],
                          "preserve_missed": out["preserved_missed"], "purge": out["purged"]})
        out["steps"] = report.steps()
        out["failures"] = report.failures
        return out


@dataclass
class TickReport:
    """What one tick did, step by step: successes, and each failure (step, item, error) — logged as it happens."""

    failures: list[dict[str, Any]] = field(default_factory=list)
    ok: dict[str, int] = field(default_factory=dict)

    def fail(self, step: str, item: str | None, error: BaseException | str, *, log: bool = True) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        text = one_line(text)[:500]
        self.failures.append({"step": step, "item": item, "error": text})
        if log:
            log_.warning("compliance %s: %s failed (retried next tick): %s", step, item or "step", text,
                         exc_info=None if isinstance(error, str) else error)

    def item_failed(self, step: str) -> Callable[[str, BaseException], None]:
        return lambda item, exc: self.fail(step, item, exc)

    def step(self, name: str, fn: Callable[..., Any], *args: Any, default: Any) -> Any:
        """Run one step; a step that fails as a whole (the database away) is reported, and the next runs."""
        try:
            return fn(*args)
        except Exception as exc:  # noqa: BLE001 - the purge must run even when the alerts could not
            self.fail(name, None, exc)
            return default

    def steps(self) -> dict[str, dict[str, int]]:
        names = list(dict.fromkeys([*self.ok, *(f["step"] for f in self.failures)]))
        return {n: {"ok": self.ok.get(n, 0), "failed": sum(f["step"] == n for f in self.failures)} for n in names}


class ComplianceLoop(PeriodicLoop):
    """Runs the clock-driven jobs every `interval` seconds on a background thread (started by `basira serve`);
    action webhooks are left to the DeliveryLoop."""

    def __init__(self, service: ComplianceService, interval: float = 15.0) -> None:
        self.service = service
        super().__init__(self._round, interval, "basira-compliance")

    def _round(self) -> None:
        report = TickReport()  # failures are logged as they happen; every step runs every round
        report.step("alerts", self.service.send_alerts, report, default=None)
        report.step("statements", self.service.send_statements, report, default=None)
        report.step("preserve_missed", self.service.preserve_missed, report, default=None)
        report.step("purge", self.service.purge, report, default=None)
