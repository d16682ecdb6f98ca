"""What the scan summary and the CLI show of the cases: the top of the open ones, with their post and detection."""

from __future__ import annotations

import sqlalchemy as sa

from basira.cases.records import TopCase
from basira.core.time import utc
from basira.store.db import Database
from basira.store.models import Account, Case, Detection, Platform, Post

__all__ = ["top_cases"]


def top_cases(store: Database, limit: int = 10, status: str = "open") -> list[TopCase]:
    """Cases on posts by priority (highest first) with the post, its author and the detection."""
    ct, t, at, pt, dt = (
        Case.__table__,
        Post.__table__,
        Account.__table__,
        Platform.__table__,
        Detection.__table__,
    )
    q = (
        sa.select(
            ct.c.id.label("case_id"),
            ct.c.priority,
            ct.c.reason,
            ct.c.opened_at,
            pt.c.name.label("platform"),
            t.c.external_id.label("post_external_id"),
            t.c.text,
            t.c.created_at,
            at.c.external_id.label("account_external_id"),
            at.c.handle,
            dt.c.model_version,
            dt.c.score,
            dt.c.categories,
            dt.c.evidence,
        )
        .join(t, (ct.c.subject_kind == "post") & (t.c.id == ct.c.subject_id))
        .join(pt, pt.c.id == t.c.platform_id)
        .outerjoin(at, at.c.id == t.c.account_id)
        .outerjoin(dt, dt.c.id == ct.c.detection_id)
        .where(ct.c.status == status)
        .order_by(ct.c.priority.desc(), ct.c.id)
        .limit(limit)
    )
    with store.read() as conn:
        rows = conn.execute(q).mappings().all()
    return [TopCase.from_row(r, opened_at=utc(r["opened_at"]), created_at=utc(r["created_at"])) for r in rows]
