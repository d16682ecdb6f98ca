"""`basira scan` on SQLite and PostgreSQL: counts, cases, idempotence, malformed input, resume after kill."""

import functools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from basira.cases.views import top_cases
from basira.cli import app
from basira.detect import load_detector
from basira.scan import scan_paths
from basira.simulate import simulate_platform

JSON_KEYS = {"posts_total", "posts_new", "accounts_total", "flagged_total", "cases_open", "errors"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("platform")
    simulate_platform(accounts=60, seed=11, out_dir=str(out))
    return out


def distinct_tweets(platform: Path) -> dict[str, dict]:
    tweets: dict[str, dict] = {}
    for line in (platform / "tweets.jsonl").read_bytes().splitlines():
        page = orjson.loads(line)
        for t in [*page.get("data", []), *page.get("includes", {}).get("tweets", [])]:
            tweets.setdefault(t["id"], t)
    return tweets


@functools.cache
def expected_flagged(platform: Path) -> int:
    tweets = list(distinct_tweets(platform).values())
    langs = [None if t.get("lang") in (None, "und", "zxx") else t["lang"] for t in tweets]
    return sum(d.flagged for d in load_detector().detect([t["text"] for t in tweets], langs=langs))


def state(store) -> dict:
    c = store.counts()
    return {
        **c,
        "open_cases": store.count_cases("open"),
        "case_events": store.count_events("case.opened"),
        "chain": store.verify_events(),
    }


def test_scan_opens_a_case_per_flagged_post_and_rerun_changes_nothing(store, platform):
    s = scan_paths(store, [str(platform)], workers=1)
    n = len(distinct_tweets(platform))
    assert s.posts_total == s.posts_new == n
    assert s.errors == [] and not s.stopped
    assert "ground_truth.json" in {Path(f["file"]).name for f in s.skipped_files}
    assert s.flagged_total == s.flagged_new == expected_flagged(platform) > 0
    assert s.cases_open == s.cases_new == s.flagged_total
    assert sum(c["posts"] for c in s.by_language.values()) == n
    assert sum(c["flagged"] for c in s.by_language.values()) == s.flagged_total
    assert s.by_category and all(v > 0 for v in s.by_category.values())
    before = state(store)
    assert before["detections"] == n and before["case_events"] == before["cases"] == s.flagged_total
    assert before["chain"] == (True, None)
    cases = top_cases(store, 5)
    assert cases and cases[0].priority >= cases[-1].priority and cases[0].text  # by priority

    again = scan_paths(store, [str(platform)], workers=1)
    assert (again.posts_new, again.detections_new, again.cases_new, again.flagged_new) == (0, 0, 0, 0)
    assert again.files and all(f.get("unchanged") for f in again.files)  # finished files are not re-read
    assert (again.posts_total, again.flagged_total, again.cases_open) == (n, s.flagged_total, s.cases_open)
    after = state(store)
    assert {k: v for k, v in after.items() if k != "events"} == {
        k: v for k, v in before.items() if k != "events"
    }
    assert store.count_events("scan.completed") == 2


def test_process_pool_gives_the_same_result(store, platform):
    s = scan_paths(store, [str(platform / "tweets.jsonl")], workers=2, batch_size=64)
    assert s.workers == 2
    assert s.posts_total == len(distinct_tweets(platform))
    assert s.flagged_total == s.cases_open == expected_flagged(platform)
    assert store.count_detections() == s.posts_total


def write_jsonl(path: Path, n: int, bad_at: int | None = None) -> None:
    lines = []
    for i in range(1, n + 1):
        if i == bad_at:
            lines.append(b'{"platform": "forum", "id": "broken", "text": ')
            continue
        obj = {"platform": "forum", "id": f"p{i}", "account_id": f"a{i % 5}", "text": f"hello world {i}"}
        lines.append(orjson.dumps(obj))
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_malformed_record_is_reported_and_skipped(store, tmp_path):
    f = tmp_path / "posts.jsonl"
    write_jsonl(f, 30, bad_at=7)
    s = scan_paths(store, [str(f)], on_error="skip")
    assert s.posts_total == 29 and store.count_detections() == 29 and not s.stopped
    assert s.error_count == 1 and len(s.errors) == 1
    e = s.errors[0]
    assert set(e) == {"file", "line", "reason"} and e["file"].endswith("posts.jsonl") and e["line"] == 7


def test_on_error_stop_keeps_what_was_committed(store, db_url, tmp_path):
    f = tmp_path / "posts.jsonl"
    write_jsonl(f, 30, bad_at=12)
    s = scan_paths(store, [str(f)], on_error="stop")
    assert s.stopped and s.errors[-1]["line"] == 12
    assert s.posts_total == 11
    # The CLI exits 2 and names the place; fixing the file and scanning again completes the job.
    r = CliRunner().invoke(app, ["scan", str(f), "--db", db_url, "--on-error", "stop", "--json"])
    assert r.exit_code == 2 and "posts.jsonl:12" in r.stderr
    write_jsonl(f, 30)
    s = scan_paths(store, [str(f)], on_error="stop")
    assert not s.stopped and s.posts_total == 30 and store.count_detections() == 30


def test_cli_json_summary(db_url, platform):
    r = CliRunner().invoke(app, ["scan", str(platform), "--db", db_url, "--format", "auto", "--json"])
    assert r.exit_code == 0, r.output
    out = orjson.loads(r.stdout)
    assert JSON_KEYS <= set(out)
    assert out["posts_total"] == out["posts_new"] == len(distinct_tweets(platform))
    assert out["accounts_total"] > 0 and out["errors"] == []
    assert out["cases_open"] == out["flagged_total"]
    r = CliRunner().invoke(app, ["scan", str(platform / "tweets.jsonl"), "--db", db_url, "--format", "x-v2"])
    assert r.exit_code == 0 and "Scan summary" in r.stdout


def test_unknown_file_and_format_exit_2(db_url, tmp_path):
    r = CliRunner().invoke(app, ["scan", str(tmp_path / "nope.jsonl"), "--db", db_url])
    assert r.exit_code == 2 and "no such file" in r.stderr
    f = tmp_path / "a.jsonl"
    write_jsonl(f, 3)
    r = CliRunner().invoke(app, ["scan", str(f), "--db", db_url, "--format", "bogus"])
    assert r.exit_code == 2 and "unknown format" in r.stderr


def run_until_paused(args: list[str], env_key: str, value: str) -> None:
    env = {**os.environ, env_key: value}
    proc = subprocess.Popen(
        [sys.executable, "-m", "basira.cli", *args],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300  # a guard against hangs; a loaded machine is slow
    lines = []
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        lines.append(line)
        if b"-paused" in line:
            break
        if not line and proc.poll() is not None:
            break
    else:  # pragma: no cover
        proc.kill()
    alive = proc.poll() is None
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert alive, b"".join(lines).decode()


@pytest.mark.parametrize(
    "env_key,value", [("BASIRA_SCAN_TEST_PAUSE", "inside:3"), ("BASIRA_INGEST_TEST_PAUSE", "inside:1")]
)
def test_resume_after_kill_loses_and_duplicates_nothing(db_url, platform, env_key, value):
    from basira.store import open_store

    args = ["scan", str(platform), "--db", db_url, "--batch-size", "40", "--workers", "1", "--json"]
    run_until_paused(args, env_key, value)
    with open_store(db_url) as store:
        partial = store.count_detections()
    # Resume in a fresh process too, so both runs load the model from disk the same way.
    r = subprocess.run([sys.executable, "-m", "basira.cli", *args], capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    out = orjson.loads(r.stdout)
    n = len(distinct_tweets(platform))
    assert out["posts_total"] == n and out["errors"] == []
    with open_store(db_url) as store:
        st = state(store)
        scored = store.count_detections(out["model_version"])
    assert scored == st["detections"] == n > partial
    assert out["flagged_total"] == out["cases_open"] == st["cases"] == st["case_events"] > 0
    assert st["chain"] == (True, None)
