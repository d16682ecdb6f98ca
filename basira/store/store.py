"""The Store: the database handle (basira.store.db.Database) with the table reads every layer uses — posts and
accounts by external id, posts in id order, row counts — and the event log. No workflow: the repositories live
beside their domains (ingest/, network/, cases/, review/, compliance/) and write through a `Tx`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import sqlalchemy as sa

from basira.core.time import utc
from basira.store import events
from basira.store.db import Database, open_engine
from basira.store.models import Account, Case, Detection, Event, Media, Platform, Post

__all__ = ["Store", "open_store"]

_CHUNK = 500  # rows per IN (...) lookup


def _chunks(items: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def open_store(url: str, *, migrate_schema: bool = True, echo: bool = False, create: bool = True) -> Store:
    """Open the database at a SQLAlchemy URL (or a plain SQLite file path) and migrate it to head.
    `create=False` (commands that only read) refuses a SQLite file that does not exist (basira.store.db.open_engine)."""
    return Store(open_engine(url, migrate_schema=migrate_schema, echo=echo, create=create))


class Store(Database):
    """Basira's database: transactions (Database) and the shared table reads. Each read runs in its own
    transaction; writers go through `transaction()` (a Tx) in the repositories."""

    # --- posts and accounts ---------------------------------------------------------------------------------

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
            return events.append(conn, [(kind, actor, subject, payload or {})])[0]

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
                    sa.select(mt.c.position, mt.c.url, mt.c.kind, mt.c.sha256, mt.c.pdq, mt.c.md5)
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
