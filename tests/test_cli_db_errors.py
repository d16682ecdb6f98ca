"""A --db that cannot be opened is a clear `error: --db <url>: ...` and exit 2 for every command, never a
traceback, with the URL's password hidden; commands that only read never create a database (issue 15 audit)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from basira.cli import app
from tests.conftest import PG_URL, _pg_unavailable

SECRET = "s3cr3t-pw"


def _pg_url(database: str | None = None, port: int | None = None) -> str:
    url = sa.make_url(PG_URL).set(password=SECRET)
    if database is not None:
        url = url.set(database=database)
    if port is not None:
        url = url.set(port=port)
    return url.render_as_string(hide_password=False)


def _bad_urls() -> list[tuple[str, str]]:
    return [
        ("no such database", "pg-nonexist"),  # resolved in the test (needs the server)
        ("nothing listening", _pg_url(port=1)),
        ("driver not installed", f"mysql://user:{SECRET}@127.0.0.1/x"),
        ("unknown dialect", "foo://x/y"),
        ("port not a number", f"postgresql://user:{SECRET}@127.0.0.1:abc/x"),
    ]


def _commands(tmp_path) -> dict[str, list[str]]:
    data = tmp_path / "x.jsonl"
    data.write_text('{"id": "1", "text": "hello", "author": "a"}\n', encoding="utf-8")
    return {
        "scan": ["scan", str(data)],
        "scan --cluster": ["scan", str(data), "--cluster", "tcp://127.0.0.1:1"],
        "users list": ["users", "list"],
        "orders list": ["orders", "list"],
        "rescore": ["rescore"],
        "network communities": ["network", "communities"],
        "report transparency": ["report", "transparency", "--from", "2026-01-01", "--to", "2026-01-02",
                                "--out", str(tmp_path / "out")],
    }


@pytest.mark.parametrize("case", [c for c, _ in _bad_urls()])
@pytest.mark.parametrize("command", ["scan", "scan --cluster", "users list", "orders list", "rescore",
                                     "network communities", "report transparency"])
def test_a_bad_db_url_is_a_clear_error_with_exit_2(tmp_path, monkeypatch, case, command):
    url = dict(_bad_urls())[case]
    if url == "pg-nonexist":
        if _pg_unavailable():
            pytest.skip(_pg_unavailable())
        url = _pg_url(database="basira_no_such_database")
    monkeypatch.chdir(tmp_path)  # a stray default basira.db would land here, not in the repository
    res = CliRunner().invoke(app, [*_commands(tmp_path)[command], "--db", url])
    assert res.exit_code == 2, (res.output, res.exception)
    assert not isinstance(res.exception, BaseException) or isinstance(res.exception, SystemExit), res.exception
    out = " ".join(res.output.split())  # rich wraps long lines
    assert out.startswith("error: --db "), out
    assert "Traceback" not in out and SECRET not in out
    if "://" in url and case != "port not a number":
        assert sa.make_url(url).render_as_string(hide_password=True) in out
    expected = {"no such database": 'database "basira_no_such_database" does not exist',
                "nothing listening": "cannot connect", "driver not installed": "MySQLdb",
                "unknown dialect": "not a database URL", "port not a number": "not a database URL"}[case]
    assert expected in out, out
    assert not (tmp_path / "basira.db").exists()


@pytest.mark.parametrize("args", [
    ["network", "communities"],
    ["network", "actors"],
    ["report", "transparency", "--from", "2026-01-01", "--to", "2026-01-02"],
    ["report", "statements", "--from", "2026-01-01", "--to", "2026-01-02"],
    ["orders", "list"],
    ["orders", "show", "1"],
    ["complaints", "list"],
    ["compliance", "preserved"],
])
def test_a_read_only_command_refuses_a_missing_database_and_creates_none(tmp_path, monkeypatch, args):
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "nonexist_dir" / "x.db"
    res = CliRunner().invoke(app, [*args, "--db", str(target)])
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())
    assert out.startswith("error: --db ") and f"no database at {target}" in out, out
    assert not target.parent.exists()


def test_a_command_that_writes_still_creates_its_database(tmp_path):
    target = tmp_path / "new_dir" / "x.db"
    data = tmp_path / "x.jsonl"
    data.write_text('{"id": "1", "text": "hello", "author": "a"}\n', encoding="utf-8")
    res = CliRunner().invoke(app, ["scan", str(data), "--db", str(target)])
    assert res.exit_code == 0, res.output
    assert target.exists()
    # ... and then a read-only command reads it
    res = CliRunner().invoke(app, ["network", "communities", "--db", str(target), "--json"])
    assert res.exit_code == 0, res.output


def test_the_entry_point_says_it_too(tmp_path):
    """The installed entry point (a subprocess, as a user runs it) prints the error, not a traceback."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    res = subprocess.run([sys.executable, "-m", "basira.cli", "orders", "list", "--db", f"mysql://u:{SECRET}@h/x"],
                         capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr and SECRET not in res.stderr
    assert "error: --db mysql://u:***@h/x: cannot connect: its driver is not installed" in " ".join(res.stderr.split())
