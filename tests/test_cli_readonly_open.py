"""Every command that only reads (review, banks, evidence, compliance CLIs) refuses a SQLite path with no database:
`error: --db PATH: no database at PATH ...` on one line, exit 2, no traceback, and no file (nor its directory) made;
the same command on a database that exists works (exit 0). Issue 15: `users list` and `audit verify` created one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from basira.cli import app
from basira.review.demo import seed_cases
from basira.store import open_store

ORDER = {"authority": "Politie", "order_ref": "NL-1", "reasons": "Recruitment video.", "targets": ["demo:p7-0"],
         "received_at": "2026-11-01T08:00:00Z", "contact": "https://politie.example/tco"}


@dataclass
class World:
    db: Path  # a database that exists: 3 cases, one bank, one order, one evidence package
    case_id: int
    key: Path
    package: Path
    text: Path  # a file for `match`


def run(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(autouse=True)
def _no_sinks(monkeypatch):
    for k in ("BASIRA_WEBHOOK_URL", "BASIRA_ALERT_WEBHOOK_URL", "BASIRA_SMTP_HOST", "BASIRA_DB"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    tmp = tmp_path_factory.mktemp("readonly")
    db = tmp / "basira.db"
    with open_store(str(db)) as store:
        case_id = seed_cases(store, 3)[0]
    orders = tmp / "orders.jsonl"
    orders.write_text(json.dumps(ORDER) + "\n", encoding="utf-8")
    text = tmp / "note.txt"
    text.write_text("a harmless note about the weekend market\n", encoding="utf-8")
    for args in (["banks", "create", "b1"], ["orders", "import", orders]):
        r = run(*args, "--db", db)
        assert r.exit_code == 0, r.output
    r = run("evidence", "keygen", "--out", tmp / "keys")
    assert r.exit_code == 0, r.output
    key = tmp / "keys" / "basira-evidence.key"
    package = tmp / "package.zip"
    r = run("evidence", "export", f"case:{case_id}", "--out", package, "--key", key, "--exporter", "t", "--db", db)
    assert r.exit_code == 0, r.output
    return World(db, case_id, key, package, text)


# name -> the command's arguments before --db (`out` is a fresh path for what a command writes outside the db)
def _commands(w: World, out: Path) -> dict[str, list[object]]:
    return {
        "users list": ["users", "list"],
        "audit verify": ["audit", "verify"],
        "review prioritize --explain": ["review", "prioritize", "--explain", w.case_id],
        "banks list": ["banks", "list"],
        "banks export": ["banks", "export", "b1", out / "b1.jsonl"],
        "match": ["match", w.text],
        "evidence export": ["evidence", "export", f"case:{w.case_id}", "--out", out / "p.zip", "--key", w.key],
        "evidence verify --db": ["evidence", "verify", w.package],
        "orders list": ["orders", "list"],
        "orders show": ["orders", "show", 1],
        "complaints list": ["complaints", "list"],
        "compliance preserved": ["compliance", "preserved"],
    }


COMMANDS = list(_commands(World(Path(), 0, Path(), Path(), Path()), Path()))


@pytest.mark.parametrize("command", COMMANDS)
def test_a_missing_database_is_refused_and_not_created(world, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)  # a stray default basira.db would land here
    (tmp_path / "out").mkdir()
    target = tmp_path / "no_such_dir" / "x.db"
    res = run(*_commands(world, tmp_path / "out")[command], "--db", target)
    assert res.exit_code == 2, (res.output, res.exception)
    assert isinstance(res.exception, SystemExit | None), res.exception  # typer.Exit, not a crash
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: --db "), lines[0]
    assert lines[0].endswith(f": no database at {target} (this command only reads; it creates none)"), lines[0]
    assert "Traceback" not in res.output and res.stdout == ""
    assert not target.exists() and not target.parent.exists()
    assert not (tmp_path / "basira.db").exists()
    assert list((tmp_path / "out").iterdir()) == []  # nothing exported either


@pytest.mark.parametrize("command", COMMANDS)
def test_an_existing_database_is_read(world, tmp_path, command):
    res = run(*_commands(world, tmp_path)[command], "--db", world.db)
    assert res.exit_code == 0, (res.output, res.exception)
    expected = {"users list": "", "audit verify": "audit chain intact", "review prioritize --explain": "{",
                "banks list": "b1\t", "banks export": "to ", "match": '"matched":false',
                "evidence export": "exported case:", "evidence verify --db": "package intact",
                "orders list": "\topen\t", "orders show": '"order_ref": "NL-1"', "complaints list": "",
                "compliance preserved": ""}[command]
    assert expected in res.stdout, res.stdout


def test_a_sqlite_url_names_the_path_too(tmp_path):
    target = tmp_path / "x.db"
    res = run("users", "list", "--db", f"sqlite:///{target}")
    assert res.exit_code == 2
    assert f"no database at {target}" in res.stderr and not target.exists()


def test_commands_that_write_still_create_their_database(tmp_path):
    """The other side: `banks create` and `match --record` make the database they are pointed at."""
    for args, name in ((["banks", "create", "b1"], "a.db"), (["match", "--record", __file__], "b.db")):
        target = tmp_path / "new" / name
        res = run(*args, "--db", target)
        assert res.exit_code == 0, res.output
        assert target.exists()
