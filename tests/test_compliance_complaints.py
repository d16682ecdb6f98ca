"""Complaints about removals (art. 10) on SQLite and PostgreSQL: filing rules, decisions with reasons, reinstatement
through the restore webhook, and a reinstated post left alone by the purge."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from compliance_support import Clock, Receiver, add_users

from basira.compliance.repository import ComplianceError
from basira.compliance.service import ComplianceService
from basira.review.decisions import Actor
from basira.review.demo import seed_cases
from basira.review.queue import QueueFilter
from basira.review.service import ReviewService, ReviewSettings
from basira.store.compliance_models import Complaint
from basira.store.models import Post

ORDER = {"authority": "CNIL-like authority", "order_ref": "FR-3", "reasons": "Glorification of an attack.",
         "targets": ["demo:p7-0", "demo:p7-1"]}


def test_complaint_upheld_reinstates_and_the_purge_leaves_the_live_post_alone(store):
    rx = Receiver()
    try:
        seed_cases(store, 3)
        add_users(store)
        clock = Clock()
        svc = ComplianceService(store, ReviewSettings(webhook_url=rx.url, webhook_secret="whsec"), clock=clock)
        oid = svc.receive(ORDER, "api", "lena")
        with pytest.raises(ComplianceError) as e:
            svc.file_complaint(complainant="acc7-0", grounds="news", order_id=oid)
        assert e.value.kind == "conflict"  # nothing removed yet
        svc.execute(oid, "lena")
        targets = {t.target: t for t in svc.order(oid).targets}
        p0, p1 = targets["demo:p7-0"].post_id, targets["demo:p7-1"].post_id
        for bad in ({}, {"order_id": oid, "case_id": 1}):
            with pytest.raises(ComplianceError):
                svc.file_complaint(complainant="x", grounds="y", **bad)
        with pytest.raises(ComplianceError):
            svc.file_complaint(complainant="x", grounds="y", order_id=oid, post_id=999)
        with pytest.raises(ComplianceError):
            svc.file_complaint(complainant=" ", grounds="y", order_id=oid)

        clock.advance(days=3)
        cid = svc.file_complaint(complainant="acc7-0", grounds="It is a news report.", order_id=oid, post_id=p0)
        with pytest.raises(ComplianceError) as e:
            svc.decide_complaint(cid, True, "ok", "alice")  # reviewers do not decide complaints
        assert e.value.kind == "forbidden"
        with pytest.raises(ComplianceError):
            svc.decide_complaint(cid, True, "  ", "lena")
        clock.advance(days=2)
        out = svc.decide_complaint(cid, True, "A news report quoting the group, not propaganda.", "lena")
        assert out.to_dict() == {"complaint_id": cid, "status": "upheld", "reinstated": True, "restore_webhooks": 1}
        with pytest.raises(ComplianceError):
            svc.decide_complaint(cid, False, "again", "lena")
        svc.tick()
        restores = rx.bodies("restore")
        assert [b["post_id"] for b in restores] == ["p7-0"] and restores[0]["complaint_id"] == cid
        c = svc.repo.complaint(cid)
        assert (c.status, c.decided_by, c.reinstated) == ("upheld", "lena", True)
        assert c.decided_at - c.received_at == timedelta(days=2)

        clock.advance(days=200)
        assert len(svc.purge()) == 2
        with store.read() as conn:
            texts = dict(conn.execute(sa.select(Post.id, Post.text).where(Post.id.in_([p0, p1]))).all())
        assert texts[p0].startswith("Join the marching band")  # reinstated: platform data, left alone
        assert texts[p1] == ""  # still removed: blanked
        assert store.verify_events() == (True, None)
    finally:
        rx.close()


def test_complaint_about_a_reviewers_removal_and_an_undone_removal_is_not_blanked(store):
    seed_cases(store, 3)
    ids = add_users(store)
    clock = Clock()
    review = ReviewService(store, ReviewSettings(), clock=clock)
    svc = ComplianceService(store, ReviewSettings(), clock=clock)
    alice = Actor(ids["alice"], "alice", "reviewer")
    c1 = review.claim_next(alice, QueueFilter())
    review.decide(c1, alice, "remove", "TVEC-1.1")
    c2 = review.claim_next(alice, QueueFilter())
    d2 = review.decide(c2, alice, "remove", "TVEC-1.3")
    review.undo(d2.decision_id, alice)  # within the undo window: the post was never removed
    with pytest.raises(ComplianceError):
        svc.file_complaint(complainant="x", grounds="y", case_id=c2)  # no live removal
    cid = svc.file_complaint(complainant="acc7-0", grounds="I was quoting a song.", case_id=c1)
    out = svc.decide_complaint(cid, False, "The post praises the group.", "admin")
    assert out.status == "rejected" and out.restore_webhooks == 0
    with store.read() as conn:
        row = conn.execute(sa.select(Complaint.case_id, Complaint.post_id, Complaint.decision_reasons)).one()
    assert row.case_id == c1 and row.post_id is not None and row.decision_reasons == "The post praises the group."
    clock.advance(days=190)
    assert len(svc.purge()) == 2
    subjects = {}
    for cid_ in (c1, c2):
        subjects[cid_] = review.case(cid_).post["text"]
    assert subjects[c1] == "" and subjects[c2] != ""
