"""The platform's own ids of a case subject: what webhooks, notices and statements of reasons name."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from basira.store.models import Account, Platform, Post

__all__ = ["subject_ids"]

P, A, PF = Post.__table__, Account.__table__, Platform.__table__


def subject_ids(conn: Connection, kind: str, sid: int) -> dict[str, Any]:
    """The platform's own ids of a case subject (post or account): {platform, post_id?, account_id}."""
    if kind == "post":
        r = conn.execute(sa.select(P.c.external_id, PF.c.name, A.c.external_id.label("acc"))
                         .join(PF, PF.c.id == P.c.platform_id).outerjoin(A, A.c.id == P.c.account_id)
                         .where(P.c.id == sid)).first()
        return {"platform": r.name, "post_id": r.external_id, "account_id": r.acc} if r else {}
    a = conn.execute(sa.select(A.c.external_id, PF.c.name).join(PF, PF.c.id == A.c.platform_id)
                     .where(A.c.id == sid)).first()
    return {"platform": a.name, "account_id": a.external_id} if a else {}
