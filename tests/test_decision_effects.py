"""DecisionEffects: a reviewer's removal, its preserved copy and notice, and its bank entry commit together.

`ReviewService.decide` runs in one transaction (one COMMIT); a listener that fails rolls the decision back with
everything else, so there is no half-done removal. On SQLite and PostgreSQL (the `store` fixture runs both)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from compliance_support import Clock, add_users

from basira.review.decisions import Actor
from basira.review.demo import seed_cases
from basira.review.effects import DecisionEffects
from basira.review.queue import QueueFilter
from basira.review.service import ReviewService, ReviewSettings
from basira.store.compliance_models import ContentNotice, PreservedItem
from basira.store.review_models import Decision


def _setup(store, effects=None):
    seed_cases(store, 3)
    ids = add_users(store)
    svc = ReviewService(store, ReviewSettings(), clock=Clock(), **({"effects": effects} if effects else {}))
    alice = Actor(ids["alice"], "alice", "reviewer")
    return svc, alice, svc.claim_next(alice, QueueFilter())


def _rows(store, model):
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(model.__table__)).scalar_one()


def test_a_removal_and_its_preserved_copy_commit_in_one_transaction(store):
    svc, alice, case_id = _setup(store)
    commits = []

    def count(conn):  # write transactions only (reads commit too, and are not units of work)
        if conn.get_execution_options().get("basira_write"):
            commits.append(1)

    sa.event.listen(store.engine, "commit", count)
    try:
        out = svc.decide(case_id, alice, "remove", "TVEC-1.2")
    finally:
        sa.event.remove(store.engine, "commit", count)
    assert len(commits) == 1  # the decision, its event, the preserved copy and the notice: one COMMIT
    assert _rows(store, Decision) == 1 and _rows(store, PreservedItem) == 1 and _rows(store, ContentNotice) == 1
    assert out.decision_id and store.verify_events() == (True, None)


def test_a_failing_listener_rolls_the_decision_back(store):
    def broken(tx, removal):
        raise RuntimeError("the bank is unreachable")

    effects = DecisionEffects({"removed": ("basira.compliance.repository:preserve_on_removal", broken)})
    svc, alice, case_id = _setup(store, effects)
    events_before = store.count_events()
    with pytest.raises(RuntimeError):
        svc.decide(case_id, alice, "remove", "TVEC-1.2")
    assert _rows(store, Decision) == 0 and _rows(store, PreservedItem) == 0 and _rows(store, ContentNotice) == 0
    assert store.count_events() == events_before  # no review.decided, no preservation event either
    svc.effects = DecisionEffects()  # the bank is back: the same removal goes through, whole
    svc.decide(case_id, alice, "remove", "TVEC-1.2")
    assert _rows(store, Decision) == 1 and _rows(store, PreservedItem) == 1


def test_listeners_hear_the_removal_with_the_decisions_transaction(store):
    heard = []
    effects = DecisionEffects({"removed": (lambda tx, r: heard.append((tx.conn, r)) or {"heard": True},)})
    svc, alice, case_id = _setup(store, effects)
    out = svc.decide(case_id, alice, "remove", "TVEC-1.2")
    [(conn, removal)] = heard
    assert out.effects["heard"] is True and removal.case_id == case_id and removal.decision_id == out.decision_id
    assert removal.actor == "alice" and conn.closed  # the transaction ended with decide
    assert _rows(store, PreservedItem) == 0  # this service was given no compliance listener
