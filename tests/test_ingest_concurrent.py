"""Two ingests touching one new account at once (two real PostgreSQL connections, on two threads): one stores a
stub of it (a post's author, a retweet's original author), the other its full profile. Whichever commits first,
the account ends with the full profile's fields — none lost, none overwritten by the stub's NULLs. The
interleaving is forced: the first transaction stays open until the second is seen waiting on its row lock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from basira.ingest.records import AccountRecord, PostRecord
from basira.ingest.repository import ingest_batch
from tests.conftest import fresh_db_url

CREATED = datetime(2020, 5, 1, 12, 0, tzinfo=UTC)


def _full(ext: str = "a1", **over) -> AccountRecord:
    fields = {"handle": "ukhti_synthetic", "display_name": "Synthetic Name", "bio": "synthetic profile",
              "created_at": CREATED, "profile_image_hash": "ab" * 16, "extra": {"verified": False}}
    return AccountRecord("x", ext, **{**fields, **over})


def _stub_post(ext: str = "a1", post: str = "p1") -> PostRecord:
    return PostRecord("x", post, ext, "synthetic retweet text", handle="ukhti_synthetic")


def _waiting_on_lock(store, pid: int) -> bool:
    with store.read() as conn:
        return conn.execute(sa.text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :p"),
                            {"p": pid}).scalar() == "Lock"


def _race(store, first, second) -> None:
    """Run `first(tx)` in a transaction left open until `second(tx)`, on another thread and connection, waits
    on it; then commit the first and let the second finish."""
    with store.transaction() as tx:  # the platform exists already: the second must wait on the account's row
        ingest_batch(tx, [AccountRecord("x", "someone_else", handle="other")], [])
    pids: list[int] = []
    errors: list[BaseException] = []

    def run_second() -> None:
        try:
            with store.transaction() as tx:
                pids.append(int(tx.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()))
                second(tx)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            errors.append(exc)

    t = threading.Thread(target=run_second)
    with store.transaction() as tx:
        first(tx)
        t.start()
        waited = threading.Event()
        for _ in range(300):
            if pids and _waiting_on_lock(store, pids[0]):
                break
            waited.wait(0.1)
        assert pids and _waiting_on_lock(store, pids[0]), "the second ingest never waited on the first"
    t.join(60)
    assert not t.is_alive() and not errors, errors


@pytest.fixture
def pg_store(tmp_path):
    """PostgreSQL only: the row-lock interleavings of two connections (SQLite has one writer at a time)."""
    from basira.store import open_store

    with fresh_db_url("postgresql", tmp_path) as url, open_store(url) as s:
        yield s


def _fields(store, ext: str = "a1") -> dict:
    a = store.get_account("x", ext)
    return {k: a[k] for k in ("handle", "display_name", "bio", "created_at", "profile_image_hash", "extra")}


FULL = {"handle": "ukhti_synthetic", "display_name": "Synthetic Name", "bio": "synthetic profile",
        "created_at": CREATED, "profile_image_hash": "ab" * 16, "extra": {"verified": False}}


def test_a_stub_committed_first_does_not_swallow_the_full_profile(pg_store):
    _race(pg_store, lambda tx: ingest_batch(tx, [], [_stub_post()]), lambda tx: ingest_batch(tx, [_full()], []))
    assert _fields(pg_store) == FULL
    assert pg_store.count_accounts() == 2
    assert pg_store.get_post("x", "p1")["account_external_id"] == "a1"


def test_a_full_profile_committed_first_keeps_its_fields_when_a_stub_follows(pg_store):
    _race(pg_store, lambda tx: ingest_batch(tx, [_full()], []), lambda tx: ingest_batch(tx, [], [_stub_post()]))
    assert _fields(pg_store) == FULL
    assert pg_store.get_post("x", "p1")["account_external_id"] == "a1"


def test_two_partial_profiles_at_once_merge(pg_store):
    """Each record brings some fields (the other's stay); extra fields accumulate."""
    one = AccountRecord("x", "a2", handle="h2", display_name="Name Two", extra={"lists": 3})
    two = AccountRecord("x", "a2", bio="bio two", created_at=CREATED, extra={"verified": True})
    _race(pg_store, lambda tx: ingest_batch(tx, [one], []), lambda tx: ingest_batch(tx, [two], [_stub_post("a2")]))
    a = pg_store.get_account("x", "a2")
    assert (a["handle"], a["display_name"], a["bio"], a["created_at"]) == ("h2", "Name Two", "bio two", CREATED)
    assert a["extra"] == {"lists": 3, "verified": True}
    assert a["status"] == "active"


def test_a_suspension_is_not_undone_by_a_concurrent_profile_without_status(pg_store):
    gone = AccountRecord("x", "a3", handle="h3", status="suspended", suspended_at=CREATED)
    _race(pg_store, lambda tx: ingest_batch(tx, [gone], []), lambda tx: ingest_batch(tx, [_full("a3")], []))
    a = pg_store.get_account("x", "a3")
    assert (a["status"], a["suspended_at"], a["display_name"]) == ("suspended", CREATED, "Synthetic Name")
