"""The event log's PostgreSQL advisory lock is per schema: two Basira deployments in two schemas of one database
(each with its own `events` table and chain) do not wait on each other's writers, while writers of one schema
still queue on one lock and keep one valid chain. Real connections and threads on a real PostgreSQL."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from basira.store import open_store
from tests.conftest import fresh_db_url


@pytest.fixture
def two_schemas(tmp_path):
    with fresh_db_url("postgresql", tmp_path) as a, fresh_db_url("postgresql", tmp_path) as b:
        sa_, sb = open_store(a), open_store(b)
        try:
            yield sa_, sb
        finally:
            sa_.close()
            sb.close()


def _waiting_on_advisory(store, pid: int) -> bool:
    with store.read() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE pid = :p AND locktype = 'advisory' AND NOT granted"),
            {"p": pid}).scalar_one())


def test_two_schemas_writers_do_not_block_each_other(two_schemas):
    a, b = two_schemas
    a.append_event("a.first", {"i": 0})
    done = threading.Event()
    failure: list[BaseException] = []

    def write_b() -> None:
        try:
            for i in range(3):
                b.append_event("b.kind", {"i": i})
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failure.append(exc)
        finally:
            done.set()

    # Schema A's writer holds its chain's lock (an open transaction that appended) while schema B writes.
    with a.transaction() as tx:
        tx.append_events([("a.held", None, None, {"i": 1})])
        holder = int(tx.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
        assert _held_advisory(a, holder)
        t = threading.Thread(target=write_b)
        t.start()
        # Before the lock was keyed by schema, B's first append waited here until A committed (forever).
        finished = done.wait(30)
        assert finished, "schema B's event writer waited on schema A's lock"
    t.join()
    assert not failure, failure
    assert (a.count_events(), b.count_events()) == (2, 3)
    assert a.verify_events() == (True, None) and b.verify_events() == (True, None)
    assert [e["id"] for e in b.iter_events()] == [1, 2, 3]  # B's own chain, not interleaved with A's ids


def _held_advisory(store, pid: int) -> bool:
    with store.read() as conn:
        return bool(conn.execute(sa.text(
            "SELECT count(*) FROM pg_locks WHERE pid = :p AND locktype = 'advisory' AND granted"),
            {"p": pid}).scalar_one())


def test_writers_of_one_schema_still_queue_on_its_lock(two_schemas):
    a, b = two_schemas
    second = open_store(a.engine.url.render_as_string(hide_password=False))
    waiter: list[int] = []
    done = threading.Event()

    def write() -> None:
        with second.transaction() as tx:
            waiter.append(int(tx.conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()))
            tx.append_events([("a.second", None, None, {"n": 2})])
        done.set()

    try:
        with a.transaction() as tx:
            tx.append_events([("a.first", None, None, {"n": 1})])
            t = threading.Thread(target=write)
            t.start()
            # The second writer of schema A waits for the lock (seen in pg_locks) while the first holds it.
            for _ in range(600):
                if waiter and _waiting_on_advisory(a, waiter[0]):
                    break
                done.wait(0.1)
            assert waiter and _waiting_on_advisory(a, waiter[0]) and not done.is_set()
            b.append_event("b.meanwhile", {})  # schema B is not held up meanwhile
        t.join(60)
        assert done.is_set()
        assert [e["kind"] for e in a.iter_events()] == ["a.first", "a.second"]
        assert a.verify_events() == (True, None) and b.verify_events() == (True, None)
    finally:
        second.close()
