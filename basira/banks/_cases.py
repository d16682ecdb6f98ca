"""Hash matches become findings: a new match opens a case on its post, or raises the open one, through
`basira.cases.intake.submit` (the one writer of cases) in the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from basira.cases.intake import Finding, submit
from basira.cases.priority import PrioritySignals, label_categories
from basira.store.bank_models import BankMatchRow
from basira.store.db import Tx
from basira.store.models import Case, Detection

_REASON_MATCHES = 3  # matches named in a case's reason; the details keep up to _DETAIL_MATCHES
_DETAIL_MATCHES = 20


def _describe(m: Any) -> str:
    return f"bank {m.bank!r} item {m.item_id} ({m.signal_type}, distance {m.distance:g})"


def _label_categories(matches: Sequence[Any]) -> list[str]:
    """Bank labels that name a detector category (behaviour: recruitment, ...) count towards the severity."""
    return list(label_categories(m.labels for m in matches))



def open_or_raise_cases(tx: Tx, acted: dict[int, list[Any]], actor: str | None) -> tuple[int, int]:
    C, D, t = Case.__table__, Detection.__table__, BankMatchRow.__table__
    pids = list(acted)
    cases = {r.subject_id: r for r in tx.execute(
        sa.select(C.c.id, C.c.subject_id, C.c.reason, C.c.priority, C.c.details)
        .where(C.c.subject_kind == "post", C.c.subject_id.in_(pids), C.c.closed_at.is_(None)))}
    # Every acted-on item ever matched on the post counts towards the priority (capped in case_priority).
    counts = dict(tx.execute(
        sa.select(t.c.subject, sa.func.count(sa.distinct(t.c.item_id)))
        .where(t.c.subject.in_([f"post:{p}" for p in pids]), t.c.status == "match").group_by(t.c.subject)).all())
    latest = {}
    for r in tx.execute(sa.select(D.c.id, D.c.post_id, D.c.score, D.c.categories, D.c.model_version)
                          .where(D.c.post_id.in_(pids)).order_by(D.c.id)):
        latest[r.post_id] = r  # the last one wins
    findings = []
    for pid, ms in sorted(acted.items()):
        desc = [_describe(m) for m in ms]
        listed = [{"bank": m.bank, "item_id": m.item_id, "signal_type": m.signal_type, "distance": m.distance,
                   "labels": m.labels} for m in ms]
        n = int(counts.get(f"post:{pid}", len(ms)))
        reason = "hash match: " + "; ".join(desc[:_REASON_MATCHES]) + (
            f" and {len(desc) - _REASON_MATCHES} more" if len(desc) > _REASON_MATCHES else "")
        case = cases.get(pid)
        if case is None:
            d = latest.get(pid)
            cats = [*(d.categories or [] if d else []), *_label_categories(ms)]
            details: dict[str, Any] = {"hash_matches": listed[:_DETAIL_MATCHES]}
            if d is not None:
                details |= {"model_version": d.model_version, "score": float(d.score),
                            "categories": list(d.categories or [])}
            findings.append(Finding(("post", pid), "hash", reason, details=details, detection_id=d.id if d else None,
                                    signals=PrioritySignals(model_score=float(d.score) if d else 0.0,
                                                            categories=tuple(cats), hash_matches=n)))
            continue
        det = dict(case.details or {})
        cats = [*(det.get("categories") or []), *_label_categories(ms)]

        def merge(old: Any, listed: list[dict[str, Any]] = listed) -> dict[str, Any]:
            return {**old, "hash_matches": [*(old.get("hash_matches") or []), *listed][:_DETAIL_MATCHES]}

        findings.append(Finding(("post", pid), "hash", reason, raises=True, merge=merge, evidence={"matches": listed},
                                signals=PrioritySignals(model_score=float(det.get("score") or 0.0),
                                                        categories=tuple(cats), hash_matches=n)))
    got = submit(tx, findings, actor)
    return len(got.opened), len(got.raised)

