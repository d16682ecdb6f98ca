"""The transparency report as data: figures, shares and time statistics computed from ReportCounts.

Pure: no store, no rendering. The JSON it returns is the report's documented schema (docs/reports.md,
`basira-transparency-report/1`); the HTML and PDF faces render exactly this dict."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from basira.compliance.report_data import ReportCounts
from basira.core.i18n import N_, number, when
from basira.core.i18n import gettext as _
from basira.core.i18n import gettext as _known  # a string marked elsewhere (N_, WORDS): not extracted again
from basira.core.i18n import percent as _percent
from basira.core.time import utcnow

SCHEMA = "basira-transparency-report/1"
HOUR = 3600.0

METHODOLOGY = [
    (N_("Period"), N_("All figures cover [from, to) in UTC: an event counts when its own time (decided, filed, "
     "received, opened, matched) falls in the period.")),
    (N_("Decisions"), N_("A moderation decision counts once, at the review, escalation or order stage (a removal made to "
     "execute a removal order), when it was made in the period and not undone within the undo window. Appeal "
     "decisions are counted separately.")),
    (N_("Content removed"), N_("Live 'remove' decisions, including those executing removal orders. By reason: the policy reason the reviewer cited (one per "
     "decision). By category: the detector's categories on the case's detection (a post may carry several, "
     "so these sum to more than the total; 'unspecified' when the case had no detection). By language: the "
     "post's language ('und' when unknown); decisions on accounts or networks count as 'account'.")),
    (N_("Sources"), N_("Where a removed item (or an opened case) came from: 'detector' when the case carries a "
     "detection, 'hash_bank' when the post has an acted-on hash-bank match, 'network' for community and "
     "coordinated-group cases, 'removal_order' when an authority's order removed it or opened its case, 'other' "
     "for none of these (e.g. opened by hand). One item can have several.")),
    (N_("Removal orders"), N_("Orders received in the period. An order counts as executed only when the platform "
     "acknowledged the removal of every item found (a 2xx answer from the action webhook, or an acknowledged "
     "earlier removal by review); an order recorded without an action sink, or still awaiting the "
     "acknowledgement, counts as not executed (shown as 'recorded, not confirmed'). Time to execute = the last "
     "acknowledgement - received_at; median and 95th percentile (nearest rank). 'Within one hour' is the share of "
     "all orders received in the period that were executed within 60 minutes of receipt.")),
    (N_("Complaints"), N_("Complaints (by content providers, against a removal) received in the period, by status: open, "
     "upheld (content reinstated) or rejected; time to decide as for orders.")),
    (N_("Appeals"), N_("Appeals filed in the period; appeal decisions made in the period. The overturned share "
     "(overturned / decided) is an error-rate signal for the first decisions.")),
    (N_("Hash banks"), N_("Acted-on matches recorded in the period, by bank; vetoed and quarantined matches are "
     "shown by status but never acted on.")),
]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0–100) of sorted or unsorted values; None for none."""
    if not values:
        return None
    v = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(v)))
    return float(v[rank - 1])


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    n = len(v)
    return float(v[n // 2]) if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(part / whole, 4)


def _rows(counts: dict[str, int], total: int | None = None, label: dict[str, str] | None = None) -> list[dict]:
    total = sum(counts.values()) if total is None else total
    return [{"key": k, **({"label": label.get(k, k)} if label else {}), "count": v, "share": share(v, total)}
            for k, v in counts.items()]


def _timing(seconds: Sequence[float], received: int) -> dict[str, Any]:
    within = sum(1 for s in seconds if s <= HOUR)
    return {"count": len(seconds), "median_seconds": median(seconds), "p95_seconds": percentile(seconds, 95),
            "within_1h": within, "within_1h_share": share(within, received)}


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def build_report(c: ReportCounts, *, platform_name: str | None = None, generated_at: datetime | None = None
                 ) -> dict[str, Any]:
    """The transparency report (schema basira-transparency-report/1) from the period's counts."""
    generated_at = generated_at or utcnow()
    upheld, overturned = c.appeal_decisions.get("uphold", 0), c.appeal_decisions.get("overturn", 0)
    decided_appeals = upheld + overturned
    executed = len(c.order_execute_seconds)
    orders_timing = _timing(c.order_execute_seconds, c.orders_received)
    report = {
        "schema": SCHEMA,
        "platform": platform_name or ", ".join(c.platforms) or "unnamed platform",
        "period": {"from": _iso(c.start), "to": _iso(c.end)},
        "generated_at": _iso(generated_at),
        "summary": {
            "content_removed": c.removals_confirmed,  # acknowledged by the platform's action sink
            "removals_recorded_not_confirmed": c.removals - c.removals_confirmed,
            "removal_decisions": c.removals,
            "decisions": sum(c.decisions_by_action.values()),
            "removal_orders_received": c.orders_received,
            "removal_orders_within_1h_share": orders_timing["within_1h_share"],
            "complaints_received": c.complaints_received,
            "appeals_decided": decided_appeals,
            "appeals_overturned_share": share(overturned, decided_appeals),
            "cases_opened": c.cases_opened,
        },
        "moderation": {
            "decisions_by_action": _rows(c.decisions_by_action),
            "removals": {
                "total": c.removals,
                "confirmed": c.removals_confirmed,
                "recorded_not_confirmed": c.removals - c.removals_confirmed,
                "by_reason": _rows(c.removals_by_reason, c.removals, c.reason_titles),
                "by_category": _rows(c.removals_by_category, c.removals),
                "by_language": _rows(c.removals_by_language, c.removals),
                "by_subject": _rows(c.removals_by_subject, c.removals),
                "by_source": _rows(c.removals_by_source, c.removals),
                "by_stage": _rows(c.removals_by_stage, c.removals),
                "by_day": [{"day": d, "count": n} for d, n in c.removals_by_day.items()],
            },
        },
        "removal_orders": {
            "available": c.orders_available,
            "received": c.orders_received,
            "executed": executed,
            "not_executed": c.orders_received - executed,
            "recorded_not_confirmed": c.orders_unconfirmed,
            "by_status": _rows(c.orders_by_status, c.orders_received),
            "by_authority": _rows(c.orders_by_authority, c.orders_received),
            "time_to_execute": orders_timing,
            "execute_seconds": list(c.order_execute_seconds),
        },
        "complaints": {
            "available": c.complaints_available,
            "received": c.complaints_received,
            "by_outcome": _rows(c.complaints_by_outcome, c.complaints_received),
            "reinstated": c.complaints_reinstated,
            "time_to_decide": _timing(c.complaint_decide_seconds, c.complaints_received),
        },
        "appeals": {
            "filed": c.appeals_filed,
            "decided": decided_appeals,
            "upheld": upheld,
            "overturned": overturned,
            "overturned_share": share(overturned, decided_appeals),
        },
        "detection": {
            "posts_scored": c.posts_scored,
            "posts_flagged": c.posts_flagged,
            "flag_rate": share(c.posts_flagged, c.posts_scored),
            "cases_opened": c.cases_opened,
            "cases_by_source": _rows(c.cases_by_source, c.cases_opened),
            "bank_matches": {
                "acted_on": sum(c.bank_matches_by_bank.values()),
                "by_bank": _rows(c.bank_matches_by_bank),
                "by_status": _rows(c.bank_matches_by_status),
            },
        },
        "methodology": [{"term": t, "definition": d} for t, d in METHODOLOGY],
    }
    return report


def duration(seconds: float | None) -> str:
    """'42 min', '3.5 h', '2.1 d' (in the current language) — for tables; '—' when there is nothing to measure."""
    if seconds is None:
        return "—"
    if seconds < 90:
        return _("%(n)s s", n=number(round(seconds), 0))
    if seconds < 90 * 60:
        return _("%(n)s min", n=number(round(seconds / 60), 0))
    if seconds < 48 * 3600:
        return _("%(n)s h", n=number(round(seconds / 3600, 1), 1))
    return _("%(n)s d", n=number(round(seconds / 86400, 1), 1))


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal, in the current locale ('12.5%', '12,5 %', '12.5٪')."""
    return _percent(value, 1)


def count(value: int | None) -> str:
    """A count with the current locale's grouping ('1,234', '1 234'); '—' for none."""
    return "—" if value is None else number(value, 0)


SOURCE_NAMES = {"detector": N_("text detector"), "hash_bank": N_("hash banks"), "network": N_("network analysis"),
                "removal_order": N_("removal orders"), "other": N_("other (manual)")}
STAGES = {"review": N_("first review"), "escalation": N_("after escalation (legal)"),
          "order": N_("executing a removal order")}


def methodology(r: dict[str, Any]) -> list[tuple[str, str]]:
    """The report's definitions in the current language (the JSON keeps them in English, as its schema says)."""
    return [(_known(m["term"]), _known(m["definition"])) for m in r["methodology"]]


def key_figures(r: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The cover's six key figures as (value, label, caption), for both the PDF and the HTML."""
    s, o, a = r["summary"], r["removal_orders"], r["appeals"]
    t = o["time_to_execute"]
    src = {x["key"]: x["count"] for x in r["detection"]["cases_by_source"]}
    n = count
    return [  # labels and captions in the current language (basira.core.i18n; English unless a face chose one)
        (n(s["content_removed"]), _("Content removed"),
         _("of %(n)s moderation decisions", n=n(s["decisions"])) if not s["removals_recorded_not_confirmed"] else
         _("confirmed by the platform; %(n)s more recorded, not confirmed", n=n(s["removals_recorded_not_confirmed"]))),
        (n(o["received"]), _("Removal orders received"),
         _("%(n)s executed", n=n(o["executed"])) if o["available"] else _("not recorded in this database")),
        (percent(t["within_1h_share"]), _("Orders executed in ≤ 1 hour"),
         _("median %(m)s · p95 %(p)s", m=duration(t["median_seconds"]), p=duration(t["p95_seconds"])) if t["count"]
         else _("no order executed in the period")),
        (n(s["complaints_received"]), _("Complaints received"),
         _("%(n)s decided", n=n(r["complaints"]["time_to_decide"]["count"])) if r["complaints"]["available"]
         else _("not recorded in this database")),
        (percent(a["overturned_share"]), _("Appeals overturned"),
         _("%(n)s of %(d)s appeals decided", n=n(a["overturned"]), d=n(a["decided"]))),
        (n(s["cases_opened"]), _("Cases opened"),
         _("detector %(d)s · banks %(b)s · network %(n)s", d=n(src.get("detector", 0)), b=n(src.get("hash_bank", 0)),
           n=n(src.get("network", 0)))),
    ]


def source_rows(r: dict[str, Any]) -> list[list[str]]:
    """(source, removed, share of removals, cases opened, share of cases) for each source seen."""
    by_case = {x["key"]: x for x in r["detection"]["cases_by_source"]}
    by_rem = {x["key"]: x for x in r["moderation"]["removals"]["by_source"]}
    return [[_known(name), count(by_rem.get(k, {}).get("count", 0)), percent(by_rem.get(k, {}).get("share")),
             count(by_case.get(k, {}).get("count", 0)), percent(by_case.get(k, {}).get("share"))]
            for k, name in SOURCE_NAMES.items() if k in by_case or k in by_rem]


def stage(key: str) -> str:
    return _known(STAGES[key]) if key in STAGES else key


def word(value: str) -> str:
    """A status, action or outcome from the data in the current language (the words are in the catalogue,
    basira.web.i18n.WORDS); anything else as it is."""
    return _known(value) if value else value


def parse_iso(iso: str) -> datetime:
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def period_text(report: dict[str, Any]) -> str:
    """'1 Nov 2026 – 30 Nov 2026' for whole days (the end is exclusive), else exact times."""
    a, b = parse_iso(report["period"]["from"]), parse_iso(report["period"]["to"])
    if a.time() == b.time() == datetime.min.time():
        last = b - timedelta(days=1)  # month names in the current language (English: "1 Nov 2026")
        return f"{when(a, 'd MMM yyyy')} – {when(last, 'd MMM yyyy')}"
    return f"{when(a)} – {when(b)} UTC"


def generated_text(report: dict[str, Any]) -> str:
    """When the report was generated, in the current locale."""
    return when(report["generated_at"], "yyyy-MM-dd HH:mm") + " UTC"
