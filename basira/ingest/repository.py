"""The ingest repository: what the readers' records (basira.ingest.records) become in the database — accounts,
posts with their media, account stubs, follows, and the checkpoint that lets a killed ingest resume. Writers take
the caller's unit of work (`with store.transaction() as tx:`), so a batch and its checkpoint commit together."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from basira.core.time import utc
from basira.ingest.records import AccountRecord, FollowRecord, PostRecord
from basira.store.db import Tx
from basira.store.models import Account, IngestCheckpoint, Media, Platform, Post, now
from basira.store.network_models import Follow

if TYPE_CHECKING:
    from basira.store.store import Store

__all__ = ["Checkpoint", "add_follows", "get_checkpoint", "ingest_batch", "save_checkpoint", "upsert_accounts",
           "upsert_posts"]

_ACCOUNT_FIELDS = ("handle", "display_name", "bio", "created_at", "suspended_at", "removed_at", "status",
                   "profile_image_hash", "extra")
_CHUNK = 500  # rows per IN (...) lookup


@dataclass(frozen=True)
class Checkpoint:
    """How far the ingest of one source got: `records_done` records of the file with this fingerprint."""

    source: str
    fingerprint: str
    format: str
    records_done: int
    completed: bool


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def ingest_batch(tx: Tx, accounts: Sequence[AccountRecord], posts: Sequence[PostRecord],
                 checkpoint: Checkpoint | None = None) -> tuple[int, int]:
    """Store a batch and move the ingest checkpoint in the caller's transaction; return (posts new, accounts new)."""
    accounts_new = _upsert_accounts(tx, accounts)
    posts_new, stubs_new = _upsert_posts(tx, posts)
    if checkpoint is not None:
        save_checkpoint(tx, checkpoint)
    return posts_new, accounts_new + stubs_new


def upsert_accounts(tx: Tx, batch: Sequence[AccountRecord]) -> int:
    """Insert new accounts, update changed fields of known ones; return the number new."""
    return _upsert_accounts(tx, batch)


def upsert_posts(tx: Tx, batch: Sequence[PostRecord]) -> int:
    """Insert posts not yet stored (by platform and external id) with their media; return the number new."""
    return _upsert_posts(tx, batch)[0]


def _upsert_accounts(tx: Tx, batch: Sequence[AccountRecord]) -> int:
    if not batch:
        return 0
    batch = _resolve_handles(tx, batch)
    # Merge duplicates inside the batch: later non-empty values win.
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for rec in batch:
        key = (rec.platform, rec.external_id)
        row = merged.setdefault(key, {})
        for f in _ACCOUNT_FIELDS:
            v = getattr(rec, f)
            if v is not None:
                if f == "extra" and row.get("extra"):
                    v = {**row["extra"], **v}
                row[f] = utc(v) if isinstance(v, datetime) else v
    t = Account.__table__
    new_total = 0
    by_platform: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for (platform, ext), row in merged.items():
        by_platform.setdefault(platform, []).append((ext, row))
    for platform, rows in by_platform.items():
        pid = tx.platform_id(platform)
        existing = _stored_accounts(tx, pid, [ext for ext, _ in rows])
        fresh = [
            {"platform_id": pid, "external_id": ext, "first_seen_at": now(), **{f: None for f in _ACCOUNT_FIELDS},
             "status": "active", **row}
            for ext, row in rows
            if ext not in existing
        ]
        inserted = {r.external_id for r in tx.insert_rows(t, fresh, ("platform_id", "external_id"),
                                                          ("external_id",))}
        new_total += len(inserted)
        # A fresh row that hit the unique index was inserted meanwhile by a concurrent ingest (a stub of the
        # account, its post's author, committed while this one read): the INSERT waited for that commit and
        # skipped the row, and the record's fields would be lost. Read the row now (a new statement sees the
        # commit, PostgreSQL's READ COMMITTED) and merge into it as into any stored account below: the
        # record's non-empty fields are set, the others kept, extra fields merged — the effect of
        # ON CONFLICT DO UPDATE SET f = COALESCE(EXCLUDED.f, accounts.f) with the merge rules of the update.
        # SQLite has one writer at a time (the transaction holds the lock since BEGIN IMMEDIATE): never here.
        lost = [r["external_id"] for r in fresh if r["external_id"] not in inserted]
        if lost:
            existing.update(_stored_accounts(tx, pid, lost))
        # Changed fields, grouped by which fields changed: one bulk UPDATE per group.
        changed: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for ext, row in rows:
            old = existing.get(ext)
            if old is None:
                continue
            if row.get("extra") and old.get("extra"):  # extra fields accumulate; new values win
                row = {**row, "extra": {**old["extra"], **row["extra"]}}
            diff = {f: v for f, v in row.items() if old.get(f) != v}
            if diff:
                changed.setdefault(tuple(sorted(diff)), []).append({"platform_id": pid, "external_id": ext, **diff})
        for group in changed.values():
            tx.update_rows(t, ("platform_id", "external_id"), group)
    return new_total


def _stored_accounts(tx: Tx, platform_id: int, externals: Sequence[str]) -> dict[str, dict[str, Any]]:
    t = Account.__table__
    out: dict[str, dict[str, Any]] = {}
    cols = [t.c.external_id, *(t.c[f] for f in _ACCOUNT_FIELDS)]
    for chunk in _chunks(externals):
        q = sa.select(*cols).where(t.c.platform_id == platform_id, tx.in_(t.c.external_id, chunk))
        out.update((r.external_id, r._asdict()) for r in tx.execute(q))
    return out


def _resolve_handles(tx: Tx, batch: Sequence[AccountRecord]) -> Sequence[AccountRecord]:
    """Records known only by handle (`match_handle`: a suspension reported by username) take the external id
    of the account stored with that handle (case-insensitive), so the suspension lands on it."""
    pending = [r for r in batch if getattr(r, "match_handle", False) and r.handle]
    if not pending:
        return batch
    t, pt = Account.__table__, Platform.__table__
    # The same batch may carry the account itself (its user object before the error).
    found: dict[tuple[str, str], str] = {(r.platform, r.handle.lower()): r.external_id for r in batch
                                          if r.handle and not getattr(r, "match_handle", False)}
    for platform in {r.platform for r in pending}:
        handles = sorted({r.handle.lower() for r in pending if r.platform == platform and r.handle})
        for chunk in _chunks(handles):
            q = (sa.select(sa.func.lower(t.c.handle).label("h"), t.c.external_id)
                 .join(pt, pt.c.id == t.c.platform_id)
                 .where(pt.c.name == platform, sa.func.lower(t.c.handle).in_(chunk),
                        ~t.c.external_id.startswith("@"))
                 .order_by(t.c.id))
            for r in tx.execute(q):
                found.setdefault((platform, r.h), r.external_id)
    out: list[AccountRecord] = []
    for a in batch:
        ext = found.get((a.platform, a.handle.lower())) if getattr(a, "match_handle", False) and a.handle else None
        out.append(dataclasses.replace(a, external_id=ext, handle=None, match_handle=False) if ext else a)
    return out


def account_ids(tx: Tx, platform_id: int, externals: Iterable[str]) -> dict[str, int]:
    """Internal ids of the platform's accounts with these external ids (unknown ones left out)."""
    t = Account.__table__
    out: dict[str, int] = {}
    for chunk in _chunks(sorted(set(externals))):
        q = sa.select(t.c.external_id, t.c.id).where(t.c.platform_id == platform_id, tx.in_(t.c.external_id, chunk))
        out.update({r.external_id: r.id for r in tx.execute(q)})
    return out


def _upsert_posts(tx: Tx, batch: Sequence[PostRecord]) -> tuple[int, int]:
    """Return (posts new, accounts new as stubs)."""
    if not batch:
        return 0, 0
    unique: dict[tuple[str, str], PostRecord] = {}
    for rec in batch:
        unique.setdefault((rec.platform, rec.external_id), rec)
    # Authors we have not seen get a stub account (handle only) so every post has one.
    stubs = [AccountRecord(platform=p.platform, external_id=p.account_external_id, handle=p.handle)
             for p in unique.values() if p.account_external_id]
    by_platform: dict[str, list[PostRecord]] = {}
    for rec in unique.values():
        by_platform.setdefault(rec.platform, []).append(rec)
    stubs_new = insert_account_stubs(tx, stubs)
    t, mt = Post.__table__, Media.__table__
    new_total = 0
    ingested = now()
    for platform, recs in by_platform.items():
        pid = tx.platform_id(platform)
        acc = account_ids(tx, pid, (r.account_external_id for r in recs if r.account_external_id))
        rows = [
            {
                "platform_id": pid,
                "external_id": r.external_id,
                "account_id": acc.get(r.account_external_id) if r.account_external_id else None,
                "text": r.text,
                "lang": r.lang,
                "created_at": utc(r.created_at),
                "reply_to": r.reply_to,
                "quote_of": r.quote_of,
                "repost_of": r.repost_of,
                "forwarded_from": r.forwarded_from,
                "mentions": list(r.mentions),
                "hashtags": list(r.hashtags),
                "urls": list(r.urls),
                "source_file": r.source_file,
                "source_line": r.source_line,
                "ingested_at": ingested,
                "thread": r.thread,
                "extra": r.extra,
            }
            for r in recs
        ]
        returned = tx.insert_rows(t, rows, ("platform_id", "external_id"), ("id", "external_id"))
        inserted = {row.external_id: row.id for row in returned}
        new_total += len(inserted)
        media_rows = [
            {"post_id": inserted[r.external_id], "position": i, "url": m.url, "kind": m.kind, "sha256": m.sha256,
             "pdq": m.pdq, "md5": m.md5}
            for r in recs
            if r.external_id in inserted
            for i, m in enumerate(r.media)
        ]
        tx.insert_rows(mt, media_rows, ("post_id", "position"))
    return new_total, stubs_new


def insert_account_stubs(tx: Tx, stubs: Sequence[AccountRecord]) -> int:
    """Accounts known only by external id (and perhaps handle) that are not stored yet; return the number new."""
    if not stubs:
        return 0
    seen: dict[tuple[str, str], AccountRecord] = {}
    for s in stubs:
        prev = seen.get((s.platform, s.external_id))
        if prev is None or (prev.handle is None and s.handle):
            seen[(s.platform, s.external_id)] = s
    first = now()
    rows = [{"platform_id": tx.platform_id(s.platform), "external_id": s.external_id, "handle": s.handle,
             "status": "active", "first_seen_at": first} for s in seen.values()]
    return len(tx.insert_rows(Account.__table__, rows, ("platform_id", "external_id"), ("id",)))


def add_follows(tx: Tx, follows: Sequence[FollowRecord]) -> int:
    """Store follow edges (accounts not yet known get a stub); return the number new. Idempotent."""
    if not follows:
        return 0
    insert_account_stubs(tx, [AccountRecord(f.platform, ext) for f in follows
                              for ext in (f.source_external_id, f.target_external_id)])
    rows = []
    by_platform: dict[str, list[FollowRecord]] = {}
    for f in follows:
        by_platform.setdefault(f.platform, []).append(f)
    first = now()
    for platform, recs in by_platform.items():
        pid = tx.platform_id(platform)
        ids = account_ids(tx, pid, [x for f in recs for x in (f.source_external_id, f.target_external_id)])
        seen = set()
        for f in recs:
            key = (ids[f.source_external_id], ids[f.target_external_id])
            if key[0] != key[1] and key not in seen:
                seen.add(key)
                rows.append({"platform_id": pid, "source_id": key[0], "target_id": key[1], "first_seen_at": first})
    if not rows:
        return 0
    return len(tx.insert_rows(Follow.__table__, rows, ("source_id", "target_id"), ("id",)))


def get_checkpoint(store: Store, source: str) -> Checkpoint | None:
    t = IngestCheckpoint.__table__
    with store.read() as conn:
        r = conn.execute(sa.select(t).where(t.c.source == source)).first()
    if r is None:
        return None
    return Checkpoint(r.source, r.fingerprint, r.format, int(r.records_done), bool(r.completed))


def save_checkpoint(tx: Tx, cp: Checkpoint) -> None:
    t = IngestCheckpoint.__table__
    values = {"source": cp.source, "fingerprint": cp.fingerprint, "format": cp.format,
              "records_done": cp.records_done, "completed": cp.completed, "updated_at": now()}
    stmt = tx.insert(t).values(**values)
    tx.execute(stmt.on_conflict_do_update(index_elements=["source"],
                                          set_={k: v for k, v in values.items() if k != "source"}))
