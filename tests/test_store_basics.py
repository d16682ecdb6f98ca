from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from basira.cases.intake import SubjectError
from basira.cases.manual import open_case_for, open_cases_for
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord
from basira.ingest.repository import ingest_batch, upsert_accounts, upsert_posts
from basira.store import open_store
from basira.store.detections import add_detections, detection_id

T0 = datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def post(i: int, account: str = "u1", **kw) -> PostRecord:
    return PostRecord(
        platform="x",
        external_id=f"p{i}",
        account_external_id=account,
        text=f"hello world {i}",
        created_at=T0,
        **kw,
    )


def _head() -> str:
    from alembic.script import ScriptDirectory

    from basira.store.db import MIGRATIONS

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def test_open_store_creates_schema_and_is_rerunnable(db_url):
    s = open_store(db_url)
    assert s.counts() == {
        "platforms": 0,
        "accounts": 0,
        "posts": 0,
        "media": 0,
        "detections": 0,
        "cases": 0,
        "events": 0,
    }
    s.close()
    s = open_store(db_url)  # upgrade head again is a no-op
    with s.read() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == _head()
    s.close()


def test_sqlite_pragmas(tmp_path):
    s = open_store(str(tmp_path / "x.db"))  # a plain path means SQLite
    with s.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    s.close()


def test_models_match_migrations(db_url):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from basira.store.models import Base

    s = open_store(db_url)
    with s.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    s.close()
    assert diff == []


def test_upsert_posts_is_idempotent_and_keeps_fields(store):
    batch = [
        post(
            1,
            lang="en",
            reply_to="p0",
            quote_of="q9",
            repost_of=None,
            forwarded_from="chan",
            mentions=["bob"],
            hashtags=["tag"],
            urls=["https://example.org/a"],
            media=[
                MediaRecord(url="https://example.org/m.jpg", kind="photo", sha256="ab" * 32, pdq="cd" * 32,
                            md5="ef" * 16)
            ],
        ),
        post(2, handle="alice"),
        post(2, handle="alice"),  # duplicate inside the batch
    ]
    with store.transaction() as tx:
        assert upsert_posts(tx, batch) == 2
    with store.transaction() as tx:
        assert upsert_posts(tx, batch) == 0
    assert store.count_posts() == 2 and store.count_accounts() == 1 and store.count_media() == 1
    p = store.get_post("x", "p1")
    assert p["created_at"] == T0
    assert (p["lang"], p["reply_to"], p["quote_of"], p["forwarded_from"]) == ("en", "p0", "q9", "chan")
    assert (p["mentions"], p["hashtags"], p["urls"]) == (["bob"], ["tag"], ["https://example.org/a"])
    assert p["media"] == [
        {
            "position": 0,
            "url": "https://example.org/m.jpg",
            "kind": "photo",
            "sha256": "ab" * 32,
            "pdq": "cd" * 32,
            "md5": "ef" * 16,
        }
    ]
    assert p["account_external_id"] == "u1"
    assert store.count_posts("x") == 2 and store.count_posts("telegram") == 0


def test_same_external_id_on_two_platforms_is_two_posts(store):
    a = post(1)
    b = PostRecord(platform="telegram", external_id="p1", account_external_id="u1", text="hi")
    with store.transaction() as tx:
        assert upsert_posts(tx, [a, b]) == 2
    assert store.count_accounts() == 2


def test_upsert_accounts_updates_changed_fields_only(store):
    rec = AccountRecord("x", "u1", handle="alice", display_name="Alice", bio="hello", created_at=T0)
    with store.transaction() as tx:
        assert upsert_accounts(tx, [rec]) == 1
    with store.transaction() as tx:
        assert upsert_accounts(tx, [rec]) == 0
    # A later profile with a new bio and a suspension; missing fields keep their stored values.
    later = AccountRecord("x", "u1", bio="new bio", status="suspended", suspended_at=T0)
    with store.transaction() as tx:
        assert upsert_accounts(tx, [later]) == 0
    a = store.get_account("x", "u1")
    assert (a["handle"], a["display_name"], a["bio"], a["status"]) == (
        "alice",
        "Alice",
        "new bio",
        "suspended",
    )
    assert a["created_at"] == T0 and a["suspended_at"] == T0
    # A stub from a post does not overwrite a full profile.
    with store.transaction() as tx:
        upsert_posts(tx, [post(1, account="u1", handle="other")])
    assert store.get_account("x", "u1")["handle"] == "alice"


def test_detections_and_cases(store):
    with store.transaction() as tx:
        upsert_posts(tx, [post(1), post(2)])
    ids = store.post_ids("x", ["p1", "p2", "nope"])
    assert set(ids) == {"p1", "p2"}
    rows = [
        {
            "post_id": ids["p1"],
            "model_version": "m1",
            "score": 0.9,
            "categories": ["recruitment"],
            "evidence": {"spans": [[0, 5]]},
        }
    ]
    with store.transaction() as tx:
        assert add_detections(tx, rows) == 1
    with store.transaction() as tx:
        assert add_detections(tx, [{**rows[0], "score": 0.8}]) == 0  # re-scored, replaced
    assert store.count_detections() == 1
    det = detection_id(store, ids["p1"], "m1")
    with store.transaction() as tx:
        cid, new = open_case_for(tx, "post", ids["p1"], "score 0.8 >= 0.5", priority=0.8, detection_id=det)
    assert new
    with store.transaction() as tx:
        assert open_case_for(tx, "post", ids["p1"], "again") == (cid, False)
    with store.transaction() as tx:
        assert (
            open_cases_for(tx,
                [
                    {"subject_kind": "post", "subject_id": ids["p2"], "reason": "r"},
                    {"subject_kind": "post", "subject_id": ids["p1"], "reason": "r"},
                ]
            )
            != []
        )
    assert store.count_cases() == 2 and store.count_cases("open") == 2
    assert store.count_events("case.opened") == 2
    with pytest.raises(SubjectError):
        with store.transaction() as tx:
            open_case_for(tx, "planet", 1, "no")


def test_iter_posts_pages_in_id_order(store):
    with store.transaction() as tx:
        upsert_posts(tx, [post(i) for i in range(25)])
    pages = list(store.iter_posts(batch_size=10))
    assert [len(p) for p in pages] == [10, 10, 5]
    flat = [r for p in pages for r in p]
    assert [r["external_id"] for r in flat] == [f"p{i}" for i in range(25)]
    assert flat[0]["platform"] == "x" and flat[0]["account_external_id"] == "u1"
    assert flat[0]["created_at"] == T0


def test_failed_batch_rolls_back_everything(store):
    class Boom(Exception):
        pass

    def explode():
        raise Boom

    with pytest.raises(Boom), store.transaction() as tx:
        ingest_batch(tx, [AccountRecord("x", "a9")], [post(1)])
        explode()
    assert store.counts()["posts"] == 0 and store.count_accounts() == 0
    # The platform row was rolled back too; the next batch must not use a stale cached id.
    with store.transaction() as tx:
        assert upsert_posts(tx, [post(1)]) == 1
