"""The records compliance hands to its faces (web pages, the REST API, the CLI): removal orders with their targets,
alerts, notices, complaints and preserved copies, and the outcome of each action. Frozen dataclasses with
explicit fields, read by attribute; `to_dict()` is exactly the JSON the REST API and `--json` print (the same
names, values and order as the rows they replace), so the API's schema and answers do not change.

The statement to the authority (`statement`), a notice's `body` and an order's `details` stay JSON documents
(dicts): they are what is sent or was received, shaped by basira.compliance.orders, not rows."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from basira.compliance import orders as rules
from basira.core.records import Record
from basira.core.records import plain as _plain

__all__ = ["CloseResult", "ComplaintDecision", "ComplaintListItem", "ComplaintView", "DueOrder", "ExecutionResult", "LegalHold",
           "NoticeView", "OrderAlertView", "OrderSummary", "OrderTargetView", "OrderToAlert", "OrderView",
           "PreservedCopy", "PreservedListItem", "PreservedRecord", "PreviewAccount", "PreviewMedia", "PreviewPost",
           "StatementToSend", "TargetPreview"]


_Record = Record  # the shared base (basira.core.records)


@dataclass(frozen=True, slots=True)
class Deadline:
    """Where an order stands against its one-hour clock, at `now`."""

    seconds_left: int
    time_left: str  # "42 min", "-3 min" (basira.compliance.orders.format_left)
    overdue: bool  # open and past its deadline

    @classmethod
    def at(cls, deadline_at: datetime, status: str, now: datetime) -> Deadline:
        left = rules.time_left(deadline_at, now)
        return cls(int(left.total_seconds()), rules.format_left(left), status == "open" and left.total_seconds() < 0)


# --- an order -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class OrderTargetView(_Record):
    """One content item an order names (removal_order_targets), with what executing the order did to it."""

    id: int
    order_id: int
    target: str  # as given: URL, post:PLATFORM:ID, account:PLATFORM:ID, PLATFORM:ID
    kind: str  # post | account | unknown
    post_id: int | None
    account_id: int | None
    case_id: int | None
    decision_id: int | None
    delivery_id: int | None
    outcome: str  # pending | sent | recorded | removed | already_removed | not_found
    executed_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderAlertView(_Record):
    """One deadline alert (30, 10, 0 minutes left) on one channel."""

    id: int
    order_id: int
    threshold_minutes: int
    channel: str
    status: str  # sending | sent | failed | skipped
    attempts: int
    last_error: str | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class NoticeView(_Record):
    """A notice to the content provider (art. 11), with its webhook delivery's state."""

    id: int
    post_id: int | None
    account_id: int | None
    platform: str | None
    external_post_id: str | None
    external_account_id: str | None
    order_id: int | None
    decision_id: int | None
    reasons: str
    legal_basis: str
    redress: str
    body: dict[str, Any]  # the notice as sent
    created_at: datetime
    withheld_until: datetime | None
    delivered_at: datetime | None  # recorded, or the webhook's delivery time
    delivery_id: int | None
    delivery_status: str | None


@dataclass(frozen=True, slots=True)
class ComplaintView(_Record):
    """A complaint by a content provider about a removal (art. 10)."""

    id: int
    order_id: int | None
    case_id: int | None
    post_id: int | None
    account_id: int | None
    complainant: str
    grounds: str
    received_at: datetime
    status: str  # open | upheld | rejected
    decided_at: datetime | None
    decided_by: str | None
    decision_reasons: str | None
    reinstated: bool
    reinstated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ComplaintListItem(ComplaintView):
    """A complaint in the list, with the order it is about (when it is about one)."""

    authority: str | None
    order_ref: str | None


@dataclass(frozen=True, slots=True)
class PreservedRecord(_Record):
    """The minimal record of a preserved copy (basira.compliance.preservation.MINIMAL_FIELDS): what stays after
    the purge — no content."""

    id: int
    post_id: int | None
    account_id: int | None
    platform: str | None
    external_id: str | None
    case_id: int | None
    order_id: int | None
    decision_id: int | None
    reason: str  # removal_order | decision
    legal_basis: str
    preserved_at: datetime
    preserve_until: datetime
    legal_hold_until: datetime | None
    content_sha256: str
    purged_at: datetime | None


@dataclass(frozen=True, slots=True)
class PreservedListItem(PreservedRecord):
    """A preserved copy in the list: the minimal record, the hold's reason, and whether the content is still kept."""

    legal_hold_reason: str | None
    has_content: bool


@dataclass(frozen=True, slots=True)
class PreservedCopy(PreservedRecord):
    """A preserved copy with its snapshot (None once purged)."""

    legal_hold_reason: str | None
    content: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class LegalHold(_Record):
    """A legal hold set on a preserved copy (art. 6(2))."""

    item_id: int
    legal_hold_until: datetime
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """As the REST API answers (the reason is the caller's own)."""
        return {"item_id": self.item_id, "legal_hold_until": self.legal_hold_until}


@dataclass(frozen=True, slots=True)
class OrderSummary(_Record):
    """One removal order as the list shows it: the order, its target counts and its deadline state."""

    id: int
    authority: str
    order_ref: str
    legal_basis: str
    reasons: str
    reason_code: str
    contact: str | None
    source: str  # web | api | file
    created_by: str | None
    received_at: datetime
    deadline_at: datetime
    status: str  # open | executed | rejected | withdrawn
    status_reason: str | None
    executed_at: datetime | None
    executed_by: str | None
    execution_method: str | None
    statement: dict[str, Any] | None  # the statement to the authority (art. 3(6)), as sent
    statement_sent_at: datetime | None
    details: dict[str, Any]  # further fields of the order as received
    target_count: int
    found_count: int
    seconds_left: int
    time_left: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class OrderView(OrderSummary):
    """One removal order with everything about it: the summary's fields (the order, its counts, its deadline
    state and its statement) and its targets, deadline alerts, notices, complaints and preserved copies (minimal
    records). Extends OrderSummary so the order's fields are defined once."""

    targets: list[OrderTargetView]
    alerts: list[OrderAlertView]
    notices: list[NoticeView]
    complaints: list[ComplaintView]
    preserved: list[PreservedRecord]

    def to_dict(self) -> dict[str, Any]:
        """As the REST API answers, in the order it always had (see _VIEW_KEYS)."""
        return {k: _plain(getattr(self, k)) for k in _VIEW_KEYS}

    @property
    def language(self) -> str:
        """The language its statement and notices are written in (basira.compliance.orders.order_language)."""
        return rules.order_language({"details": self.details})


@dataclass(frozen=True, slots=True)
class DueOrder(_Record):
    """An open order due within the banner's window or overdue: what the banner on every page shows of it."""

    id: int
    authority: str
    order_ref: str
    deadline_at: datetime
    seconds_left: int
    time_left: str
    overdue: bool


@dataclass(frozen=True, slots=True)
class OrderToAlert(_Record):
    """An open order as the deadline alerts read it, with the thresholds (minutes left) already sent or skipped
    on each channel."""

    id: int
    authority: str
    order_ref: str
    received_at: datetime
    deadline_at: datetime
    target_count: int
    alerts_done: dict[str, frozenset[int]]  # channel -> thresholds handled


@dataclass(frozen=True, slots=True)
class StatementToSend(_Record):
    """A statement to the authority not yet sent, to the order's contact (the tick e-mails it)."""

    id: int
    authority: str
    order_ref: str
    contact: str
    statement: dict[str, Any]


def _view_keys() -> tuple[str, ...]:
    """OrderView's JSON keys: the summary's, with `targets` after `details` and the other lists after the
    counts — where they stood when OrderView listed every field itself (clients and diffs read that order)."""
    keys = [f.name for f in fields(OrderSummary)]
    keys.insert(keys.index("details") + 1, "targets")
    at = keys.index("found_count") + 1
    keys[at:at] = ["alerts", "notices", "complaints", "preserved"]
    return tuple(keys)


_VIEW_KEYS = _view_keys()


# --- what executing would act on ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PreviewPost(_Record):
    external_id: str
    text: str  # cut at the preview's limit
    lang: str | None
    created_at: datetime | None
    account_id: int | None
    platform: str
    cut: bool  # the text was longer


@dataclass(frozen=True, slots=True)
class PreviewAccount(_Record):
    handle: str | None
    display_name: str | None
    external_id: str
    status: str | None


@dataclass(frozen=True, slots=True)
class PreviewMedia(_Record):
    url: str | None
    kind: str | None

    @property
    def safe_url(self) -> str | None:
        """The URL a reviewer's browser may load (http(s) or an inline image); anything else is not loaded."""
        url = self.url or ""
        return url if url.startswith(("https://", "http://", "data:image/")) else None

    @property
    def is_video(self) -> bool:
        return (self.kind or "") in ("video", "animated_gif")


@dataclass(frozen=True, slots=True)
class TargetPreview(_Record):
    """One target as executing the order would find it now: the post (text, media, author) or the account."""

    id: int
    order_id: int
    target: str
    kind: str
    post_id: int | None
    account_id: int | None
    case_id: int | None
    decision_id: int | None
    delivery_id: int | None
    outcome: str
    executed_at: datetime | None
    post: PreviewPost | None
    account: PreviewAccount | None
    media: list[PreviewMedia]


# --- outcomes of actions ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ExecutionResult(_Record):
    """What executing an order did: removals sent (awaiting the platform), only recorded (no action sink),
    already removed by review; and the statement prepared for the authority."""

    order_id: int
    status: str
    sent: int
    recorded: int
    already_removed: int
    removal_confirmed: bool
    statement: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CloseResult(_Record):
    """An order closed without execution: rejected (with its statement) or withdrawn (none)."""

    order_id: int
    status: str  # rejected | withdrawn
    statement: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class ComplaintDecision(_Record):
    complaint_id: int
    status: str  # upheld | rejected
    reinstated: bool
    restore_webhooks: int  # restore action webhooks queued
