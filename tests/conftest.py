"""Shared fixtures. `store` runs each test against SQLite and against PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy as sa

PG_URL = os.environ.get("BASIRA_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/basira_test")
# CI sets BASIRA_REQUIRE_PG=1: a PostgreSQL test then fails instead of skipping when the server is away.
REQUIRE_PG = os.environ.get("BASIRA_REQUIRE_PG") == "1"
PG_SKIP = "PostgreSQL unreachable"
_pg_reason: list[str | None] = []
_pg_skipped: list[str] = []


def _pg_unavailable() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per session)."""
    if not _pg_reason:
        try:
            engine = sa.create_engine(PG_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _pg_reason.append(None)
        except Exception as exc:  # noqa: BLE001 - any failure means: skip PostgreSQL
            _pg_reason.append(
                f"{PG_SKIP} at {PG_URL}: {type(exc).__name__}: {exc}".splitlines()[0]
            )
    return _pg_reason[0]


@contextmanager
def fresh_db_url(kind: str, folder) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file in `folder`, or a PostgreSQL schema dropped afterwards
    (skips the test when PostgreSQL does not answer)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'basira.db'}"
        return
    reason = _pg_unavailable()
    if reason:
        if REQUIRE_PG:
            pytest.fail(f"BASIRA_REQUIRE_PG=1 and {reason}")
        pytest.skip(reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    from tests import db_support

    with db_support.admin(PG_URL).begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    # synchronous_commit off: a commit does not wait for its WAL to reach the disk (8.3 → 1.5 ms a commit here);
    # what a transaction sees and when is unchanged, only a crash of the server could lose the last commits.
    options = f"-csearch_path={schema} -csynchronous_commit=off"
    url = sa.make_url(PG_URL).update_query_dict({"options": options})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        db_support.drop_later(PG_URL, schema, _drop_schema)  # on a background thread (why: there)


def _drop_schema(admin: sa.Engine, schema: str, tries: int = 10) -> None:
    """DROP SCHEMA … CASCADE, retried when PostgreSQL picks it as a deadlock victim: a test's server thread can
    still be finishing a query on the schema's tables when the test ends (seen once in a CI run)."""
    import time

    for attempt in range(tries):
        try:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            return
        except sa.exc.OperationalError:
            if attempt == tries - 1:
                raise
            time.sleep(0.2 * (attempt + 1))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh, empty database URL, once on SQLite and once on PostgreSQL."""
    with fresh_db_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def store(db_url: str):
    from basira.store import open_store

    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


TDB_CHECKED: list[str] = []  # PUIDs of the statements of reasons checked this session


def pytest_configure(config: pytest.Config) -> None:
    """Every DSA statement of reasons any test makes (library, CLI, web) is checked against the Transparency
    Database's own validation rules (tests/tdb_rules.py): one the database would refuse fails the test."""
    import basira.compliance.statements as statements
    from tests import tdb_rules

    original = statements.statement_of_reasons
    if getattr(original, "tdb_checked", False):
        return

    def checked(*args, **kwargs):
        s = original(*args, **kwargs)
        errors = tdb_rules.check(s)
        assert not errors, f"the Transparency Database would refuse this statement: {errors}\n{s}"
        TDB_CHECKED.append(s["puid"])
        return s

    checked.tdb_checked = True  # type: ignore[attr-defined]
    statements.statement_of_reasons = checked
    _only_intake_opens_cases()
    from tests import db_support

    db_support.install()  # empty databases migrated to head are copies of one migrated template (why: there)


def _only_intake_opens_cases() -> None:
    """Suite-wide: a case row is inserted only from basira.cases.intake (issue 12: the one writer of cases).
    An INSERT INTO cases reached from Basira's code without passing through intake fails the test that made
    it; a test's own seeding SQL (no Basira frame on the stack) is left alone."""
    import re
    import sys
    from pathlib import Path

    import basira

    if getattr(_only_intake_opens_cases, "installed", False):
        return
    pkg = str(Path(basira.__file__).resolve().parent)
    intake = str(Path(pkg) / "cases" / "intake.py")
    insert = re.compile(r'\s*INSERT\s+INTO\s+"?cases"?\s*\(', re.I)

    def guard(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if not insert.match(statement):
            return
        frame, ours = sys._getframe(1), False
        while frame is not None:
            name = os.path.realpath(frame.f_code.co_filename)
            if name == intake:
                return
            ours = ours or name.startswith(pkg)
            frame = frame.f_back
        assert not ours, "a case was inserted outside basira.cases.intake: open cases with intake.submit"

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", guard)
    _only_intake_opens_cases.installed = True  # type: ignore[attr-defined]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from tests import db_support

    db_support.wait_for_drops()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and PG_SKIP in str(report.longrepr):
        _pg_skipped.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001 - pytest's hook
    """Say loudly when the PostgreSQL half of the suite did not run (it used to skip silently); and when a test's
    schema could not be dropped."""
    from tests import db_support

    if db_support.COPIES["sqlite"] or db_support.COPIES["postgresql"]:
        terminalreporter.write_line(
            f"migrated templates copied: {db_support.COPIES['sqlite']} SQLite, {db_support.COPIES['postgresql']} "
            "PostgreSQL (tests/db_support.py; BASIRA_TEST_NO_TEMPLATES=1 migrates each for real)")
    for error in db_support.DROP_ERRORS:
        terminalreporter.write_line(f"schema not dropped: {error}", yellow=True)
    if not _pg_skipped:
        return
    tr = terminalreporter
    tr.write_sep("!", f"{len(_pg_skipped)} PostgreSQL tests SKIPPED", red=True, bold=True)
    tr.write_line(f"why: {_pg_reason[0] if _pg_reason else PG_SKIP}", red=True)
    tr.write_line("fix: run `bash scripts/ensure-postgres.sh` (as root it installs and starts a server), or set "
                  "BASIRA_TEST_PG to a server you have; BASIRA_REQUIRE_PG=1 makes these tests fail instead "
                  "(CI sets it).", red=True)
    tr.write_sep("!", red=True, bold=True)
