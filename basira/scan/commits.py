"""Commits that do not wait for the disk, for worker processes whose work is redone when lost.

A Dask worker's or a `basira worker`'s transactions commit with `synchronous_commit = off`: PostgreSQL answers
before the WAL reaches the disk (measured here: 16 ms per commit waiting for fdatasync on the shared machine,
3.6 ms without). A crash of the database can then lose the last fraction of a second of commits — and only a
suffix of them, since the WAL is one sequence: what is lost is exactly work the workers redo (an ingest batch
goes with its checkpoint, detections with their cases and events, a queue batch's results with the claim that
marks it done). The commit that ends a unit of work others rely on stays synchronous and so flushes everything
before it: the claim marking queue items done (basira.intake.queue.claim), the scan client's scan.completed
event. Nothing changes on SQLite.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

if TYPE_CHECKING:
    from basira.store import Store

__all__ = ["relax_commits"]

_relaxed: weakref.WeakSet[Any] = weakref.WeakSet()  # engines already set up


def relax_commits(store: Store) -> None:
    """Every connection `store` opens from now on commits with synchronous_commit off (PostgreSQL only)."""
    if store.dialect != "postgresql" or store.engine in _relaxed:
        return

    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("SET synchronous_commit = off")
        cur.close()
        dbapi_conn.commit()

    sa.event.listen(store.engine, "connect", _on_connect)
    _relaxed.add(store.engine)
    store.engine.dispose()  # connections opened before (a migration's) get the setting too, when reopened
