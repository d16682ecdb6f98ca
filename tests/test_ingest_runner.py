import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from basira.core.errors import InputError
from basira.ingest import ingest_file
from basira.ingest.repository import get_checkpoint
from basira.store.models import Post

FIX = Path(__file__).parent / "fixtures"


def write_posts(path: Path, n: int, start: int = 0) -> None:
    with open(path, "wb") as fh:
        for i in range(start, start + n):
            obj = {
                "platform": "forum",
                "id": f"p{i}",
                "account_id": f"a{i % 37}",
                "handle": f"user{i % 37}",
                "text": f"hello world {i}",
                "created_at": "2024-01-02T03:04:05Z",
                "hashtags": ["hi"],
            }
            fh.write(orjson.dumps(obj) + b"\n")


def test_malformed_records_are_skipped_and_reported(store):
    res = ingest_file(store, str(FIX / "bad.jsonl"))
    assert res.posts_new == 2 and res.error_count == 5
    assert [(e["line"], e["field"]) for e in res.errors] == [
        (2, None),
        (3, "text"),
        (4, None),
        (5, "created_at"),
        (7, "media[0].sha256"),
    ]
    assert all(e["file"].endswith("bad.jsonl") for e in res.errors)
    assert store.count_posts() == 2


def test_on_error_stop_raises_and_keeps_good_records(store):
    with pytest.raises(InputError) as exc:
        ingest_file(store, str(FIX / "bad.jsonl"), on_error="stop")
    assert exc.value.line == 2 and "bad.jsonl:2" in str(exc.value)
    assert store.count_posts() == 1


def test_broken_json_array_raises_input_error(store, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('[{"data": [{"id": "1", "text": "hello"}]}, {"data": [{"id": "2", "te')
    with pytest.raises(InputError, match="invalid JSON"):
        ingest_file(store, str(bad), fmt="x_v2")
    assert store.count_posts() == 1  # what was read before the break is kept


def test_reingest_changes_nothing_and_appended_file_adds_only_new(store, tmp_path):
    f = tmp_path / "posts.jsonl"
    write_posts(f, 250)
    r1 = ingest_file(store, str(f), batch_size=100)
    assert (r1.posts_new, r1.posts_seen) == (250, 250)
    assert r1.accounts_new == 37
    r2 = ingest_file(store, str(f), batch_size=100)
    assert (r2.posts_new, r2.posts_seen, r2.records_skipped) == (0, 0, 250)
    write_posts(f, 300)  # the file grew (and changed): read again from the start, store only the new
    r3 = ingest_file(store, str(f), batch_size=64)
    assert (r3.posts_new, r3.posts_seen, r3.accounts_new) == (50, 300, 0)
    assert store.count_posts() == 300 and store.count_accounts() == 37
    assert store.count_events("ingest.completed") == 3
    assert store.verify_events() == (True, None)


RUNNER = """
import sys
from basira.ingest import ingest_file
from basira.store import open_store
store = open_store(sys.argv[1])
r = ingest_file(store, sys.argv[2], batch_size=int(sys.argv[3]))
print(r.posts_new, r.records_skipped)
"""


@pytest.mark.parametrize("where", ["after", "inside"])
def test_resume_after_kill(db_url, tmp_path, where):
    from basira.store import open_store

    f = tmp_path / "posts.jsonl"
    write_posts(f, 2000)
    env = {**os.environ, "BASIRA_INGEST_TEST_PAUSE": f"{where}:3"}
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, db_url, str(f), "250"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 60
        line = b""
        while time.time() < deadline:
            line = proc.stderr.readline()
            if b"basira-ingest-paused" in line or not line:
                break
        assert b"basira-ingest-paused" in line, proc.stderr.read().decode()
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    store = open_store(db_url)
    committed = 750 if where == "after" else 500  # batch 3 dies uncommitted when killed inside it
    assert store.count_posts() == committed
    cp = get_checkpoint(store, str(f.resolve()))
    assert cp is not None and cp.records_done == committed and not cp.completed
    res = ingest_file(store, str(f), batch_size=250)
    assert (res.records_skipped, res.posts_new) == (committed, 2000 - committed)
    assert store.count_posts() == 2000
    with store.read() as conn:
        distinct = conn.execute(sa.select(sa.func.count(sa.distinct(Post.external_id)))).scalar()
    assert distinct == 2000
    assert get_checkpoint(store, str(f.resolve())).completed
    store.close()
