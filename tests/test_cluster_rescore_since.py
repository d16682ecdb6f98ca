"""`basira rescore --since T` scores only the posts ingested at or after T (issue 17 item 2), in this process
(`--local`: the same windows a cluster's tasks score); a later run without --since scores the rest. Through the CLI,
on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import orjson
import sqlalchemy as sa
from typer.testing import CliRunner

from basira.cli import app
from basira.ingest.records import AccountRecord, PostRecord
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.store import open_store
from basira.store.models import Detection, Post

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
TEXTS = ("The harvest festival is on Saturday, bring bread and a song (synthetic).",
         "Chess club meets on Thursday evening in the library basement (synthetic).",
         "Volunteers are painting the school fence next Sunday morning (synthetic).",
         "The choir rehearses every Tuesday night at the community hall (synthetic).")


def _ingest(store, ids: list[str]) -> None:
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("x", e, "u1", TEXTS[int(e) % len(TEXTS)], lang="en",
                                     created_at=T0 + timedelta(minutes=int(e))) for e in ids])


def _scored(store) -> dict[str, set[str]]:
    """External id -> model versions that scored it."""
    P, D = Post.__table__, Detection.__table__
    with store.read() as conn:
        rows = conn.execute(sa.select(P.c.external_id, D.c.model_version).join(D, D.c.post_id == P.c.id)).all()
    out: dict[str, set[str]] = {}
    for ext, version in rows:
        out.setdefault(ext, set()).add(version)
    return out


def _rescore(db_url: str, *extra: str) -> dict:
    r = CliRunner().invoke(app, ["rescore", "--db", db_url, "--local", "--json", *extra])
    assert r.exit_code == 0, r.output
    return orjson.loads(r.stdout.strip().splitlines()[-1])


def test_rescore_since_scores_only_posts_ingested_after_it(db_url):
    with open_store(db_url) as store:
        with store.transaction() as tx:
            upsert_accounts(tx, [AccountRecord("x", "u1", handle="user1")])
        _ingest(store, ["1", "2", "3"])
        time.sleep(0.05)
        since = datetime.now(UTC)
        time.sleep(0.05)
        _ingest(store, ["4", "5"])  # ids above the first batch's, and ingested after `since`
        assert _scored(store) == {}

    out = _rescore(db_url, "--since", since.isoformat())
    version = out["model_version"]
    assert (out["scored"], out["detections_new"], out["posts_total"]) == (2, 2, 5)
    with open_store(db_url) as store:
        assert _scored(store) == {"4": {version}, "5": {version}}

    # Without --since the rest is scored, and what is scored stays scored once.
    out = _rescore(db_url)
    assert (out["scored"], out["detections_new"]) == (3, 3)
    with open_store(db_url) as store:
        assert _scored(store) == {e: {version} for e in ("1", "2", "3", "4", "5")}
    assert _rescore(db_url)["scored"] == 0


def test_rescore_since_in_the_future_scores_nothing_and_a_bad_time_is_refused(db_url):
    with open_store(db_url) as store:
        _ingest(store, ["1", "2"])
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert _rescore(db_url, "--since", later)["scored"] == 0
    r = CliRunner().invoke(app, ["rescore", "--db", db_url, "--local", "--since", "yesterday-ish"])
    assert r.exit_code == 2 and "--since" in r.output and "Traceback" not in r.output
    with open_store(db_url) as store:
        assert _scored(store) == {}
