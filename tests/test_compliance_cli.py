"""`basira orders|compliance|complaints` end to end on a SQLite file: exit codes, messages, the --now clock."""

import json

import sqlalchemy as sa
from compliance_support import add_users
from typer.testing import CliRunner

from basira.cli import app
from basira.review.demo import seed_cases
from basira.store import open_store
from basira.store.compliance_models import PreservedItem, RemovalOrder

ORDER = {"authority": "Politie", "order_ref": "NL-1", "reasons": "Recruitment video.", "targets": ["demo:p7-0"],
         "received_at": "2026-11-01T08:00:00Z", "contact": "https://politie.example/tco"}


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_orders_cli_import_list_execute_tick_purge_and_complaints(tmp_path, monkeypatch):
    for k in ("BASIRA_WEBHOOK_URL", "BASIRA_ALERT_WEBHOOK_URL", "BASIRA_SMTP_HOST"):
        monkeypatch.delenv(k, raising=False)
    db = f"sqlite:///{tmp_path / 'c.db'}"
    with open_store(db) as store:
        seed_cases(store, 2)
        add_users(store)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(ORDER) + "\n" + json.dumps({**ORDER, "order_ref": "NL-2", "authority": 7.5,
                                                           "targets": "demo:p7-1 nonsense"}) + "\n")
    r = run("orders", "import", bad, "--db", db)
    assert r.exit_code == 2 and f"{bad}:2: field 'targets'" in r.stderr
    with open_store(db) as store, store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(RemovalOrder)).scalar_one() == 0

    good = tmp_path / "orders.jsonl"
    good.write_text(json.dumps(ORDER) + "\n")
    r = run("orders", "import", good, "--db", db)
    assert r.exit_code == 0 and "1 orders imported" in r.stdout
    r = run("orders", "import", good, "--db", db)
    assert r.exit_code == 0 and "1 already received" in r.stdout
    r = run("orders", "list", "--db", db)
    assert r.exit_code == 0 and "\topen\t" in r.stdout and "OVERDUE" in r.stdout  # received on 1 November
    assert run("orders", "execute", 1, "--as", "alice", "--db", db).exit_code == 1  # a reviewer may not
    r = run("orders", "execute", 1, "--as", "lena", "--db", db)
    assert r.exit_code == 0 and json.loads(r.stdout)["items"][0]["outcome"] == "recorded"  # no action sink
    assert "nothing was removed" in r.stderr
    assert json.loads(run("orders", "show", 1, "--db", db).stdout)["status"] == "executed"
    assert run("orders", "show", 99, "--db", db).exit_code == 1

    r = run("complaints", "file", "--order", 1, "--complainant", "acc7-0", "--grounds", "It was news.", "--db", db)
    assert r.exit_code == 0 and "complaint 1 received" in r.stdout
    r = run("complaints", "decide", 1, "--reject", "--reasons", "It is the group's own video.", "--as", "lena",
            "--db", db)
    assert r.exit_code == 0 and "rejected" in r.stdout
    assert run("complaints", "decide", 1, "--uphold", "--reasons", "again", "--as", "lena", "--db", db).exit_code == 1
    assert "\trejected\torder 1\t" in run("complaints", "list", "--db", db).stdout

    assert run("compliance", "tick", "--now", "tomorrow", "--db", db).exit_code == 2
    r = run("compliance", "tick", "--now", "2027-01-01T00:00:00Z", "--db", db)
    assert r.exit_code == 0 and json.loads(r.stdout)["purged"] == 0
    r = run("compliance", "hold", 1, "--until", "2030-01-01T00:00:00Z", "--reason", "Court order 4/27",
            "--as", "lena", "--db", db)
    assert r.exit_code == 0
    r = run("compliance", "purge", "--now", "2029-12-31T00:00:00Z", "--db", db)
    assert r.exit_code == 0 and r.stdout.startswith("0 preserved items purged")
    r = run("compliance", "purge", "--now", "2030-01-01T00:00:00Z", "--db", db)
    assert r.exit_code == 0 and r.stdout.startswith("1 preserved items purged: 1")
    with open_store(db) as store, store.read() as conn:
        item = conn.execute(sa.select(PreservedItem)).one()
    assert item.content is None and len(item.content_sha256) == 64
    assert "purged 2030-01-01" in run("compliance", "preserved", "--db", db).stdout
