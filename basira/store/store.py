"""The Store: the one object that talks to the database. Bulk upserts, cases, the event log, checkpoints."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from basira.core.time import utc
from basira.ingest.records import AccountRecord, PostRecord
from basira.store import bulk, events
from basira.store.db import Tx
from basira.store.events import GENESIS_HASH, _event_entry, canonical_json, event_hash  # noqa: F401 - re-exported
from basira.store.models import (
    Account,
    Case,
    Detection,
    Event,
    IngestCheckpoint,
    Media,
    Platform,
    Post,
    now,
)

MIGRATIONS = Path(__file__).parent / "migrations"
_ACCOUNT_FIELDS = (
    "handle",
    "display_name",
    "bio",
    "created_at",
    "suspended_at",
    "removed_at",
    "status",
    "profile_image_hash",
    "extra",
)
_CHUNK = 500  # rows per IN (...) lookup


@dataclass(frozen=True)
class Checkpoint:
    source: str
    fingerprint: str
    format: str
    records_done: int
    completed: bool


def _detection_reason(row: dict[str, Any]) -> str:
    cats = ", ".join(row.get("categories") or []) or "unspecified"
    return f"detector flagged the post (score {float(row['score']):.3f}; {cats})"


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself so writers can take the lock up front (BEGIN IMMEDIATE).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = "IMMEDIATE" if conn.get_execution_options().get("basira_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (Alembic `upgrade head`)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()


def open_store(url: str, *, migrate_schema: bool = True, echo: bool = False) -> Store:
    """Open the database at a SQLAlchemy URL (or a plain SQLite file path) and migrate it to head."""
    if "://" not in url:
        url = f"sqlite:///{url}"
    sa_url = sa.make_url(url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
        Path(sa_url.database).parent.mkdir(parents=True, exist_ok=True)
    if sa_url.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        if sa_url.get_driver_name() == "psycopg":
            # No server-side prepared statements: each statement is planned for its values and the tables as
            # they are now. A plan prepared while an ingest's tables were nearly empty stays for the whole
            # run, and made each lookup of 500 accounts compare every row with every value (60 ms, not 1).
            kwargs["connect_args"] = {"prepare_threshold": None}
    engine = sa.create_engine(sa_url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    if migrate_schema:
        migrate(engine)
    return Store(engine)


class Store:
    """Repository-style access to Basira's database. Every method runs in its own transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._platform_ids: dict[str, int] = {}
        self._write_lock: Any = threading.RLock() if self.dialect == "sqlite" else nullcontext()
        self._ambient = threading.local()  # this thread's open transaction (Store.transaction), if any

    # --- plumbing -------------------------------------------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction: committed on success, rolled back on any error. Inside `transaction()` (on
        this thread) it joins that unit of work instead: its writes commit, or roll back, with the rest."""
        outer = getattr(self._ambient, "conn", None)
        if outer is not None:
            yield outer
            return
        # SQLite has one writer at a time. Threads of this process queue on a lock (woken at once) rather
        # than on SQLite's busy handler, which polls with sleeps of up to 100 ms.
        with self._write_lock, self.engine.connect() as conn:
            conn.execution_options(basira_write=True)
            try:
                with conn.begin():
                    yield conn
            finally:
                new_platforms = conn.info.pop("basira_new_platforms", {})
            # Cache platform ids only once their insert is committed.
            self._platform_ids.update(new_platforms)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One unit of work: everything done through the Tx — and every `write()` this thread opens meanwhile,
        however deep in a repository — commits together when the outermost block ends."""
        outer = getattr(self._ambient, "conn", None)
        if outer is not None:
            yield Tx(self, outer)
            return
        with self.write() as conn:
            self._ambient.conn = conn
            try:
                yield Tx(self, conn)
            finally:
                self._ambient.conn = None

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _insert(self, table: sa.Table) -> Any:
        return bulk.dialect_insert(self.dialect, table)

    def _insert_rows(
        self,
        conn: Connection,
        table: sa.Table,
        rows: Sequence[dict[str, Any]],
        conflict: Sequence[str] = (),
        returning: Sequence[str] = (),
        where: str | None = None,
    ) -> list[Any]:
        """Bulk INSERT skipping rows that hit the unique index on `conflict` (basira.store.bulk.insert_rows)."""
        return bulk.insert_rows(conn, table, rows, conflict, returning, where)

    def _update_rows(
        self, conn: Connection, table: sa.Table, keys: Sequence[str], rows: Sequence[dict[str, Any]]
    ) -> None:
        """Bulk UPDATE by `keys` (basira.store.bulk.update_rows)."""
        bulk.update_rows(conn, table, keys, rows)

    def _in(self, column: sa.ColumnElement[Any], values: Iterable[Any]) -> sa.ColumnElement[bool]:
        """`column IN values`; on PostgreSQL `column = ANY(array)`: one short statement text whatever the
        number of values, instead of one placeholder per value for psycopg to parse."""
        values = list(values)
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(column.type)))
        return column.in_(values)

    def _platform_id(self, conn: Connection, name: str) -> int:
        pid = self._platform_ids.get(name) or conn.info.get("basira_new_platforms", {}).get(name)
        if pid is not None:
            return pid
        t = Platform.__table__
        conn.execute(self._insert(t).values(name=name).on_conflict_do_nothing(index_elements=["name"]))
        pid = int(conn.execute(sa.select(t.c.id).where(t.c.name == name)).scalar_one())
        conn.info.setdefault("basira_new_platforms", {})[name] = pid
        return pid

    # --- accounts and posts ---------------------------------------------------------------------------------

    def upsert_accounts(self, batch: Sequence[AccountRecord]) -> int:
        """Insert new accounts, update changed fields of known ones; return the number new."""
        with self.write() as conn:
            n = self._upsert_accounts(conn, batch)
        return n

    def upsert_posts(self, batch: Sequence[PostRecord]) -> int:
        """Insert posts not yet stored (by platform and external id) with their media; return the number new."""
        with self.write() as conn:
            n, _ = self._upsert_posts(conn, batch)
        return n

    def _upsert_accounts(self, conn: Connection, batch: Sequence[AccountRecord]) -> int:
        if not batch:
            return 0
        batch = self._resolve_handles(conn, batch)
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
            pid = self._platform_id(conn, platform)
            existing: dict[str, dict[str, Any]] = {}
            for chunk in _chunks([ext for ext, _ in rows]):
                cols = [t.c.external_id, *(t.c[f] for f in _ACCOUNT_FIELDS)]
                q = sa.select(*cols).where(t.c.platform_id == pid, self._in(t.c.external_id, chunk))
                for r in conn.execute(q):
                    existing[r.external_id] = r._asdict()
            fresh = [
                {
                    "platform_id": pid,
                    "external_id": ext,
                    "first_seen_at": now(),
                    **{f: None for f in _ACCOUNT_FIELDS},
                    "status": "active",
                    **row,
                }
                for ext, row in rows
                if ext not in existing
            ]
            new_total += len(self._insert_rows(conn, t, fresh, ("platform_id", "external_id"), ("id",)))
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
                    changed.setdefault(tuple(sorted(diff)), []).append(
                        {"platform_id": pid, "external_id": ext, **diff}
                    )
            for group in changed.values():
                self._update_rows(conn, t, ("platform_id", "external_id"), group)
        return new_total

    def _resolve_handles(self, conn: Connection, batch: Sequence[AccountRecord]) -> Sequence[AccountRecord]:
        """Records known only by handle (`match_handle`: a suspension reported by username) take the external
        id of the account stored with that handle (case-insensitive), so the suspension lands on it."""
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
                for r in conn.execute(q):
                    found.setdefault((platform, r.h), r.external_id)
        out: list[AccountRecord] = []
        for a in batch:
            ext = found.get((a.platform, a.handle.lower())) if getattr(a, "match_handle", False) and a.handle else None
            out.append(dataclasses.replace(a, external_id=ext, handle=None, match_handle=False) if ext else a)
        return out

    def _account_ids(self, conn: Connection, pid: int, externals: Iterable[str]) -> dict[str, int]:
        t = Account.__table__
        out: dict[str, int] = {}
        for chunk in _chunks(sorted(set(externals))):
            q = sa.select(t.c.external_id, t.c.id).where(t.c.platform_id == pid, self._in(t.c.external_id, chunk))
            out.update({r.external_id: r.id for r in conn.execute(q)})
        return out

    def _upsert_posts(self, conn: Connection, batch: Sequence[PostRecord]) -> tuple[int, int]:
        """Return (posts new, accounts new as stubs)."""
        if not batch:
            return 0, 0
        unique: dict[tuple[str, str], PostRecord] = {}
        for rec in batch:
            unique.setdefault((rec.platform, rec.external_id), rec)
        # Authors we have not seen get a stub account (handle only) so every post has one.
        stubs = [
            AccountRecord(platform=p.platform, external_id=p.account_external_id, handle=p.handle)
            for p in unique.values()
            if p.account_external_id
        ]
        by_platform: dict[str, list[PostRecord]] = {}
        for rec in unique.values():
            by_platform.setdefault(rec.platform, []).append(rec)
        stubs_new = self._insert_account_stubs(conn, stubs)
        t = Post.__table__
        mt = Media.__table__
        new_total = 0
        ingested = now()
        for platform, recs in by_platform.items():
            pid = self._platform_id(conn, platform)
            acc = self._account_ids(conn, pid, (r.account_external_id for r in recs if r.account_external_id))
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
            returned = self._insert_rows(conn, t, rows, ("platform_id", "external_id"), ("id", "external_id"))
            inserted = {row.external_id: row.id for row in returned}
            new_total += len(inserted)
            media_rows = [
                {
                    "post_id": inserted[r.external_id],
                    "position": i,
                    "url": m.url,
                    "kind": m.kind,
                    "sha256": m.sha256,
                    "pdq": m.pdq,
                }
                for r in recs
                if r.external_id in inserted
                for i, m in enumerate(r.media)
            ]
            self._insert_rows(conn, mt, media_rows, ("post_id", "position"))
        return new_total, stubs_new

    def _insert_account_stubs(self, conn: Connection, stubs: Sequence[AccountRecord]) -> int:
        if not stubs:
            return 0
        t = Account.__table__
        seen: dict[tuple[str, str], AccountRecord] = {}
        for s in stubs:
            prev = seen.get((s.platform, s.external_id))
            if prev is None or (prev.handle is None and s.handle):
                seen[(s.platform, s.external_id)] = s
        first = now()
        rows = [
            {
                "platform_id": self._platform_id(conn, s.platform),
                "external_id": s.external_id,
                "handle": s.handle,
                "status": "active",
                "first_seen_at": first,
            }
            for s in seen.values()
        ]
        return len(self._insert_rows(conn, t, rows, ("platform_id", "external_id"), ("id",)))

    def ingest_batch(
        self,
        accounts: Sequence[AccountRecord],
        posts: Sequence[PostRecord],
        checkpoint: Checkpoint | None = None,
        before_commit: Any = None,
    ) -> tuple[int, int]:
        """Store a batch and move the ingest checkpoint in one transaction; return (posts new, accounts new)."""
        with self.write() as conn:
            accounts_new = self._upsert_accounts(conn, accounts)
            posts_new, stubs_new = self._upsert_posts(conn, posts)
            if checkpoint is not None:
                self._save_checkpoint(conn, checkpoint)
            if before_commit is not None:
                before_commit()
        return posts_new, accounts_new + stubs_new

    # --- ingest checkpoints ---------------------------------------------------------------------------------

    def get_checkpoint(self, source: str) -> Checkpoint | None:
        t = IngestCheckpoint.__table__
        with self.read() as conn:
            r = conn.execute(sa.select(t).where(t.c.source == source)).first()
        if r is None:
            return None
        return Checkpoint(r.source, r.fingerprint, r.format, int(r.records_done), bool(r.completed))

    def save_checkpoint(self, checkpoint: Checkpoint) -> None:
        with self.write() as conn:
            self._save_checkpoint(conn, checkpoint)

    def _save_checkpoint(self, conn: Connection, cp: Checkpoint) -> None:
        t = IngestCheckpoint.__table__
        values = {
            "source": cp.source,
            "fingerprint": cp.fingerprint,
            "format": cp.format,
            "records_done": cp.records_done,
            "completed": cp.completed,
            "updated_at": now(),
        }
        stmt = self._insert(t).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source"], set_={k: v for k, v in values.items() if k != "source"}
        )
        conn.execute(stmt)

    # --- detections and cases -------------------------------------------------------------------------------

    def post_ids(self, platform: str, external_ids: Iterable[str]) -> dict[str, int]:
        """Map external post ids to internal ids (unknown ones are left out)."""
        t = Post.__table__
        out: dict[str, int] = {}
        with self.read() as conn:
            pid = conn.execute(sa.select(Platform.id).where(Platform.name == platform)).scalar()
            if pid is None:
                return out
            for chunk in _chunks(sorted(set(external_ids))):
                q = sa.select(t.c.external_id, t.c.id).where(
                    t.c.platform_id == pid, t.c.external_id.in_(chunk)
                )
                out.update({r.external_id: r.id for r in conn.execute(q)})
        return out

    def iter_keyset(self, query: Callable[[int], sa.Select[Any]], after_id: int = 0) -> Iterator[list[dict[str, Any]]]:
        """Yield the batches of `query(last_id)` (ordered and limited by id): keyset pagination, constant memory
        on any table size. `created_at` comes back timezone-aware."""
        last = after_id
        while True:
            with self.read() as conn:
                rows = [r._asdict() for r in conn.execute(query(last))]
            if not rows:
                return
            for r in rows:
                if "created_at" in r:
                    r["created_at"] = utc(r["created_at"])
            yield rows
            last = rows[-1]["id"]

    def iter_posts(self, batch_size: int = 1000, after_id: int = 0) -> Iterator[list[dict[str, Any]]]:
        """Yield posts in id order, in batches."""
        t = Post.__table__
        pt = Platform.__table__
        at = Account.__table__
        return self.iter_keyset(
            lambda last: sa.select(
                t.c.id,
                pt.c.name.label("platform"),
                t.c.external_id,
                t.c.account_id,
                at.c.external_id.label("account_external_id"),
                at.c.handle,
                t.c.text,
                t.c.lang,
                t.c.created_at,
                t.c.thread,
            )
            .join(pt, pt.c.id == t.c.platform_id)
            .outerjoin(at, at.c.id == t.c.account_id)
            .where(t.c.id > last)
            .order_by(t.c.id)
            .limit(batch_size),
            after_id,
        )

    def add_detections(self, rows: Sequence[dict[str, Any]]) -> int:
        """Store detections ({post_id, model_version, score, categories, evidence}); re-scoring a post
        with the same model version replaces its result. Return the number new."""
        if not rows:
            return 0
        t = Detection.__table__
        created = now()
        values = [
            {
                "post_id": r["post_id"],
                "model_version": r["model_version"],
                "score": float(r["score"]),
                "categories": list(r.get("categories") or []),
                "evidence": r.get("evidence") or {},
                "policy": detection_policy(r),
                "created_at": created,
            }
            for r in rows
        ]
        with self.write() as conn:
            existing: set[tuple[int, str]] = set()
            for chunk in _chunks(values):
                q = sa.select(t.c.post_id, t.c.model_version).where(
                    t.c.post_id.in_([v["post_id"] for v in chunk])
                )
                existing.update((r.post_id, r.model_version) for r in conn.execute(q))
            stmt = self._insert(t)
            stmt = stmt.on_conflict_do_update(
                index_elements=["post_id", "model_version"],
                set_={
                    "score": stmt.excluded.score,
                    "categories": stmt.excluded.categories,
                    "evidence": stmt.excluded.evidence,
                    "policy": stmt.excluded.policy,
                },
            )
            conn.execute(stmt, values)
        return sum(1 for v in values if (v["post_id"], v["model_version"]) not in existing)

    def detection_id(self, post_id: int, model_version: str) -> int | None:
        t = Detection.__table__
        with self.read() as conn:
            return conn.execute(
                sa.select(t.c.id).where(t.c.post_id == post_id, t.c.model_version == model_version)
            ).scalar()

    def open_case_for(
        self,
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
        from basira.cases.intake import Finding, submit

        f = Finding((subject_kind, int(subject_id)), "manual", reason, priority=priority, detection_id=detection_id,
                    details=details or {})
        with self.transaction() as tx:
            got = submit(tx, [f], actor, lookup=True)
        return got.cases[f.subject], bool(got.opened)

    def open_cases_for(self, cases: Sequence[dict[str, Any]], actor: str | None = "basira") -> list[int]:
        """Bulk open_case_for: each dict has subject_kind, subject_id, reason and optionally priority,
        detection_id, details. Subjects with an open case are skipped. Return the ids of cases opened;
        each is logged as a `case.opened` event in the same transaction (basira.cases.intake)."""
        from basira.cases.intake import Finding, submit

        findings = [Finding((c["subject_kind"], int(c["subject_id"])), c.get("source", "manual"), c["reason"],
                            priority=float(c.get("priority") or 0.0), detection_id=c.get("detection_id"),
                            details=c.get("details") or {}) for c in cases]
        if not findings:
            return []
        with self.transaction() as tx:
            return submit(tx, findings, actor).opened

    # --- scanning: posts to score, detections with their cases, summaries ------------------------------------

    def posts_lacking_detection(
        self, model_version: str, after_id: int = 0, limit: int = 1000, max_chars: int | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Posts (id, text, lang) after `after_id`, in id order, that have no detection by `model_version`:
        up to `limit` of them (and, with `max_chars`, no more text than that in all, but at least one post),
        and the id to continue after. An empty list means there are no more.

        Walks the posts in id windows and looks their detections up by key, so each call costs the same
        on any table size, whatever the planner's statistics say (an anti-join can turn into a full scan).
        """
        t, dt = Post.__table__, Detection.__table__
        out: list[dict[str, Any]] = []
        last = after_id
        chars = 0
        with self.read() as conn:
            while len(out) < limit:
                ids = list(
                    conn.execute(
                        sa.select(t.c.id).where(t.c.id > last).order_by(t.c.id).limit(limit - len(out))
                    ).scalars()
                )
                if not ids:
                    break
                window_start, last = last, ids[-1]
                done = set(
                    conn.execute(
                        sa.select(dt.c.post_id).where(
                            dt.c.model_version == model_version, self._in(dt.c.post_id, ids)
                        )
                    ).scalars()
                )
                todo = [i for i in ids if i not in done]
                full = False
                if todo and max_chars is not None:
                    # Bound the batch's memory by its texts' length (a batch of million-character posts).
                    lens = dict(
                        conn.execute(sa.select(t.c.id, sa.func.length(t.c.text)).where(self._in(t.c.id, todo))).all()
                    )
                    keep: list[int] = []
                    for i in todo:
                        if (out or keep) and chars + (lens.get(i) or 0) > max_chars:
                            full = True
                            break
                        keep.append(i)
                        chars += lens.get(i) or 0
                    if full:
                        # Continue after the last post taken (the first one left out comes next time).
                        stop = keep[-1] if keep else max((i for i in ids if i < todo[0]), default=window_start)
                        todo, last = keep, stop
                if todo:
                    q = sa.select(t.c.id, t.c.text, t.c.lang).where(self._in(t.c.id, todo)).order_by(t.c.id)
                    out.extend(r._asdict() for r in conn.execute(q))
                if full:
                    break
        return out, last

    def record_detections(
        self, rows: Sequence[dict[str, Any]], actor: str | None = "detector", before_commit: Any = None
    ) -> tuple[int, int]:
        """Store new detections ({post_id, model_version, score, flagged, categories, evidence}) and open a
        case on each flagged post, in one transaction; a post already scored by that model version is
        left as it is. Return (detections new, cases opened)."""
        from basira.cases.intake import Finding, submit

        if not rows:
            return 0, 0
        t = Detection.__table__
        created = now()
        values = [
            {
                "post_id": int(r["post_id"]),
                "model_version": r["model_version"],
                "score": float(r["score"]),
                "categories": list(r.get("categories") or []),
                "evidence": {**(r.get("evidence") or {}), "flagged": bool(r.get("flagged"))},
                "policy": detection_policy(r),
                "created_at": created,
            }
            for r in rows
        ]
        flagged = {int(r["post_id"]): r for r in rows if r.get("flagged")}
        with self.write() as conn:
            new = self._insert_rows(conn, t, values, ("post_id", "model_version"), ("id", "post_id"))
            findings = [
                Finding(
                    ("post", r.post_id),
                    "detector",
                    _detection_reason(flagged[r.post_id]),
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
            opened = submit(Tx(self, conn), findings, actor, at=created).opened
            if before_commit is not None:
                before_commit()
        return len(new), len(opened)

    def count_flagged(self, model_version: str) -> int:
        """Posts that `model_version` flagged (the detector's decision, kept in the detection's evidence)."""
        t = Detection.__table__
        return self._count(t, t.c.model_version == model_version, t.c.evidence["flagged"].as_boolean())

    def detection_breakdown(self, model_version: str) -> dict[str, Any]:
        """Scored and flagged posts per language, and flagged posts per category, for one model version.
        The language is the one the detector used (the post's own, else identified), kept in the evidence."""
        t = Detection.__table__
        lang = sa.func.coalesce(t.c.evidence["lang"].as_string(), "und").label("lang")
        flag = sa.case((t.c.evidence["flagged"].as_boolean(), 1), else_=0)
        q = (
            sa.select(lang, sa.func.count(), sa.func.sum(flag))
            .where(t.c.model_version == model_version)
            .group_by(lang)
        )
        if self.dialect == "postgresql":
            cat_sql = (
                "SELECT c.value, count(*) FROM detections d, json_array_elements_text(d.categories) AS c(value) "
                "WHERE d.model_version = :v AND (d.evidence->>'flagged')::boolean GROUP BY c.value"
            )
        else:
            cat_sql = (
                "SELECT j.value, count(*) FROM detections d, json_each(d.categories) AS j "
                "WHERE d.model_version = :v AND json_extract(d.evidence, '$.flagged') GROUP BY j.value"
            )
        with self.read() as conn:
            by_lang = {r[0]: {"posts": int(r[1]), "flagged": int(r[2] or 0)} for r in conn.execute(q)}
            by_cat = {r[0]: int(r[1]) for r in conn.execute(sa.text(cat_sql), {"v": model_version})}
        return {
            "by_language": dict(sorted(by_lang.items(), key=lambda kv: (-kv[1]["posts"], kv[0]))),
            "by_category": dict(sorted(by_cat.items(), key=lambda kv: (-kv[1], kv[0]))),
        }

    def top_cases(self, limit: int = 10, status: str = "open") -> list[dict[str, Any]]:
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
        with self.read() as conn:
            rows = [r._asdict() for r in conn.execute(q)]
        for r in rows:
            r["opened_at"] = utc(r["opened_at"])
            r["created_at"] = utc(r["created_at"])
        return rows

    # --- event log ------------------------------------------------------------------------------------------

    def append_event(
        self,
        kind: str,
        payload: dict[str, Any] | None = None,
        *,
        actor: str | None = None,
        subject: str | None = None,
    ) -> int:
        """Append one entry to the hash-chained event log; return its id."""
        with self.write() as conn:
            return self._append_events(conn, [(kind, actor, subject, payload or {})])[0]

    def _append_events(
        self, conn: Connection, entries: Sequence[tuple[str, str | None, str | None, Any]]
    ) -> list[int]:
        return events.append(conn, entries)

    def iter_events(self, batch_size: int = 1000) -> Iterator[dict[str, Any]]:
        t = Event.__table__
        last = 0
        while True:
            with self.read() as conn:
                rows = [
                    r._asdict()
                    for r in conn.execute(
                        sa.select(t).where(t.c.id > last).order_by(t.c.id).limit(batch_size)
                    )
                ]
            if not rows:
                return
            yield from rows
            last = rows[-1]["id"]

    def event_id_of_hash(self, digest: str) -> int | None:
        """The id of the entry whose hash this is, or None."""
        t = Event.__table__
        with self.read() as conn:
            return conn.execute(sa.select(t.c.id).where(t.c.hash == digest)).scalar()

    def verify_events(self) -> tuple[bool, int | None]:
        """Recompute the chain; return (intact, id of the first bad entry or None)."""
        return events.verify(self.iter_events())

    # --- counts ---------------------------------------------------------------------------------------------

    def _count(self, table: sa.Table, *where: Any) -> int:
        with self.read() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(table).where(*where)).scalar_one())

    def count_posts(self, platform: str | None = None) -> int:
        t = Post.__table__
        if platform is None:
            return self._count(t)
        return self._count(
            t, t.c.platform_id == sa.select(Platform.id).where(Platform.name == platform).scalar_subquery()
        )

    def count_accounts(self) -> int:
        return self._count(Account.__table__)

    def count_media(self) -> int:
        return self._count(Media.__table__)

    def count_detections(self, model_version: str | None = None) -> int:
        t = Detection.__table__
        return self._count(t) if model_version is None else self._count(t, t.c.model_version == model_version)

    def count_cases(self, status: str | None = None) -> int:
        t = Case.__table__
        return self._count(t) if status is None else self._count(t, t.c.status == status)

    def count_events(self, kind: str | None = None) -> int:
        t = Event.__table__
        return self._count(t) if kind is None else self._count(t, t.c.kind == kind)

    def counts(self) -> dict[str, int]:
        """Rows per table, for summaries."""
        return {
            "platforms": self._count(Platform.__table__),
            "accounts": self.count_accounts(),
            "posts": self.count_posts(),
            "media": self.count_media(),
            "detections": self.count_detections(),
            "cases": self.count_cases(),
            "events": self.count_events(),
        }

    def get_post(self, platform: str, external_id: str) -> dict[str, Any] | None:
        """One post with its author's external id and its media, or None."""
        t, pt, at, mt = Post.__table__, Platform.__table__, Account.__table__, Media.__table__
        with self.read() as conn:
            r = conn.execute(
                sa.select(t, at.c.external_id.label("account_external_id"), at.c.handle)
                .join(pt, pt.c.id == t.c.platform_id)
                .outerjoin(at, at.c.id == t.c.account_id)
                .where(pt.c.name == platform, t.c.external_id == external_id)
            ).first()
            if r is None:
                return None
            out = r._asdict()
            out["media"] = [
                m._asdict()
                for m in conn.execute(
                    sa.select(mt.c.position, mt.c.url, mt.c.kind, mt.c.sha256, mt.c.pdq)
                    .where(mt.c.post_id == r.id)
                    .order_by(mt.c.position)
                )
            ]
        for k in ("created_at", "ingested_at"):
            out[k] = utc(out[k])
        return out

    def get_account(self, platform: str, external_id: str) -> dict[str, Any] | None:
        at, pt = Account.__table__, Platform.__table__
        with self.read() as conn:
            r = conn.execute(
                sa.select(at)
                .join(pt, pt.c.id == at.c.platform_id)
                .where(pt.c.name == platform, at.c.external_id == external_id)
            ).first()
        if r is None:
            return None
        out = r._asdict()
        for k in ("created_at", "suspended_at", "removed_at", "first_seen_at"):
            out[k] = utc(out[k])
        return out


POLICIES = ("terrorist_support", "hate_speech")  # the detector's Detection.policy values (issue 11)


def detection_policy(row: dict[str, Any]) -> str | None:
    """The detections.policy column of a detection row: its `policy`, else the copy in its evidence; a value
    the detector does not produce is stored as None."""
    ev = row.get("evidence")
    value = row.get("policy", ev.get("policy") if isinstance(ev, dict) else None)
    return value if value in POLICIES else None
