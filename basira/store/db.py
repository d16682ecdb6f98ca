"""The unit of work: `with store.transaction() as tx:` — one connection, one transaction, and what writers need
inside it (the bulk insert/update helpers and the event log), so a workflow's writes commit together."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from basira.store import bulk, events

if TYPE_CHECKING:
    from basira.store.store import Store

__all__ = ["EventEntry", "Tx"]

# (kind, actor, subject, payload): one entry of the hash-chained event log
EventEntry = tuple[str, "str | None", "str | None", Any]


@dataclass(frozen=True)
class Tx:
    """An open transaction. Pass it down; only the `with` that made it commits (or rolls back) it."""

    store: Store
    conn: Connection

    @property
    def dialect(self) -> str:
        return self.store.dialect

    def execute(self, statement: Any, *args: Any, **kw: Any) -> Any:
        return self.conn.execute(statement, *args, **kw)

    def insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT (with on_conflict_do_nothing/update)."""
        return bulk.dialect_insert(self.dialect, table)

    def insert_rows(self, table: sa.Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str] = (),
                    returning: Sequence[str] = (), where: str | None = None) -> list[Any]:
        """Bulk INSERT skipping rows that hit the unique index on `conflict` (see Store._insert_rows)."""
        return bulk.insert_rows(self.conn, table, rows, conflict, returning, where)

    def update_rows(self, table: sa.Table, keys: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        bulk.update_rows(self.conn, table, keys, rows)

    def append_events(self, entries: Sequence[EventEntry]) -> list[int]:
        """Append to the hash-chained log in this transaction: the events commit with the change they record."""
        return events.append(self.conn, entries)
