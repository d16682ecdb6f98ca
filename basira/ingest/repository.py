"""The ingest repository: what the readers' records (basira.ingest.records) become in the database —
accounts, posts with their media, account stubs, follows — each written in the caller's unit of work (a Tx)."""

from __future__ import annotations

from collections.abc import Sequence

from basira.ingest.records import AccountRecord, FollowRecord
from basira.store.db import Tx
from basira.store.models import now
from basira.store.network_models import Follow

__all__ = ["add_follows"]


def add_follows(tx: Tx, follows: Sequence[FollowRecord]) -> int:
    """Store follow edges (accounts not yet known get a stub); return the number new. Idempotent."""
    if not follows:
        return 0
    store, conn = tx.store, tx.conn
    stubs = [AccountRecord(f.platform, ext) for f in follows for ext in (f.source_external_id, f.target_external_id)]
    store._insert_account_stubs(conn, stubs)
    rows = []
    by_platform: dict[str, list[FollowRecord]] = {}
    for f in follows:
        by_platform.setdefault(f.platform, []).append(f)
    first = now()
    for platform, recs in by_platform.items():
        pid = store._platform_id(conn, platform)
        ids = store._account_ids(conn, pid, [x for f in recs for x in (f.source_external_id, f.target_external_id)])
        seen = set()
        for f in recs:
            key = (ids[f.source_external_id], ids[f.target_external_id])
            if key[0] != key[1] and key not in seen:
                seen.add(key)
                rows.append({"platform_id": pid, "source_id": key[0], "target_id": key[1], "first_seen_at": first})
    if not rows:
        return 0
    return len(tx.insert_rows(Follow.__table__, rows, ("source_id", "target_id"), ("id",)))
