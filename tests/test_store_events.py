import threading

import sqlalchemy as sa

from basira.store import open_store
from basira.store.events import GENESIS_HASH, _event_entry, event_hash
from basira.store.models import Event


def test_events_are_hash_chained(store):
    for i in range(5):
        store.append_event(
            "test.kind", {"i": i, "text": "مرحبا", "f": 0.25}, actor="tester", subject=f"post:{i}"
        )
    events = list(store.iter_events())
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5]
    assert events[0]["prev_hash"] == GENESIS_HASH
    for prev, cur in zip(events, events[1:], strict=False):
        assert cur["prev_hash"] == prev["hash"]
    e = events[2]
    assert e["hash"] == event_hash(
        e["prev_hash"], _event_entry(e["id"], e["at"], e["kind"], e["actor"], e["subject"], e["payload"])
    )
    assert store.verify_events() == (True, None)


def test_tampering_is_detected(store):
    for i in range(3):
        store.append_event("k", {"i": i})
    with store.write() as conn:
        conn.execute(sa.update(Event.__table__).where(Event.__table__.c.id == 2).values(payload={"i": 99}))
    assert store.verify_events() == (False, 2)


def test_concurrent_appends_keep_one_chain(db_url):
    stores = [open_store(db_url) for _ in range(4)]

    def work(s):
        for i in range(15):
            s.append_event("concurrent", {"i": i})

    threads = [threading.Thread(target=work, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stores[0].count_events() == 60
    assert stores[0].verify_events() == (True, None)
    for s in stores:
        s.close()
