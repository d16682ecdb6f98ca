"""A decision, its undo and a review group cross into the faces as typed records (basira.review.records), and the
REST API's JSON for them is exactly the record's to_dict(): the same keys in the same order, `banked` and
`unbanked` only when a bank was touched. On SQLite and PostgreSQL (the `store` fixture runs both)."""

from __future__ import annotations

import dataclasses
import json
import warnings
from datetime import timedelta

import pytest
from compliance_support import Clock

from basira import banks
from basira.cases.groups import assign_groups
from basira.review.decisions import Actor
from basira.review.demo import seed_cases, seed_copies
from basira.review.groups import group_of_case
from basira.review.records import DecisionResult, GroupView, MemberDecision, UndoResult
from basira.review.service import ReviewService, ReviewSettings
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def api(store):
    clock = Clock()
    svc = ReviewService(store, ReviewSettings(secure_cookies=False), clock=clock)
    svc.add_user("rev", "a long enough password", "reviewer")
    cookie, csrf = svc.start_session(svc.repo.user_by_name("rev"))
    c = TestClient(create_app(svc), follow_redirects=False)
    c.cookies.set("basira_session", cookie)
    c.headers["X-CSRF-Token"] = csrf
    return svc, c, clock


def test_the_api_answers_a_decision_and_its_undo_with_the_records_to_dict(api):
    svc, c, clock = api
    store = svc.store
    cases = seed_cases(store, 2)
    with store.transaction() as tx:
        banks.create_bank(tx, "removed")
    r = c.post(f"/api/v1/cases/{cases[0]}/decisions",
               json={"action": "remove", "reason_code": "TVEC-1.1", "add_to_bank": "removed"})
    assert r.status_code == 201, r.text
    body = json.loads(r.content)
    assert list(body) == ["decision_id", "status", "final_at", "stage", "members", "banked"]
    assert body["final_at"] == (clock() + timedelta(seconds=svc.settings.undo_seconds)).isoformat().replace("+00:00", "Z")
    assert body["banked"]["bank"] == "removed" and body["banked"]["added"] >= 1 and body["members"] == []
    u = c.post(f"/api/v1/decisions/{body['decision_id']}/undo")
    assert u.status_code == 200 and json.loads(u.content) == {"case_id": cases[0], "status": "open",
                                                                    "unbanked": body["banked"]["added"]}
    assert list(json.loads(u.content)) == ["case_id", "status", "unbanked"]

    # No bank, no removal: neither key is there (not null).
    r = c.post(f"/api/v1/cases/{cases[1]}/decisions", json={"action": "keep", "reason_code": "OK-1"})
    assert list(r.json()) == ["decision_id", "status", "final_at", "stage", "members"]
    u = c.post(f"/api/v1/decisions/{r.json()['decision_id']}/undo")
    assert u.json() == {"case_id": cases[1], "status": "open"}


def test_decide_and_undo_return_frozen_records_read_by_attribute(api):
    svc, _, clock = api
    store = svc.store
    ids = seed_copies(store, reposts=2, copies=1)
    assign_groups(store, clock())
    actor = Actor(svc.repo.user_by_name("rev")["id"], "rev", "reviewer")
    lead = ids["original"][0]
    out = svc.decide(lead, actor, "remove", "TVEC-1.1")
    assert isinstance(out, DecisionResult) and not hasattr(out, "get") and out.banked is None
    assert {m.case_id for m in out.members} == {*ids["reposts"], *ids["copies"]}
    assert all(isinstance(m, MemberDecision) for m in out.members)
    with pytest.raises(dataclasses.FrozenInstanceError):
        out.status = "open"  # type: ignore[misc]
    assert out.to_dict() == {"decision_id": out.decision_id, "status": "decided", "final_at": out.final_at,
                             "stage": "review", "members": [m.to_dict() for m in out.members]}

    g = group_of_case(store, ids["reposts"][0])
    assert isinstance(g, GroupView) and g.lead_case_id == lead and g.status == "closed"
    assert [m.role for m in g.members] == ["lead", "member", "member", "member"]
    assert g.members[0].case_id == lead and g.to_dict()["members"][0]["case_id"] == lead
    assert group_of_case(store, ids["other"][0]) is None

    clock.advance(seconds=10)
    undone = svc.undo(out.decision_id, actor)
    assert isinstance(undone, UndoResult) and (undone.case_id, undone.status) == (lead, "open")
    assert undone.unbanked == 0  # a removal: banks' listener answered (nothing had been banked)
    assert group_of_case(store, lead).status == "open"
