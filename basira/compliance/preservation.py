"""Preservation of removed content (Regulation (EU) 2021/784, art. 6), as pure functions: how long an item is
kept, when a legal hold extends that, when it may be purged, and what the purge keeps.

Art. 6(2): six months from the removal; longer, for as long as needed, when an authority or court asks (a
legal hold). After that the content goes; the minimal record (ids, SHA-256 of the content, dates, legal basis)
stays, so the removal can still be accounted for."""

from __future__ import annotations

import calendar
import hashlib
from datetime import datetime
from typing import Any

import orjson

from basira.core.errors import BasiraError
from basira.core.i18n import N_

PRESERVE_MONTHS = 6
LEGAL_BASIS = "Regulation (EU) 2021/784, art. 6"
# Kept after a purge: enough to answer "what was removed, when, on what basis" without the content itself.
MINIMAL_FIELDS = ("id", "post_id", "account_id", "platform", "external_id", "case_id", "order_id", "decision_id",
                  "reason", "legal_basis", "preserved_at", "preserve_until", "legal_hold_until", "content_sha256",
                  "purged_at")


def add_months(t: datetime, months: int) -> datetime:
    """Calendar months; the day is clamped (31 August + 6 months = 28/29 February)."""
    y, m = divmod(t.month - 1 + months, 12)
    year, month = t.year + y, m + 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def preserve_until(preserved_at: datetime) -> datetime:
    return add_months(preserved_at, PRESERVE_MONTHS)


def purge_after(item: dict[str, Any]) -> datetime:
    """The later of the six-month end and the legal hold's end."""
    hold: datetime | None = item.get("legal_hold_until")
    end: datetime = item["preserve_until"]
    return max(end, hold) if hold is not None else end


def purge_due(item: dict[str, Any], now: datetime) -> bool:
    return item.get("purged_at") is None and now >= purge_after(item)


def content_hash(snapshot: dict[str, Any]) -> str:
    """SHA-256 of the snapshot's canonical JSON (sorted keys): the fingerprint the minimal record keeps."""
    return hashlib.sha256(orjson.dumps(snapshot, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)).hexdigest()


def minimal_record(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item.get(k) for k in MINIMAL_FIELDS}


class HoldError(BasiraError):
    """A legal hold refused (no reason, or an end not in the future)."""


def check_hold(until: datetime, reason: str, now: datetime) -> None:
    """A legal hold needs a reason and an end in the future (an open-ended hold is not allowed: art. 6(2) says
    'for as long as necessary', so it is reviewed and renewed, not forgotten)."""
    if not (reason or "").strip():
        raise HoldError("a legal hold needs a reason (the authority or court and its request)").said(
            N_("a legal hold needs a reason (the authority or court and its request)"))
    if until <= now:
        raise HoldError("a legal hold must end in the future").said(N_("a legal hold must end in the future"))
