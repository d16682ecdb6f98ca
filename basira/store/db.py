"""The database and its unit of work: `open_engine` (SQLite or PostgreSQL by URL, migrated by Alembic), the
`Database` handle (read, write, and `with db.transaction() as tx:` — one connection, one transaction), and the `Tx`
with what writers need inside it (bulk inserts and updates, platform ids, the event log), so a workflow's writes
commit together. basira.store.store.Store adds the table reads every layer uses."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Self

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from typing_extensions import TypeVar

from basira.core.errors import BasiraError
from basira.core.time import utc
from basira.store import bulk, events
from basira.store.models import Platform

__all__ = ["MIGRATIONS", "Database", "DatabaseOpenError", "EventEntry", "Tx", "migrate", "open_engine"]

MIGRATIONS = Path(__file__).parent / "migrations"

# (kind, actor, subject, payload): one entry of the hash-chained event log
EventEntry = tuple[str, "str | None", "str | None", Any]


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


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` (Alembic `upgrade`; the newest by default, an older one for migration tests)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()


class DatabaseOpenError(BasiraError):
    """The database named by `--db` (or $BASIRA_DB) cannot be opened: a URL SQLAlchemy cannot read, a driver
    that is not installed, a server that refuses the connection, or (for a command that only reads) no
    database there at all. The message shows the URL with its password hidden."""

    kind = "unavailable"


# user:password@ in a URL SQLAlchemy could not parse (a parsed one is rendered with hide_password=True)
_PASSWORD = re.compile(r"(://[^:/@]*:)[^@]*@")


def _shown(given: str, url: sa.URL | None = None) -> str:
    """The database as the user named it (a plain path stays a path), its password hidden."""
    if url is None or "://" not in given:
        return _PASSWORD.sub(r"\1***@", given)
    return url.render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    """The driver's own words (psycopg's 'database "x" does not exist'), without SQLAlchemy's background link."""
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split()) or type(orig).__name__


def open_engine(url: str, *, migrate_schema: bool = True, echo: bool = False, create: bool = True) -> Engine:
    """The engine for a SQLAlchemy URL (or a plain SQLite file path), its schema migrated to head.

    A URL that cannot be opened is a DatabaseOpenError (`--db <url>: cannot connect: <reason>`), never a driver
    traceback. `create=False` is for commands that only read: a SQLite file that does not exist is refused
    ("no database at ...") instead of being created empty."""
    given = url
    if "://" not in url:
        url = f"sqlite:///{url}"
    try:
        sa_url = sa.make_url(url)
    except (sa.exc.ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise DatabaseOpenError(f"--db {_shown(given)}: not a database URL: {_reason(exc)}") from None
    shown = _shown(given, sa_url)
    kwargs: dict[str, Any] = {"echo": echo, "future": True}
    if sa_url.get_backend_name() == "sqlite" and sa_url.database not in (None, "", ":memory:"):
        path = Path(sa_url.database)
        if not create and not path.exists():
            raise DatabaseOpenError(f"--db {shown}: no database at {path} (this command only reads; it creates none)")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseOpenError(f"--db {shown}: cannot create {path.parent}: {_reason(exc)}") from None
    if sa_url.get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = True
        if sa_url.get_driver_name() == "psycopg":
            # No server-side prepared statements: each statement is planned for its values and the tables as
            # they are now. A plan prepared while an ingest's tables were nearly empty stays for the whole
            # run, and made each lookup of 500 accounts compare every row with every value (60 ms, not 1).
            kwargs["connect_args"] = {"prepare_threshold": None}
    try:
        engine = sa.create_engine(sa_url, **kwargs)
    except sa.exc.NoSuchModuleError as exc:  # foo://, postgresql+nodriver://
        raise DatabaseOpenError(f"--db {shown}: not a database URL SQLAlchemy knows: {_reason(exc)}") from None
    except ImportError as exc:  # mysql:// without MySQLdb installed
        raise DatabaseOpenError(f"--db {shown}: cannot connect: its driver is not installed ({_reason(exc)})") from None
    except sa.exc.ArgumentError as exc:
        raise DatabaseOpenError(f"--db {shown}: not a database URL: {_reason(exc)}") from None
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    if migrate_schema:
        # Connect once before migrating, so that only a failure to connect is said as one: an error inside a
        # migration is a bug and keeps its traceback.
        try:
            with engine.connect():
                pass
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            engine.dispose()
            raise DatabaseOpenError(f"--db {shown}: cannot connect: {_reason(exc)}") from None
        migrate(engine)
    return engine


class Database:
    """The one handle on Basira's database: read and write transactions, and the unit of work."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._platform_ids: dict[str, int] = {}
        self._write_lock: Any = threading.RLock() if self.dialect == "sqlite" else nullcontext()
        self._ambient = threading.local()  # this thread's open transaction (transaction()), if any

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
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
    def transaction(self) -> Iterator[Tx[Self]]:
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


# The database a Tx was opened on, as its opener's type: `store.transaction()` gives a `Tx[Store]` (so
# `tx.store` has the shared reads), a plain `Tx` is a `Tx[Database]` and accepts either (covariant).
DB = TypeVar("DB", bound=Database, default=Database, covariant=True)


@dataclass(frozen=True)
class Tx(Generic[DB]):
    """An open transaction. Pass it down; only the `with` that made it commits (or rolls back) it."""

    store: DB
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
        """Bulk INSERT skipping rows that hit the unique index on `conflict` (basira.store.bulk.insert_rows)."""
        return bulk.insert_rows(self.conn, table, rows, conflict, returning, where)

    def in_(self, column: sa.ColumnElement[Any], values: Iterable[Any]) -> sa.ColumnElement[bool]:
        """`column IN values` (basira.store.bulk.in_values)."""
        return bulk.in_values(self.dialect, column, values)

    def platform_id(self, name: str) -> int:
        """The id of the platform called `name`, inserted if new. Ids are cached on the database once committed."""
        conn = self.conn
        pid = self.store._platform_ids.get(name) or conn.info.get("basira_new_platforms", {}).get(name)
        if pid is not None:
            return int(pid)
        t = Platform.__table__
        conn.execute(self.insert(t).values(name=name).on_conflict_do_nothing(index_elements=["name"]))
        pid = int(conn.execute(sa.select(t.c.id).where(t.c.name == name)).scalar_one())
        conn.info.setdefault("basira_new_platforms", {})[name] = pid
        return pid

    def update_rows(self, table: sa.Table, keys: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        bulk.update_rows(self.conn, table, keys, rows)

    def append_events(self, entries: Sequence[EventEntry]) -> list[int]:
        """Append to the hash-chained log in this transaction: the events commit with the change they record."""
        return events.append(self.conn, entries)
