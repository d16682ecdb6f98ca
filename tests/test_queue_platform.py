"""cases.platform_id (migration 0015): intake writes the platform of each case's subject (a post's own, else its
account's; an account's; none for a network-level subject), the migration backfills it the same way, and the
queue's source sort and filter read it — the same order and rows as the plain ORDER BY over the post, account and
platform joins the queue used before. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from basira.cases.intake import Finding, submit
from basira.cases.manual import open_cases_for
from basira.review.demo import seed_cases
from basira.review.queue import QueueFilter
from basira.review.repository import ReviewRepo
from basira.store.models import Account, Case, Platform, Post

C, P, A, PF = Case.__table__, Post.__table__, Account.__table__, Platform.__table__


def _joined_platforms(conn) -> dict[int, int | None]:
    """Each case's platform as the queue joined it before the column: COALESCE(post's, account's)."""
    account = sa.case((C.c.subject_kind == "account", C.c.subject_id), else_=P.c.account_id)
    q = (sa.select(C.c.id, sa.func.coalesce(P.c.platform_id, A.c.platform_id))
         .outerjoin(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
         .outerjoin(A, A.c.id == account))
    return dict(conn.execute(q).all())


def _first_accounts(store, n: int) -> list[int]:
    with store.read() as conn:
        return list(conn.execute(sa.select(A.c.id).order_by(A.c.id).limit(n)).scalars())


def test_intake_writes_each_subjects_platform(store):
    seed_cases(store, 6)
    seed_cases(store, 5, seed=3, platform="other")
    accounts = _first_accounts(store, 3)
    with store.transaction() as tx:
        open_cases_for(tx, [{"subject_kind": "account", "subject_id": a, "reason": "manual (synthetic)",
                             "priority": 40.0} for a in accounts[:2]])
        network = submit(tx, [Finding(("community", accounts[2]), "network", "community (synthetic)",
                                      priority=30.0)]).opened
    with store.read() as conn:
        stored = dict(conn.execute(sa.select(C.c.id, C.c.platform_id)).all())
        names = dict(conn.execute(sa.select(PF.c.id, PF.c.name)).all())
        assert stored == _joined_platforms(conn)
    assert stored[network[0]] is None  # a community is no platform's post or account
    assert {names[p] for p in stored.values() if p is not None} == {"demo", "other"}
    assert sum(p is not None for p in stored.values()) == 6 + 5 + 2


def test_the_migration_backfills_the_platform_as_the_queue_joined_it(db_url):
    from basira.store import open_store
    from basira.store.db import migrate

    engine = sa.create_engine(db_url)
    migrate(engine, "0014_posts_lang")
    with engine.begin() as conn:  # cases as 0014 stored them: no platform of their own
        conn.execute(sa.text("INSERT INTO platforms (name) VALUES ('t'), ('u')"))
        conn.execute(sa.text("INSERT INTO accounts (platform_id, external_id, status, first_seen_at) VALUES "
                             "(2, 'a1', 'active', CURRENT_TIMESTAMP)"))
        for i, (platform, account) in enumerate(((1, None), (2, 1))):
            conn.execute(sa.text("INSERT INTO posts (platform_id, external_id, account_id, text, mentions, hashtags,"
                                 " urls, ingested_at) VALUES (:pf, :e, :a, 'x', '[]', '[]', '[]', CURRENT_TIMESTAMP)"),
                         {"pf": platform, "e": f"p{i}", "a": account})
        for kind, subject in (("post", 1), ("post", 2), ("account", 1), ("community", 1), ("post", 99)):
            conn.execute(sa.text("INSERT INTO cases (subject_kind, subject_id, reason, status, priority, details, "
                                 "opened_at) VALUES (:k, :s, 'synthetic', 'open', 1.0, '{}', CURRENT_TIMESTAMP)"),
                         {"k": kind, "s": subject})
    engine.dispose()
    store = open_store(db_url)  # migrates to head
    try:
        with store.read() as conn:
            got = list(conn.execute(sa.select(C.c.platform_id).order_by(C.c.id)).scalars())
            assert got == [1, 2, 2, None, None]  # post's, post's, account's, a community's none, a missing post's none
            assert dict(enumerate(got, 1)) == _joined_platforms(conn)
    finally:
        store.close()


def test_the_source_filter_and_sort_read_the_column(store):
    seed_cases(store, 9)
    seed_cases(store, 7, seed=4, platform="other")
    with store.transaction() as tx:
        open_cases_for(tx, [{"subject_kind": "account", "subject_id": a, "reason": "manual (synthetic)",
                             "priority": 55.0} for a in _first_accounts(store, 2)])
    repo, now = ReviewRepo(store), datetime.now(UTC)
    with store.read() as conn:
        joined = _joined_platforms(conn)
        names = dict(conn.execute(sa.select(PF.c.id, PF.c.name)).all())
    every = [r.id for r in repo.queue_page(QueueFilter(), now, 100).rows]
    for name in ("demo", "other"):
        rows = repo.queue_page(QueueFilter(source=name), now, 100).rows
        assert [r.id for r in rows] == [i for i in every if names.get(joined[i]) == name]  # in the queue's order
        assert {r.source for r in rows} == {name}
        by_source = [r.id for r in repo.queue_page(QueueFilter(source=name, sort="source", desc=False), now, 3, 2).rows]
        assert by_source == [r.id for r in rows][2:5]
    assert repo.queue_page(QueueFilter(source="nowhere"), now, 10).rows == []
