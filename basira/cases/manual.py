"""Cases opened by hand or by a caller that already ranked its subjects (a reviewer, the demo seeds, a test):
through intake like every other case, in the caller's transaction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from basira.cases.intake import Finding, submit
from basira.store.db import Tx

__all__ = ["open_case_for", "open_cases_for"]


def open_case_for(
    tx: Tx,
    subject_kind: str,
    subject_id: int,
    reason: str,
    *,
    priority: float = 0.0,
    detection_id: int | None = None,
    details: dict[str, Any] | None = None,
    actor: str | None = "basira",
) -> tuple[int, bool]:
    """Open a case on a post or account unless one is already open; return (case id, newly opened)."""
    f = Finding((subject_kind, int(subject_id)), "manual", reason, priority=priority, detection_id=detection_id,
                details=details or {})
    got = submit(tx, [f], actor, lookup=True)
    return got.cases[f.subject], bool(got.opened)


def open_cases_for(tx: Tx, cases: Sequence[Mapping[str, Any]], actor: str | None = "basira") -> list[int]:
    """Bulk open_case_for: each mapping has subject_kind, subject_id, reason and optionally source (default
    manual), priority, detection_id, details. Subjects with an open case are skipped. Return the ids of the cases
    opened, each logged as a `case.opened` event in the same transaction (basira.cases.intake)."""
    findings = [Finding((c["subject_kind"], int(c["subject_id"])), c.get("source", "manual"), c["reason"],
                        priority=float(c.get("priority") or 0.0), detection_id=c.get("detection_id"),
                        details=c.get("details") or {}) for c in cases]
    if not findings:
        return []
    return submit(tx, findings, actor).opened
