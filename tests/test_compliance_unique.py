"""One preserved copy and one notice per decision, enforced by the database: two writers preserving the same
reviewer removal at once (the request path and the compliance loop, each with its own connection pool as two
processes would have) write one copy and one notice; a duplicate insert is refused by the unique index; the
migration links pre-existing duplicates to nothing rather than deleting them. On SQLite and PostgreSQL."""

import threading

import pytest
import sqlalchemy as sa
from compliance_support import Clock, add_users
from sqlalchemy.exc import IntegrityError

from basira.compliance.service import ComplianceService
from basira.review.decisions import Actor
from basira.review.demo import seed_cases
from basira.review.queue import QueueFilter
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.store.compliance_models import ContentNotice, PreservedItem
from basira.store.db import migrate

ROUNDS = 6


def bare_decisions(store, n):
    """n reviewer removals committed without their preservation (as if the process died right after each)."""
    ids = add_users(store)
    clock = Clock()
    review = ReviewService(store, ReviewSettings(), clock=clock)
    alice = Actor(ids["alice"], "alice", "reviewer")
    reason = review.catalogue.get("TVEC-1.2")
    out = []
    for _ in range(n):
        case_id = review.claim_next(alice, QueueFilter())
        d = review.repo.decide(case_id, alice, "remove", "TVEC-1.2", reason.actions, None, clock(), 60,
                               review.claim_ttl, review._webhook)
        out.append((case_id, d.decision_id))
    return out


def counts(store):
    with store.read() as conn:
        copies = conn.execute(sa.select(PreservedItem.decision_id, sa.func.count()).group_by(PreservedItem.decision_id)
                              ).all()
        notices = conn.execute(sa.select(ContentNotice.decision_id, sa.func.count())
                               .group_by(ContentNotice.decision_id)).all()
    return dict(copies), dict(notices)


def test_two_concurrent_writers_preserve_each_decision_once(db_url):
    stores = [open_store(db_url) for _ in range(2)]
    try:
        seed_cases(stores[0], ROUNDS)
        decisions = bare_decisions(stores[0], ROUNDS)
        request_path, loop = (ComplianceService(s, ReviewSettings(), clock=Clock()) for s in stores)
        errors, results = [], {"request": [], "loop": []}
        for case_id, decision_id in decisions:
            barrier = threading.Barrier(2)

            def run(name, fn, barrier=barrier):
                barrier.wait()
                try:
                    results[name].append(fn())
                except Exception as exc:  # noqa: BLE001 - reported below
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=("request", lambda c=case_id, d=decision_id:
                                                          request_path.preserve_decision(c, d, "alice"))),
                       threading.Thread(target=run, args=("loop", loop.preserve_missed))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        assert errors == []
        copies, notices = counts(stores[0])
        wanted = {d: 1 for _, d in decisions}
        assert copies == wanted and notices == wanted
        # Each decision was preserved by exactly one of the two writers.
        by_request = {d for (_, d), pid in zip(decisions, results["request"], strict=True) if pid is not None}
        by_loop = {d for ids in results["loop"] for d in ids}
        assert by_request | by_loop == set(wanted) and not by_request & by_loop
        assert stores[0].verify_events() == (True, None)
    finally:
        for s in stores:
            s.close()


def test_the_database_refuses_a_second_copy_or_notice_of_one_decision(store):
    seed_cases(store, 1)
    ((case_id, decision_id),) = bare_decisions(store, 1)
    svc = ComplianceService(store, ReviewSettings(), clock=Clock())
    assert svc.preserve_decision(case_id, decision_id) is not None
    assert svc.preserve_decision(case_id, decision_id) is None
    with store.read() as conn:
        item = conn.execute(sa.select(PreservedItem.__table__)).one()._asdict()
        notice = conn.execute(sa.select(ContentNotice.__table__)).one()._asdict()
    for table, row in ((PreservedItem.__table__, item), (ContentNotice.__table__, notice)):
        with pytest.raises(IntegrityError), store.write() as conn:
            conn.execute(sa.insert(table).values({k: v for k, v in row.items() if k != "id"}))
    assert counts(store) == ({decision_id: 1}, {decision_id: 1})


def test_the_migration_keeps_duplicates_written_before_it_but_unlinks_them(db_url):
    engine = sa.create_engine(db_url)
    migrate(engine, "0005_compliance")
    engine.dispose()
    old = open_store(db_url, migrate_schema=False)
    try:
        with old.write() as conn:
            for _ in range(3):
                conn.execute(sa.text(
                    "INSERT INTO preserved_items (decision_id, reason, legal_basis, preserved_at, preserve_until, "
                    "content_sha256) VALUES (7, 'decision', 'art. 6', '2026-11-29 08:00:00+00', "
                    "'2027-05-29 08:00:00+00', 'x')"))
    finally:
        old.close()
    with open_store(db_url) as store, store.read() as conn:
        rows = conn.execute(sa.select(PreservedItem.id, PreservedItem.decision_id).order_by(PreservedItem.id)).all()
    assert [d for _, d in rows] == [7, None, None]
