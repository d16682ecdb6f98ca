"""Removal orders under Regulation (EU) 2021/784 (TCO), as pure functions: the order as received, its one-hour
deadline (art. 3(3)), which deadline alerts are due, how a target names content, and the texts that go out —
the statement back to the authority (art. 3(6)) and the notice to the content provider (art. 11).

Nothing here reads a clock: every function takes `now`."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from basira.core.errors import BasiraError
from basira.core.i18n import DEFAULT as DEFAULT_LANG
from basira.core.i18n import N_
from basira.core.time import iso

DEADLINE = timedelta(hours=1)  # art. 3(3): "as soon as possible and in any event within one hour of receipt"
ALERT_THRESHOLDS = (30, 10, 0)  # minutes left at which the people on duty are alerted
DEFAULT_LEGAL_BASIS = "Regulation (EU) 2021/784, art. 3"
DEFAULT_REASON_CODE = "TCO-ORDER"
SOURCES = ("web", "api", "file")
STATUSES = ("open", "executed", "rejected", "withdrawn")
MAX_TARGETS = 1000
# What the content provider is told about their remedies (art. 11(1)-(2)). A removal order is challenged before
# the courts of the issuing Member State (art. 9); removals on the service's own initiative go through its
# complaint mechanism (art. 10). Either way the service reinstates content it removed in error.
REDRESS_ORDER = N_(
    "This content was removed to comply with a removal order of a competent authority under Regulation (EU) "
    "2021/784. You have the right to challenge the removal order before the courts of the Member State of the "
    "authority that issued it (art. 9). On request we tell you the reasons and give you a copy of the order "
    "(art. 11(2)). If you believe we removed content the order does not name, reply to this notice: we examine "
    "every complaint and reinstate content removed in error."
)
REDRESS_OWN = N_(
    "This content was removed under our terms of service as terrorist content. You may complain about the "
    "removal (Regulation (EU) 2021/784, art. 10) by replying to this notice or through the appeal form; we examine "
    "every complaint promptly and reinstate the content if the removal was unjustified."
)


class OrderError(BasiraError):
    """An order (or a target) that cannot be accepted; `field` names the field at fault."""

    def __init__(self, field_name: str | None, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}" if field_name else reason)
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class OrderInput:
    """A removal order as received, checked. `received_at` None means: now, when stored."""

    authority: str
    order_ref: str
    reasons: str
    targets: tuple[str, ...]
    legal_basis: str = DEFAULT_LEGAL_BASIS
    reason_code: str = DEFAULT_REASON_CODE
    contact: str | None = None
    received_at: datetime | None = None
    notice_withheld_until: datetime | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TargetRef:
    """What a target string names: an explicit post/account on a platform, or a URL to look up."""

    kind: str  # post, account, url
    platform: str | None = None
    external_id: str | None = None
    url: str | None = None


# --- input --------------------------------------------------------------------------------------------------

_KNOWN = {"authority", "order_ref", "order_id", "reasons", "targets", "legal_basis", "reason_code", "contact",
          "received_at", "notice_withheld_until"}
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def parse_time(value: Any, field_name: str) -> datetime:
    """An ISO-8601 time with an offset (a time without one is ambiguous across member states: refused)."""
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, str) and value.strip():
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            raise OrderError(field_name, f"not an ISO-8601 time: {value!r}") from None
    else:
        raise OrderError(field_name, "must be an ISO-8601 time such as 2026-11-29T08:00:00Z")
    if dt.tzinfo is None:
        raise OrderError(field_name, "needs a UTC offset (e.g. Z or +01:00)")
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise OrderError(field_name, f"time out of range (years 1-9999) once in UTC: {value!r}") from None


# Fields that end up in e-mail headers, subjects and one-line logs: a control character there (a newline above
# all) is header injection, and makes EmailMessage raise. Refused at intake; `reasons` may span lines.
ONE_LINE = ("authority", "order_ref", "order_id", "contact", "legal_basis")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(value: str) -> str:
    """`value` with every control character (newline, NUL, …) turned into a space: safe in a header or subject."""
    return _CONTROL.sub(" ", value)


def _required(obj: dict[str, Any], name: str, *, limit: int) -> str:
    v = _text(obj, name, required=True, limit=limit)
    assert v is not None  # _text raised OrderError(name, "missing")
    return v


def _text(obj: dict[str, Any], name: str, *, required: bool, limit: int, default: str | None = None) -> str | None:
    v = obj.get(name)
    if v is None or (isinstance(v, str) and not v.strip()):
        if required:
            raise OrderError(name, "missing")
        return default
    if isinstance(v, int | float) and not isinstance(v, bool):
        v = str(v)
    if not isinstance(v, str):
        raise OrderError(name, "must be a string")
    v = v.strip()
    if len(v) > limit:
        raise OrderError(name, f"longer than {limit} characters")
    if name in ONE_LINE and (m := _CONTROL.search(v)):
        raise OrderError(name, f"must be one line: control character U+{ord(m.group()):04X} at position {m.start() + 1}")
    if "\x00" in v:
        raise OrderError(name, "contains a NUL character")
    return v


def split_targets(value: Any) -> tuple[str, ...]:
    """Targets as a list of strings, or one string of targets separated by whitespace, commas or '|'."""
    if isinstance(value, str):
        items = [t for t in re.split(r"[\s,|]+", value) if t]
    elif isinstance(value, list):
        items = []
        for i, t in enumerate(value):
            if not isinstance(t, str) or not t.strip():
                raise OrderError("targets", f"item {i + 1} must be a non-empty string")
            items.append(t.strip())
    else:
        raise OrderError("targets", "must be a list of URLs or ids")
    if not items:
        raise OrderError("targets", "names no content")
    if len(items) > MAX_TARGETS:
        raise OrderError("targets", f"more than {MAX_TARGETS} targets in one order")
    for t in items:
        parse_target(t)  # raises OrderError naming the bad one
    return tuple(dict.fromkeys(items))  # the same item named twice is one target


def order_from_dict(obj: dict[str, Any], now: datetime | None = None) -> OrderInput:
    """Check an order given as a mapping (file record, API body, web form). `now` refuses times in the future."""
    if not isinstance(obj, dict):
        raise OrderError(None, "an order must be an object")
    authority = _required(obj, "authority", limit=256)
    ref_key = "order_ref" if obj.get("order_ref") not in (None, "") else "order_id"
    ref = _text(obj, ref_key, required=False, limit=128)
    if ref is None:
        raise OrderError("order_ref", "missing (the authority's reference of the order)")
    reasons = _required(obj, "reasons", limit=20_000)
    if "targets" not in obj or obj["targets"] in (None, ""):
        raise OrderError("targets", "missing")
    targets = split_targets(obj["targets"])
    legal_basis = _text(obj, "legal_basis", required=False, limit=1000) or DEFAULT_LEGAL_BASIS
    code = _text(obj, "reason_code", required=False, limit=64) or DEFAULT_REASON_CODE
    if not _CODE.match(code or ""):
        raise OrderError("reason_code", "letters, digits, '.', '_' or '-' only")
    contact = _text(obj, "contact", required=False, limit=1000)
    received = None if obj.get("received_at") in (None, "") else parse_time(obj["received_at"], "received_at")
    if received is not None and now is not None and received > now + timedelta(minutes=5):
        raise OrderError("received_at", "is in the future")
    withheld = (None if obj.get("notice_withheld_until") in (None, "")
                else parse_time(obj["notice_withheld_until"], "notice_withheld_until"))
    details = {k: v for k, v in obj.items() if k not in _KNOWN and v not in (None, "")}
    return OrderInput(authority, ref, reasons, targets, legal_basis, code, contact, received, withheld, details)


def parse_target(target: str) -> TargetRef:
    """`post:PLATFORM:ID`, `account:PLATFORM:ID`, `PLATFORM:ID` (a post) or an http(s) URL."""
    t = target.strip()
    if _CONTROL.search(t):
        raise OrderError("targets", f"{one_line(target)!r}: contains a control character")
    if t.lower().startswith(("http://", "https://")):
        parts = urlsplit(t)
        if not parts.netloc:
            raise OrderError("targets", f"{target!r}: a URL without a host")
        return TargetRef("url", url=t)
    if "://" in t:
        raise OrderError("targets", f"{target!r}: only http(s) URLs")
    bits = t.split(":", 2)
    if len(bits) == 3 and bits[0] in ("post", "account") and bits[1] and bits[2]:
        return TargetRef(bits[0], bits[1], bits[2])
    if len(bits) == 2 and bits[0] and bits[1] and bits[0] not in ("post", "account"):
        return TargetRef("post", bits[0], bits[1])
    raise OrderError("targets", f"{target!r}: expected an http(s) URL, post:PLATFORM:ID, account:PLATFORM:ID "
                                "or PLATFORM:ID")


def url_candidates(url: str) -> tuple[str | None, list[str]]:
    """For a URL: (host, path segments from the last), tried as a post id, then as an account handle."""
    parts = urlsplit(url)
    segs = [s for s in parts.path.split("/") if s]
    return parts.hostname, list(reversed(segs))


# --- the clock ------------------------------------------------------------------------------------------------

def deadline(received_at: datetime) -> datetime:
    return received_at + DEADLINE


def time_left(deadline_at: datetime, now: datetime) -> timedelta:
    """Negative once the deadline has passed."""
    return deadline_at - now


def format_left(left: timedelta) -> str:
    """'42:07' left, or '-3:10' overdue (minutes:seconds; hours shown past 99 minutes)."""
    s = int(left.total_seconds())
    sign, s = ("-", -s) if s < 0 else ("", s)
    m, sec = divmod(s, 60)
    return f"{sign}{m}:{sec:02d}"


@dataclass(frozen=True)
class AlertPlan:
    send: int | None  # the threshold to send now (the most urgent one due), or None
    skip: tuple[int, ...]  # less urgent thresholds, due but superseded: never sent afterwards


def due_alert(deadline_at: datetime, now: datetime, done: Iterable[int],
              thresholds: Sequence[int] = ALERT_THRESHOLDS) -> AlertPlan:
    """Which alert to send for an open order at `now`, given the thresholds already sent or skipped. A tick that
    runs late sends only the most urgent alert due (a '30 minutes left' at 8 minutes left would mislead)."""
    done = set(done)
    due = [t for t in thresholds if now >= deadline_at - timedelta(minutes=t) and t not in done]
    if not due:
        return AlertPlan(None, ())
    most = min(due)
    return AlertPlan(most, tuple(t for t in due if t != most))


class AlertedOrder(Protocol):
    """What an alert says of its order (basira.compliance.records.OrderToAlert is one)."""

    @property
    def id(self) -> int: ...
    @property
    def authority(self) -> str: ...
    @property
    def order_ref(self) -> str: ...
    @property
    def received_at(self) -> datetime: ...
    @property
    def deadline_at(self) -> datetime: ...
    @property
    def target_count(self) -> int: ...


def alert_message(order: AlertedOrder, threshold: int, now: datetime) -> dict[str, Any]:
    """The alert as JSON (webhook body) — the e-mail is its text rendering."""
    left = time_left(order.deadline_at, now)
    headline = (f"Removal order {order.order_ref} from {order.authority}: "
                + (f"{threshold} minutes left" if threshold else "deadline reached — execute now"))
    return {"type": "basira.removal_order_alert", "order_id": order.id, "order_ref": order.order_ref,
            "authority": order.authority, "threshold_minutes": threshold, "received_at": iso(order.received_at),
            "deadline_at": iso(order.deadline_at), "time_left": format_left(left),
            "targets": order.target_count, "headline": headline}


# --- what goes out --------------------------------------------------------------------------------------------

# Target outcomes that mean the content is gone from the platform: the platform acknowledged the removal (a 2xx
# answer from the action sink), or a reviewer's acknowledged removal came first. `sent` is waiting for that answer;
# `recorded` means Basira wrote the decision down but no action sink is configured, so nothing was removed.
CONFIRMED_OUTCOMES = ("removed", "already_removed")
OUTCOME_WORDS = {  # English here and in the JSON; translated (N_ marks them) where a person reads them
    "removed": N_("removed (the platform acknowledged the removal)"),
    "already_removed": N_("already removed before the order, by the service's own review"),
    "sent": N_("removal sent to the platform, not yet acknowledged"),
    "recorded": N_("recorded only: no action sink is configured, so the content was NOT removed"),
    "not_found": N_("not found on the service"),
    "pending": N_("not executed"),
}


# How an order was executed, stored as a code (removal_orders.execution_method) and said in the reader's language
# where a person reads it (the order page, the statement page and PDF). Rows executed before the code stored the
# English sentence itself: method_code reads those too.
METHOD_WORDS = {
    "webhook_sent": N_("action webhook (remove): %(n)s sent, awaiting acknowledgement"),
    "recorded": N_("recorded only; no action sink configured, nothing removed"),
    "already_removed": N_("already removed by review"),
}
_OLD_SENT = re.compile(r"^action webhook \(remove\): (\d+) sent, awaiting acknowledgement$")
_OLD_WORDS = {"recorded only; no action sink configured, nothing removed": "recorded",
              "already removed by review": "already_removed"}


def execution_method(sent: int, recorded: int) -> str:
    """The code stored for an execution: `webhook_sent:N`, `recorded` (no action sink) or `already_removed`."""
    return f"webhook_sent:{sent}" if sent else "recorded" if recorded else "already_removed"


def method_code(stored: str | None) -> tuple[str, int] | None:
    """(code, sent) of a stored execution method, old English rows included; None for free text or nothing."""
    if not stored:
        return None
    if stored.startswith("webhook_sent:") and stored.partition(":")[2].isdigit():
        return "webhook_sent", int(stored.partition(":")[2])
    if stored in METHOD_WORDS:
        return stored, 0
    if m := _OLD_SENT.match(stored):
        return "webhook_sent", int(m.group(1))
    if stored in _OLD_WORDS:
        return _OLD_WORDS[stored], 0
    return None


def method_words(stored: str | None, gettext: Any) -> str | None:
    """A stored execution method in words, through `gettext` (the reader's language); free text as it is."""
    code = method_code(stored)
    if code is None:
        return stored
    return str(gettext(METHOD_WORDS[code[0]], n=code[1]))

def order_language(order: dict[str, Any]) -> str:
    """The language the statement and the notices of this order are written in: the order's `lang` (given with
    the order: the issuing authority's language, or the one it asked for), English when none or unsupported.
    Authorities and content providers read what is addressed to them in their language, not the reviewer's."""
    from basira.core.i18n import DEFAULT, LANGUAGES

    lang = str((order.get("details") or {}).get("lang") or "").strip().lower()
    return lang if lang in LANGUAGES else DEFAULT


def removal_confirmed_at(targets: Sequence[dict[str, Any]]) -> datetime | None:
    """When the last found target was confirmed removed, or None while any found target is not (or none is found)."""
    found = [t for t in targets if t["outcome"] != "not_found"]
    if not found or any(t["outcome"] not in CONFIRMED_OUTCOMES for t in found):
        return None
    times = [t.get("removed_at") or t.get("executed_at") for t in found]
    return max((x for x in times if x is not None), default=None)


def statement(order: dict[str, Any], targets: Sequence[dict[str, Any]], now: datetime) -> dict[str, Any]:
    """The statement back to the issuing authority (art. 3(6)): what was done, to which item, when — or, for a
    rejected order, why it could not be executed (art. 3(7)-(8)). An order is only stated as executed (with its
    time and whether it met the deadline) once every found target is confirmed removed; until then the statement
    says what is outstanding."""
    executed = order["status"] == "executed"
    received, done_at = order["received_at"], order.get("executed_at")
    out: dict[str, Any] = {
        "type": "basira.removal_order_statement",
        "authority": order["authority"], "order_ref": order["order_ref"], "legal_basis": order["legal_basis"],
        "received_at": iso(received), "deadline_at": iso(order["deadline_at"]), "status": order["status"],
        "prepared_at": iso(now),
    }
    if executed and done_at is not None:
        confirmed_at = removal_confirmed_at(targets)
        out.update(actioned_at=iso(done_at), method=order.get("execution_method"),
                   removal_confirmed=confirmed_at is not None, executed_at=iso(confirmed_at),
                   execution_seconds=(int((confirmed_at - received).total_seconds())
                                      if confirmed_at is not None else None),
                   within_deadline=confirmed_at is not None and confirmed_at <= order["deadline_at"],
                   outstanding=sum(t["outcome"] in ("sent", "recorded") for t in targets))
    else:
        out["reason"] = order.get("status_reason")
    out["items"] = [{"target": t["target"], "outcome": t["outcome"],
                     "action": OUTCOME_WORDS.get(t["outcome"], t["outcome"]),
                     "removed_at": iso(t.get("removed_at") or t.get("executed_at"))
                     if t["outcome"] in CONFIRMED_OUTCOMES else None}
                    for t in targets]
    out["preservation"] = (N_("Removed content and related data are preserved for six months (art. 6).")
                           if executed else None)
    return out


def content_notice(order: dict[str, Any] | None, subject: dict[str, Any], *, reasons: str, legal_basis: str,
                   now: datetime, decision: dict[str, Any] | None = None) -> dict[str, Any]:
    """The notice to the content provider (art. 11): what was removed, why, and how to complain. No reviewer names,
    no authority contact details."""
    body: dict[str, Any] = {
        "type": "basira.content_notice", "platform": subject.get("platform"),
        "post_id": subject.get("post_id"), "account_id": subject.get("account_id"),
        "action": "removed", "removed_at": iso(now), "legal_basis": legal_basis, "reasons": reasons,
        "redress": REDRESS_ORDER if order is not None else REDRESS_OWN,
    }
    lang = order_language(order) if order is not None else DEFAULT_LANG
    if lang != DEFAULT_LANG:  # the provider reads the order's language (the English notice is unchanged)
        from basira.core.i18n import gettext as translated
        from basira.core.i18n import speaking

        with speaking(lang):
            body["redress"] = translated(body["redress"])  # a marked constant (N_ above), not extracted here
        body["lang"] = lang
    if order is not None:
        body["removal_order"] = {"authority": order["authority"], "order_ref": order["order_ref"]}
    if decision is not None:
        body["decision"] = {"decision_id": decision["id"], "reason_code": decision["reason_code"]}
    return body



