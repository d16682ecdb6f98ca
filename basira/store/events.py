"""The append-only, hash-chained event log: every state change is an entry, appended in the same transaction as
the change it records. Entry n's hash is SHA-256(entry n-1's hash + canonical JSON of entry n)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from basira.core.time import utc, utcnow
from basira.store import bulk
from basira.store.models import Event

__all__ = ["GENESIS_HASH", "append", "canonical_json", "event_hash", "verify"]

GENESIS_HASH = "0" * 64
# The PostgreSQL advisory lock that serializes appends to one chain: (this constant, hashtext of the schema the
# `events` table resolves in). Advisory locks are per database, and two Basira deployments may live in two
# schemas of one database, each with its own chain: keyed by the constant alone, every writer of every schema
# queued on one lock (and a test's schema waited on its neighbours'). Two schema names whose 32-bit hashes
# collide share a lock again: that costs waiting, never correctness (each chain is in its own table).
_EVENT_LOCK_CLASS = 736729890


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON (sorted keys, no spaces, UTF-8) for hashing."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def event_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_json(entry)).hexdigest()


def _event_entry(
    id_: int, at: datetime, kind: str, actor: str | None, subject: str | None, payload: Any
) -> dict[str, Any]:
    return {
        "id": id_,
        "at": utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),  # type: ignore[union-attr]
        "kind": kind,
        "actor": actor,
        "subject": subject,
        "payload": payload,
    }


def append(conn: Connection, entries: Sequence[tuple[str, str | None, str | None, Any]]) -> list[int]:
    """Append (kind, actor, subject, payload) entries in `conn`'s transaction; return their ids."""
    if not entries:
        return []
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k, hashtext(current_schema()))"),
                     {"k": _EVENT_LOCK_CLASS})
    t = Event.__table__
    last = conn.execute(sa.select(t.c.id, t.c.hash).order_by(t.c.id.desc()).limit(1)).first()
    next_id, prev = (last.id + 1, last.hash) if last else (1, GENESIS_HASH)
    rows = []
    at = utcnow()
    for kind, actor, subject, payload in entries:
        # Round-trip the payload through JSON so the hash is of what the database will return.
        payload = orjson.loads(canonical_json(payload))
        entry = _event_entry(next_id, at, kind, actor, subject, payload)
        h = event_hash(prev, entry)
        rows.append({"id": next_id, "at": at, "kind": kind, "actor": actor, "subject": subject,
                     "payload": payload, "prev_hash": prev, "hash": h})
        prev = h
        next_id += 1
    bulk.insert_rows(conn, t, rows)
    return [int(r["id"]) for r in rows]


def verify(rows: Iterable[dict[str, Any]]) -> tuple[bool, int | None]:
    """Recompute the chain over the entries in id order; return (intact, id of the first bad entry or None)."""
    prev = GENESIS_HASH
    expected_id = 1
    for r in rows:
        entry = _event_entry(r["id"], r["at"], r["kind"], r["actor"], r["subject"], r["payload"])
        if r["id"] != expected_id or r["prev_hash"] != prev or event_hash(prev, entry) != r["hash"]:
            return False, int(r["id"])
        prev = r["hash"]
        expected_id += 1
    return True, None
