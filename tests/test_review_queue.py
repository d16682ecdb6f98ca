"""The review queue's paging, sorting and counting (basira.review.repository), on SQLite and PostgreSQL: keyset
pages equal offset pages, a sort on a column some cases lack puts those last in both directions and pages across
that boundary, a large total is an estimate said as such, and detections.policy is a column the migration
backfills from the evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from basira.cases.detector import record_detections
from basira.cases.manual import open_cases_for
from basira.review import repository
from basira.review.demo import seed_cases
from basira.review.queue import QueueFilter
from basira.review.repository import QueueCursor, ReviewRepo
from basira.store.detections import add_detections
from basira.store.models import Account, Case, Detection, Platform, Post


def _expected(store, f: QueueFilter) -> list[int]:
    """The queue's order computed here, in Python, from the rows themselves (the repository sorts in SQL)."""
    C, D, P, A, PF = Case.__table__, Detection.__table__, Post.__table__, Account.__table__, Platform.__table__
    account = sa.case((C.c.subject_kind == "account", C.c.subject_id), else_=P.c.account_id)
    with store.read() as conn:
        rows = conn.execute(sa.select(C.c.id, C.c.priority, C.c.opened_at, D.c.score, P.c.lang, D.c.policy,
                                      PF.c.name.label("source"))
                            .outerjoin(D, D.c.id == C.c.detection_id)
                            .outerjoin(P, sa.and_(C.c.subject_kind == "post", P.c.id == C.c.subject_id))
                            .outerjoin(A, A.c.id == account)
                            .outerjoin(PF, PF.c.id == sa.func.coalesce(P.c.platform_id, A.c.platform_id))
                            .where(C.c.status.in_(f.statuses))).all()
    key = f.sort
    ties = sorted(rows, key=lambda r: (-r.priority, r.opened_at, r.id))
    have = [r for r in ties if getattr(r, key) is not None]
    lacking = [r for r in ties if getattr(r, key) is None]
    have.sort(key=lambda r: getattr(r, key), reverse=f.desc)  # stable: ties keep priority, oldest, id
    return [r.id for r in have + lacking]


def _account_cases(store, n: int) -> list[int]:
    A = Account.__table__
    with store.read() as conn:
        accounts = list(conn.execute(sa.select(A.c.id).order_by(A.c.id).limit(n)).scalars())
    with store.transaction() as tx:
        return open_cases_for(tx, [{"subject_kind": "account", "subject_id": a, "reason": "manual (synthetic)",
                                      "priority": 50.0 + a} for a in accounts])


def _all_pages(repo: ReviewRepo, f: QueueFilter, now: datetime, limit: int) -> list[int]:
    out: list[int] = []
    for offset in range(0, 200, limit):
        page = repo.queue_page(f, now, limit, offset)
        out += [r.id for r in page.rows]
        if len(page.rows) < limit:
            break
    return out


def test_keyset_pages_equal_offset_pages_and_cover_the_queue_once(store):
    seed_cases(store, 23)
    _account_cases(store, 3)
    repo, now = ReviewRepo(store), datetime.now(UTC)
    by_offset = _all_pages(repo, QueueFilter(), now, 5)
    by_key, after = [], None
    while True:
        page = repo.queue_page(QueueFilter(), now, 5, after=after)
        by_key += [r.id for r in page.rows]
        if page.next_after is None:
            break
        after = QueueCursor.parse(page.next_after.token())  # through its URL form, as the web page does
        assert after == page.next_after
    assert by_key == by_offset == _expected(store, QueueFilter())
    assert len(by_key) == len(set(by_key)) == 26
    assert QueueCursor.parse("not-a-cursor") is None and QueueCursor.parse("1.0~2026-01-01T00:00:00~3") is None


def test_a_sort_on_a_column_some_cases_lack_puts_them_last_both_ways_and_pages_across(store):
    seed_cases(store, 12)
    accounts = _account_cases(store, 3)  # no detection, no post: no score, no language
    repo, now = ReviewRepo(store), datetime.now(UTC)
    for sort in ("score", "lang"):
        for desc in (True, False):
            f = QueueFilter(sort=sort, desc=desc)
            got = _all_pages(repo, f, now, 4)  # 15 cases: the boundary falls inside page 3, page 4 is all tail
            assert got == _expected(store, f), (sort, desc)
            assert set(got[-3:]) == set(accounts)


def test_language_source_and_policy_sorts_keep_the_full_sorts_order(store):
    """Language, policy and source read each value's cases from an index in the queue's order (no sort of every
    queue row): the order is column, then priority, oldest, id, the lacking last, across pages and in both
    directions — as a plain ORDER BY over the joined rows gives it."""
    seed_cases(store, 14)
    seed_cases(store, 9, seed=8, platform="other")  # a second source
    accounts = _account_cases(store, 2)  # no post: no language or policy (their platform is their source)
    D = Detection.__table__
    with store.transaction() as tx:  # three policies' worth: two values and none
        for i, policy in ((1, "hate_speech"), (2, "terrorist_support")):
            tx.execute(sa.update(D).where(D.c.id % 3 == i).values(policy=policy))
    repo, now = ReviewRepo(store), datetime.now(UTC)
    for sort in ("lang", "source", "policy"):
        for desc in (True, False):
            f = QueueFilter(sort=sort, desc=desc)
            want = _expected(store, f)
            assert _all_pages(repo, f, now, 4) == want, (sort, desc)  # pages end inside values and the tail
            assert [r.id for r in repo.queue_page(f, now, 7, 11).rows] == want[11:18], (sort, desc)
            if sort == "lang":  # (policy: posts whose detection has none are in the tail too)
                assert set(want[-2:]) == set(accounts)
    f = QueueFilter(lang="ar", sort="lang")  # a filter on the sorted column too
    arabic = set(_all_pages(repo, QueueFilter(lang="ar"), now, 50))
    assert arabic and _all_pages(repo, f, now, 3) == [
        i for i in _expected(store, QueueFilter(sort="lang")) if i in arabic]
    with store.read() as conn:
        assert repo._sort_values(conn, "policy") == ["hate_speech", "terrorist_support"]


def test_a_large_total_is_an_estimate_and_says_so(store, monkeypatch):
    seed_cases(store, 30)
    repo, now = ReviewRepo(store), datetime.now(UTC)
    exact = repo.queue_page(QueueFilter(), now, 5)
    assert (exact.total, exact.total_exact) == (30, True)
    monkeypatch.setattr(repository, "COUNT_EXACT", 10)
    monkeypatch.setattr(repository, "ESTIMATE_OVER", 10)
    page = repo.queue_page(QueueFilter(), now, 5)
    if store.dialect == "postgresql":  # the planner's estimate, rounded to two digits; the page says "about"
        assert page.total_exact is False and 10 < page.total < 1000
    else:  # SQLite has no estimate: it counts
        assert (page.total, page.total_exact) == (30, True)
    assert [r.id for r in page.rows] == [r.id for r in exact.rows]
    assert repository._about(60_068) == 60_000 and repository._about(987) == 990


def test_policy_is_a_column_written_by_the_store_and_backfilled_by_the_migration(db_url):
    from basira.store import open_store
    from basira.store.db import migrate

    engine = sa.create_engine(db_url)
    migrate(engine, "0011_review_groups")
    with engine.begin() as conn:  # detections as 0011 stored them: the policy only in the evidence
        conn.execute(sa.text("INSERT INTO platforms (name) VALUES ('t')"))
        for i, ev in enumerate(['{"policy": "hate_speech"}', '{"policy": "made_up"}', '{"spans": []}']):
            conn.execute(sa.text("INSERT INTO posts (platform_id, external_id, text, mentions, hashtags, urls, "
                                 "ingested_at) VALUES (1, :e, 'x', '[]', '[]', '[]', CURRENT_TIMESTAMP)"), {"e": f"p{i}"})
            conn.execute(sa.text("INSERT INTO detections (post_id, model_version, score, categories, evidence, "
                                 "created_at) VALUES (:p, 'v', 0.5, '[]', :ev, CURRENT_TIMESTAMP)"),
                         {"p": i + 1, "ev": ev})
    engine.dispose()
    store = open_store(db_url)  # migrates to head
    try:
        D = Detection.__table__
        with store.read() as conn:
            assert list(conn.execute(sa.select(D.c.policy).order_by(D.c.post_id)).scalars()) == [
                "hate_speech", None, None]
        with store.transaction() as tx:
            add_detections(tx, [{"post_id": 3, "model_version": "v", "score": 0.9, "categories": [],
                                   "evidence": {"policy": "terrorist_support"}}])
        with store.transaction() as tx:
            record_detections(tx, [{"post_id": 3, "model_version": "w", "score": 0.9, "flagged": False,
                                      "evidence": {"policy": "hate_speech"}}])
        with store.read() as conn:
            assert dict(conn.execute(sa.select(D.c.model_version, D.c.policy).where(D.c.post_id == 3)).all()) == {
                "v": "terrorist_support", "w": "hate_speech"}
    finally:
        store.close()
