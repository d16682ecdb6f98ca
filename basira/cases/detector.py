"""The detector's path into cases: store a batch of detections and open a case on each flagged post, in the
caller's transaction (a post already scored by that model version is left as it is)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from basira.cases.intake import Finding, submit
from basira.store.db import Tx
from basira.store.detections import store_new_detections
from basira.store.models import now

__all__ = ["record_detections"]


def _reason(row: dict[str, Any]) -> str:
    cats = ", ".join(row.get("categories") or []) or "unspecified"
    return f"detector flagged the post (score {float(row['score']):.3f}; {cats})"


def record_detections(tx: Tx, rows: Sequence[dict[str, Any]], actor: str | None = "detector") -> tuple[int, int]:
    """Store new detections ({post_id, model_version, score, flagged, categories, evidence}) and open a case on
    each flagged post; return (detections new, cases opened)."""
    if not rows:
        return 0, 0
    created = now()
    flagged = {int(r["post_id"]): r for r in rows if r.get("flagged")}
    new = store_new_detections(tx, rows, created)
    findings = [
        Finding(
            ("post", r.post_id),
            "detector",
            _reason(flagged[r.post_id]),
            priority=float(flagged[r.post_id].get("priority", flagged[r.post_id]["score"])),
            detection_id=r.id,
            details={
                "model_version": flagged[r.post_id]["model_version"],
                "score": float(flagged[r.post_id]["score"]),
                "categories": list(flagged[r.post_id].get("categories") or []),
            },
        )
        for r in sorted(new, key=lambda r: r.post_id)
        if r.post_id in flagged
    ]
    opened = submit(tx, findings, actor, at=created).opened
    return len(new), len(opened)
