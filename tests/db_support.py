"""Migrated template databases for the suite: each empty database a test migrates to head is copied from one
migrated once per session instead of running Alembic's migrations again.

Why: nearly every test opens a fresh store, and migrating an empty database runs every migration (15 files, ~300
DDL statements). Measured at load 9 on this 2-core machine: PostgreSQL create+migrate+drop 3.3-4.0 s per test
(migrate 2.3-3.7 s), SQLite 0.3-0.6 s; the copy takes a fraction of that (figures in the commit that added this).

What is copied is exactly what Alembic made, once per session, through the real `migrate`: PostgreSQL — the
migrated template schema dumped by `pg_dump` (tables, indexes, constraints, sequences, the alembic_version row)
and replayed into the test's own empty schema; SQLite — the migrated template file copied page by page with
SQLite's backup API into the test's empty file. Only `migrate(engine)` to head of an empty database is
replaced; every other call (an older revision, a database with tables, an in-memory SQLite) runs Alembic, so
the migration tests migrate for real. `tests/test_db_templates.py` checks that a copy equals a real migration.
Set BASIRA_TEST_NO_TEMPLATES=1 to run every migration for real (the copy then never happens)."""

from __future__ import annotations

import os
import queue
import re
import sqlite3
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

DISABLED = os.environ.get("BASIRA_TEST_NO_TEMPLATES") == "1"
_SCHEMA = "basira_template_schema"  # in the dump, replaced by the test's schema
_lock = threading.Lock()
_sqlite_template: list[Path] = []
_pg_dump: dict[str, str | None] = {}  # server (url without schema) -> the dump's SQL, or None: not possible
COPIES = {"sqlite": 0, "postgresql": 0}  # how many migrations were copies (the session's summary says)


def install() -> None:
    """Route basira.store.db.migrate (what open_engine/open_store call) through `migrate` below."""
    import basira.store.db as db

    if DISABLED or getattr(db.migrate, "basira_template", False):
        return
    real = db.migrate

    def migrate(engine: sa.Engine, revision: str = "head") -> None:
        if revision != "head" or not _copy_into(engine, real):
            real(engine, revision)

    migrate.basira_template = True  # type: ignore[attr-defined]
    migrate.real = real  # type: ignore[attr-defined]
    migrate.__doc__ = real.__doc__
    db.migrate = migrate


def real_migrate() -> Any:
    import basira.store.db as db

    return getattr(db.migrate, "real", db.migrate)


def _copy_into(engine: sa.Engine, real: Any) -> bool:
    """Copy the migrated template into `engine`'s database if it is empty; False when not done."""
    name = engine.dialect.name
    if name == "sqlite":
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return False
        with engine.connect() as conn:
            dst = conn.connection.driver_connection
            if dst.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                return False
            src = sqlite3.connect(_sqlite(real))
            try:
                src.backup(dst)
            finally:
                src.close()
        COPIES["sqlite"] += 1
        return True
    if name == "postgresql":
        with engine.connect() as conn:
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar()
            tables = conn.execute(sa.text("SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                          "c.relnamespace WHERE n.nspname = current_schema()")).scalar()
        if not schema or tables or schema == "public":
            return False
        dump = _pg(engine, real)
        if dump is None:
            return False
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute(dump.replace(f"{_SCHEMA}.", f'"{schema}".'))  # one transaction, one round trip
            raw.commit()
            cur.execute("RESET ALL")  # the dump's SETs (search_path '') must not stay on a pooled connection
            raw.commit()
        finally:
            raw.close()
        COPIES["postgresql"] += 1
        return True
    return False


def _sqlite(real: Any) -> Path:
    with _lock:
        if not _sqlite_template:
            from basira.store.db import open_engine

            path = Path(tempfile.mkdtemp(prefix="basira-template-")) / "template.db"
            engine = open_engine(f"sqlite:///{path}", migrate_schema=False)
            real(engine)
            with engine.connect() as conn:  # one file, nothing left in the WAL
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            _sqlite_template.append(path)
        return _sqlite_template[0]


def _pg(engine: sa.Engine, real: Any) -> str | None:
    """The migrated template's SQL (pg_dump of a schema migrated once on this server), or None when pg_dump
    cannot make it (then Alembic migrates as before)."""
    server = engine.url.difference_update_query(["options"])
    key = server.render_as_string(hide_password=False)
    with _lock:
        if key not in _pg_dump:
            _pg_dump[key] = _make_pg_dump(server, real)
        return _pg_dump[key]


def _make_pg_dump(server: sa.URL, real: Any) -> str | None:
    from basira.store.db import open_engine

    schema = f"basira_tpl_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = server.update_query_dict({"options": f"-csearch_path={schema}"})
        engine = open_engine(url.render_as_string(hide_password=False), migrate_schema=False)
        real(engine)
        engine.dispose()
        env = dict(os.environ, PGPASSWORD=server.password or "", PGCONNECT_TIMEOUT="5")
        cmd = ["pg_dump", "--inserts", "--no-owner", "--no-privileges",
               "-h", server.host or "127.0.0.1", "-p", str(server.port or 5432), "-U", server.username or "postgres",
               "-n", schema, server.database or "postgres"]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=True).stdout
        except (OSError, subprocess.SubprocessError):
            return None
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    lines = [line for line in out.splitlines()
             if not line.startswith("\\")  # psql meta-commands (\restrict): not SQL
             and not re.match(rf'CREATE SCHEMA "?{schema}"?;', line)]  # the test's schema exists already
    sql = "\n".join(lines)
    if f"{schema}." not in sql or "alembic_version" not in sql:
        return None
    return sql.replace(f'"{schema}".', f"{_SCHEMA}.").replace(f"{schema}.", f"{_SCHEMA}.")


_admins: dict[str, sa.Engine] = {}
_drops: queue.Queue[tuple[str, str, Callable[[sa.Engine, str], None]]] = queue.Queue()
_dropper: list[threading.Thread] = []
DROP_ERRORS: list[str] = []  # schemas that could not be dropped (the session's summary says)


def admin(url: str) -> sa.Engine:
    """One engine per server for the session's CREATE/DROP SCHEMA (an engine and a connection per test cost
    ~50 ms)."""
    with _lock:
        if url not in _admins:
            _admins[url] = sa.create_engine(url, pool_size=2, pool_pre_ping=True)
        return _admins[url]


def drop_later(url: str, schema: str, drop: Callable[[sa.Engine, str], None]) -> None:
    """Drop a test's schema on a background thread, so that the next test need not wait for it: a DROP SCHEMA
    … CASCADE of Basira's ~30 tables took 0.3-0.6 s at load 9, paid by every PostgreSQL test. It also waits
    there, not in a test, for a server thread or subprocess still closing its connections. The session ends
    when every drop is done (`wait_for_drops`, from pytest_sessionfinish)."""
    with _lock:
        if not _dropper:
            thread = threading.Thread(target=_drop_forever, name="basira-schema-dropper", daemon=True)
            thread.start()
            _dropper.append(thread)
    _drops.put((url, schema, drop))


def _drop_forever() -> None:
    while True:
        url, schema, drop = _drops.get()
        try:
            drop(admin(url), schema)
        except Exception as exc:  # noqa: BLE001 - reported at the end of the session
            DROP_ERRORS.append(f"{schema}: {type(exc).__name__}: {exc}".splitlines()[0])
        finally:
            _drops.task_done()


def wait_for_drops() -> None:
    if _dropper:
        _drops.join()
