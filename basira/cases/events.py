"""The one shape of each case event in the audit chain, whoever writes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from basira.core.time import iso

__all__ = ["decided", "opened", "raised"]

Entry = tuple[str, "str | None", "str | None", dict[str, Any]]


def opened(case_id: int, subject: str, source: str, reason: str, priority: float, actor: str | None,
           ref: str | None = None) -> Entry:
    """`case.opened`: which subject, found by what (source and, when there is one, the row it came from)."""
    payload: dict[str, Any] = {"subject": subject, "source": source, "reason": reason, "priority": priority}
    if ref is not None:
        payload["ref"] = ref
    return ("case.opened", actor, f"case:{case_id}", payload)


def raised(kind: str, case_id: int, subject: str, source: str, reason: str, before: float, after: float,
           actor: str | None, evidence: dict[str, Any]) -> Entry:
    """An open case that new evidence raised (`case.hash_matched` for a bank match): priority before and after."""
    return (kind, actor, f"case:{case_id}", {"subject": subject, "source": source, "reason": reason,
                                             "priority": [before, after], **evidence})


def decided(case_id: int, decision_id: int, stage: str, action: str, reason_code: str, decided_by: str,
            final_at: datetime | None, from_status: str, to_status: str, note: str | None = None,
            order_id: int | None = None) -> Entry:
    """`review.decided`, the same for a reviewer's decision and an executed removal order."""
    payload: dict[str, Any] = {"case_id": case_id, "decision_id": decision_id, "stage": stage, "action": action,
                               "reason_code": reason_code, "decided_by": decided_by, "final_at": iso(final_at),
                               "from": from_status, "to": to_status, "note": note or ""}
    if order_id is not None:
        payload["order_id"] = order_id
    return ("review.decided", decided_by, f"case:{case_id}", payload)
