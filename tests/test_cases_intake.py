"""basira.cases.intake, the only writer of cases, on SQLite and PostgreSQL (the `store` fixture runs both)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from basira.cases.intake import Finding, SubjectError, check_subject, submit
from basira.cases.priority import PrioritySignals, case_priority
from basira.ingest.records import AccountRecord, PostRecord
from basira.ingest.repository import ingest_batch
from basira.store.models import Case


def _posts(store, n=3):
    with store.transaction() as tx:
        ingest_batch(tx, [AccountRecord("x", "a1", handle="alice")],
                     [PostRecord("x", f"p{i}", "a1", f"synthetic text {i}") for i in range(n)])
    return [store.post_ids("x", [f"p{i}"])[f"p{i}"] for i in range(n)]


def _case(store, cid):
    C = Case.__table__
    with store.read() as conn:
        return conn.execute(sa.select(C).where(C.c.id == cid)).one()


def _events(store, kind):
    return [e for e in store.iter_events() if e["kind"] == kind]


def test_opens_one_case_per_subject_ranked_by_the_one_rule(store):
    p = _posts(store)
    sig = PrioritySignals(model_score=0.9, categories=("recruitment",))
    with store.transaction() as tx:
        got = submit(tx, [Finding(("post", p[0]), "detector", "flagged", signals=sig, ref="detection:1"),
                          Finding(("post", p[0]), "hash", "a second finding, same subject: the first wins"),
                          Finding(("post", p[1]), "hash", "hash match", priority=3.5)], actor="t", lookup=True)
    assert len(got.opened) == 2 and got.raised == []
    assert set(got.cases) == {("post", p[0]), ("post", p[1])}
    c = _case(store, got.cases[("post", p[0])])
    assert c.reason == "flagged" and c.priority == pytest.approx(case_priority(sig)) and c.status == "open"
    opened = _events(store, "case.opened")
    assert len(opened) == 2 and store.verify_events() == (True, None)
    assert opened[0]["payload"] == {"subject": f"post:{p[0]}", "source": "detector", "reason": "flagged",
                                    "priority": pytest.approx(case_priority(sig)), "ref": "detection:1"}
    assert opened[0]["actor"] == "t"


def test_a_finding_on_an_open_case_leaves_it_or_raises_it(store):
    p = _posts(store, 1)
    with store.transaction() as tx:
        first = submit(tx, [Finding(("post", p[0]), "detector", "flagged", priority=10.0, details={"score": 0.6})])
    cid = first.opened[0]
    with store.transaction() as tx:  # not asked to raise: nothing changes, nothing logged
        again = submit(tx, [Finding(("post", p[0]), "detector", "flagged again", priority=90.0)], lookup=True)
    assert again.opened == [] and again.raised == [] and again.cases == {("post", p[0]): cid}
    assert _case(store, cid).priority == 10.0
    with store.transaction() as tx:
        up = submit(tx, [Finding(("post", p[0]), "hash", "hash match: bank b", priority=50.0, raises=True,
                                 merge=lambda old: {**old, "hash_matches": [1]}, evidence={"matches": [1]})])
    c = _case(store, cid)
    assert up.raised == [cid] and c.priority == 50.0 and c.reason == "flagged; hash match: bank b"
    assert c.details == {"score": 0.6, "hash_matches": [1]}
    [ev] = _events(store, "case.hash_matched")
    assert ev["payload"]["priority"] == [10.0, 50.0] and ev["payload"]["matches"] == [1]
    with store.transaction() as tx:  # an order notes itself on the case: details only, no priority, no event
        submit(tx, [Finding(("post", p[0]), "order", "removal order", priority=1.0, raises=True,
                            append_reason=False, raise_priority=False, merge=lambda old: {**old, "order_id": 7})])
    c = _case(store, cid)
    assert c.priority == 50.0 and c.details["order_id"] == 7 and c.reason == "flagged; hash match: bank b"
    assert _events(store, "case.raised") == []


def test_rolled_back_with_the_transaction(store):
    p = _posts(store, 1)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        submit(tx, [Finding(("post", p[0]), "detector", "flagged", priority=1.0)])
        raise RuntimeError("the rest of the unit of work failed")
    assert store.count_cases() == 0 and store.count_events("case.opened") == 0


def test_one_subject_check():
    check_subject("network", "community")
    check_subject("order", "account")
    for source, kind in (("detector", "account"), ("network", "post"), ("manual", "planet"), ("oracle", "post")):
        with pytest.raises(SubjectError):
            check_subject(source, kind)
    assert not issubclass(SubjectError, ValueError)  # one error base: callers catch SubjectError (BasiraError)


def test_the_suite_refuses_a_case_inserted_outside_intake(store):
    """conftest installs a guard for the whole suite: Basira code that inserts a case row without going
    through intake fails (here the bulk helper called directly, as a repository bypassing intake would)."""
    from basira.core.time import utcnow
    from basira.store import bulk

    p = _posts(store, 1)
    row = {"subject_kind": "post", "subject_id": p[0], "reason": "bypass", "status": "open", "priority": 0.0,
           "detection_id": None, "details": {}, "opened_at": utcnow(), "closed_at": None}
    with pytest.raises(AssertionError, match="outside basira.cases.intake"), store.transaction() as tx:
        bulk.insert_rows(tx.conn, Case.__table__, [row])
    assert store.count_cases() == 0
