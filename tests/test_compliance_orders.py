"""Removal orders over a real database (SQLite and PostgreSQL): intake, execution through the action webhooks,
the statement back to the authority, the notice to the content provider, preservation, and file intake."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from compliance_support import Clock, Receiver, add_users

from basira.compliance.orders import OrderError
from basira.compliance.repository import ComplianceError
from basira.compliance.service import ComplianceService
from basira.core.errors import InputError
from basira.review.decisions import Actor
from basira.review.demo import seed_cases
from basira.review.queue import QueueFilter
from basira.review.service import ReviewService, ReviewSettings
from basira.store.compliance_models import PreservedItem, RemovalOrder
from basira.store.models import Case, Post
from basira.store.review_models import Decision, WebhookDelivery

ORDER = {"authority": "Bundeskriminalamt", "order_ref": "TCO-2026-0042", "reasons": "Propaganda of a listed group.",
         "targets": ["demo:p7-0", "https://demo.example/u/status/p7-1", "post:demo:gone"],
         "contact": "tco@authority.example"}


def make(store, webhook_url=None, **kw):
    clock = Clock()
    settings = ReviewSettings(webhook_url=webhook_url, webhook_secret="whsec" if webhook_url else None)
    return ComplianceService(store, settings, clock=clock, **kw), clock


def test_order_executed_removes_preserves_notifies_and_states(store):
    rx = Receiver()
    try:
        seed_cases(store, 4)
        add_users(store)
        svc, clock = make(store, rx.url)
        oid = svc.receive(ORDER, "api", "lena")
        with pytest.raises(ComplianceError) as dup:
            svc.receive(ORDER, "api", "lena")
        assert dup.value.kind == "conflict"
        with pytest.raises(OrderError):
            svc.receive({**ORDER, "order_ref": "x", "targets": []}, "api", "lena")
        clock.advance(minutes=17, seconds=30)
        [o] = svc.orders("open")
        assert (o.time_left, o.target_count, o.found_count, o.overdue) == ("42:30", 3, 2, False)
        with pytest.raises(ComplianceError) as e:
            svc.execute(oid, "alice")  # a reviewer may not execute orders
        assert e.value.kind == "forbidden"

        out = svc.execute(oid, "lena")
        assert (out.sent, out.recorded, out.removal_confirmed) == (2, 0, False)
        st = out.statement
        # Not executed yet in the statement's words: the platform has not acknowledged the removals.
        assert st["execution_seconds"] is None and st["within_deadline"] is False and st["outstanding"] == 2
        assert [i["outcome"] for i in st["items"]] == ["sent", "sent", "not_found"]
        with pytest.raises(ComplianceError):
            svc.execute(oid, "lena")  # once

        # The removal went out as action webhooks, due at once (no undo window), with the notice beside it.
        clock.advance(seconds=20)
        assert svc.tick()["webhooks"]["delivered"] == 4
        removes, notices = rx.bodies("remove"), rx.bodies("notify")
        assert {b["post_id"] for b in removes} == {"p7-0", "p7-1"}
        assert removes[0]["removal_order"]["order_ref"] == "TCO-2026-0042" and removes[0]["stage"] == "order"
        assert notices[0]["notice"]["reasons"] == ORDER["reasons"] and "(art. 9)" in notices[0]["notice"]["redress"]
        assert "lena" not in json.dumps(notices)  # no reviewer names to the content provider

        detail = svc.order(oid)
        assert detail.status == "executed" and detail.executed_by == "lena"
        st = detail.statement  # prepared again on the acknowledgement: now executed, at the ack's time
        assert st["removal_confirmed"] is True and st["outstanding"] == 0
        assert st["execution_seconds"] == 1070 and st["within_deadline"] is True
        assert [t.outcome for t in detail.targets] == ["removed", "removed", "not_found"]
        assert all(n.delivered_at is not None for n in detail.notices) and len(detail.notices) == 2
        with store.read() as conn:
            cases = conn.execute(sa.select(Case.status, Case.closed_at).where(
                Case.id.in_([t.case_id for t in detail.targets[:2]]))).all()
            assert all(c.status == "decided" and c.closed_at is not None for c in cases)
            d = conn.execute(sa.select(Decision.stage, Decision.action)).all()
            assert set(d) == {("order", "remove")}
            items = conn.execute(sa.select(PreservedItem).order_by(PreservedItem.id)).all()
        assert len(items) == 2 and items[0].content["post"]["text"].startswith("Join the marching band")
        assert items[0].content["detections"][0]["model_version"] == "demo-0"
        assert items[0].preserve_until == clock() - timedelta(seconds=20) + timedelta(days=181)  # 29 Nov + 6 months
        kinds = [e["kind"] for e in store.iter_events()]
        for k in ("order.received", "order.executed", "preservation.created", "notice.created", "webhook.delivered"):
            assert k in kinds
        assert store.verify_events() == (True, None)
    finally:
        rx.close()


def test_an_order_for_content_a_reviewer_already_removed_records_that_and_sends_nothing_again(store):
    rx = Receiver()
    try:
        seed_cases(store, 4)
        ids = add_users(store)
        svc, clock = make(store, rx.url)
        review = ReviewService(store, svc.review, clock=clock)
        alice = Actor(ids["alice"], "alice", "reviewer")
        pids = store.post_ids("demo", ["p7-0", "p7-1"])
        with store.read() as conn:
            case_of = dict(conn.execute(sa.select(Case.subject_id, Case.id).where(
                Case.subject_kind == "post", Case.subject_id.in_(pids.values()))).all())
        c0, c1 = case_of[pids["p7-0"]], case_of[pids["p7-1"]]
        review.claim(c0, alice)
        d0 = review.decide(c0, alice, "remove", "TVEC-1.2")
        review.claim(c1, alice)
        d1 = review.decide(c1, alice, "remove", "TVEC-1.2")
        review.undo(d1.decision_id, alice)  # reversed: p7-1 is live again
        clock.advance(minutes=5)  # past the undo window: p0's removal is final
        svc.tick()
        before = len(rx.bodies("remove"))

        oid = svc.receive(ORDER, "api", "lena")
        out = svc.execute(oid, "lena")
        assert (out.sent, out.already_removed) == (1, 1)
        items = {i["target"]: i for i in out.statement["items"]}
        assert items["demo:p7-0"]["outcome"] == "already_removed" and "already removed" in items["demo:p7-0"]["action"]
        assert items["https://demo.example/u/status/p7-1"]["outcome"] == "sent"
        svc.tick()
        assert [b["post_id"] for b in rx.bodies("remove")[before:]] == ["p7-1"]  # nothing sent again for p7-0
        detail = svc.order(oid)
        t0 = next(t for t in detail.targets if t.target == "demo:p7-0")
        assert (t0.case_id, t0.decision_id) == (c0, d0.decision_id)
        assert t0.delivery_id is not None and t0.outcome == "already_removed"  # the reviewer's acknowledged one
        assert detail.statement["removal_confirmed"] is True
        with store.read() as conn:
            orders_copies = conn.execute(sa.select(PreservedItem.post_id).where(PreservedItem.order_id == oid)).all()
        assert sorted(r.post_id for r in orders_copies) == sorted(pids.values())  # six months run from the order
        assert store.verify_events() == (True, None)
    finally:
        rx.close()


def test_order_with_nothing_found_is_rejected_with_a_statement(store):
    add_users(store)
    svc, clock = make(store)
    oid = svc.receive({**ORDER, "targets": ["post:demo:none"]}, "web", "lena")
    with pytest.raises(ComplianceError) as e:
        svc.execute(oid, "lena")
    assert e.value.kind == "conflict"
    with pytest.raises(ComplianceError):
        svc.close(oid, "rejected", "  ", "lena")
    out = svc.close(oid, "rejected", "The content is not hosted on this service (art. 3(8)).", "lena")
    assert out.statement["status"] == "rejected" and "art. 3(8)" in out.statement["reason"]
    with pytest.raises(ComplianceError):
        svc.close(oid, "withdrawn", "late", "lena")
    assert svc.order(oid).status == "rejected"


def test_content_ingested_after_the_order_is_found_at_execution_and_withheld_notice_waits(store):
    rx = Receiver()
    try:
        add_users(store)
        svc, clock = make(store, rx.url)
        oid = svc.receive({**ORDER, "targets": ["demo:p7-2"], "notice_withheld_until": "2026-12-01T08:00:00Z"},
                          "api", "lena")
        assert svc.order(oid).targets[0].post_id is None
        seed_cases(store, 4)  # the post arrives
        clock.advance(minutes=5)
        svc.execute(oid, "lena")
        assert svc.tick()["webhooks"]["delivered"] == 1  # the removal; the notice is withheld (art. 11(3))
        assert rx.bodies("notify") == []
        clock.advance(days=2)
        svc.tick()
        assert len(rx.bodies("notify")) == 1
    finally:
        rx.close()


def test_a_reviewers_removal_is_preserved_too(store):
    seed_cases(store, 3)
    ids = add_users(store)
    clock = Clock()
    review = ReviewService(store, ReviewSettings(), clock=clock)
    alice = Actor(ids["alice"], "alice", "reviewer")
    c1 = review.claim_next(alice, QueueFilter())
    d1 = review.decide(c1, alice, "remove", "TVEC-1.2")
    c2 = review.claim_next(alice, QueueFilter())
    review.decide(c2, alice, "keep", "OK-1")
    with store.read() as conn:
        items = conn.execute(sa.select(PreservedItem)).all()
    assert [(i.case_id, i.decision_id, i.reason) for i in items] == [(c1, d1.decision_id, "decision")]
    assert items[0].content["post"]["id"] == items[0].post_id
    svc, _ = make(store)
    notice = svc.repo.notices(items[0].post_id)[0].body
    assert notice["decision"]["reason_code"] == "TVEC-1.2" and "art. 10" in notice["redress"]
    assert svc.preserve_decision(c1, d1.decision_id) is None  # once per decision


def test_a_removal_whose_preservation_never_ran_is_preserved_by_the_next_tick(store):
    # The decision and its preserved copy are two transactions; a crash between them must not lose the copy.
    seed_cases(store, 3)
    ids = add_users(store)
    clock = Clock()
    review = ReviewService(store, ReviewSettings(), clock=clock)
    alice = Actor(ids["alice"], "alice", "reviewer")
    c1 = review.claim_next(alice, QueueFilter())
    reason = review.catalogue.get("TVEC-1.2")
    out = review.repo.decide(c1, alice, "remove", "TVEC-1.2", reason.actions, None, clock(), 60, review.claim_ttl,
                             review._webhook)  # the decision alone, as if the process died right after it
    c2 = review.claim_next(alice, QueueFilter())
    review.decide(c2, alice, "keep", "OK-1")
    with store.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(PreservedItem)).scalar_one() == 0
    svc, _ = make(store)
    assert svc.tick()["preserved_missed"] == 1
    with store.read() as conn:
        items = conn.execute(sa.select(PreservedItem)).all()
    assert [(i.case_id, i.decision_id, i.reason) for i in items] == [(c1, out.decision_id, "decision")]
    assert svc.tick()["preserved_missed"] == 0  # once per decision
    ok, _bad = store.verify_events()
    assert ok


def _count_orders(store):
    with store.read() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(RemovalOrder)).scalar_one()


def test_orders_import_from_jsonl_json_and_csv(store, tmp_path):
    svc, clock = make(store)
    jl = tmp_path / "o.jsonl"
    jl.write_text(json.dumps(ORDER) + "\n\n" + json.dumps({**ORDER, "order_ref": "B", "targets": "demo:a demo:b"}) + "\n")
    arr = tmp_path / "o.json"
    arr.write_text(json.dumps({"orders": [{**ORDER, "order_ref": "C"}, {**ORDER, "order_ref": "D"}]}, indent=2))
    csvf = tmp_path / "o.csv"
    csvf.write_text("authority,order_ref,reasons,targets,received_at,member_state\n"
                    'BKA,E,"Propaganda, video",demo:a|demo:b,2026-11-29T07:50:00Z,DE\n')
    assert len(svc.import_file(str(jl))[0]) == 2
    assert len(svc.import_file(str(arr))[0]) == 2
    ids, dupes = svc.import_file(str(csvf))
    assert dupes == [] and len(ids) == 1
    o = svc.order(ids[0])
    assert o.source == "file" and o.details == {"member_state": "DE"} and o.time_left == "50:00"
    assert [t.target for t in o.targets] == ["demo:a", "demo:b"]
    assert svc.import_file(str(jl)) == ([], [f"{ORDER['authority']} {ORDER['order_ref']}", f"{ORDER['authority']} B"])
    assert _count_orders(store) == 5


@pytest.mark.parametrize("name, content, line, field", [
    ("bad.jsonl", json.dumps(ORDER) + "\n" + json.dumps({**ORDER, "order_ref": "2", "reasons": ""}) + "\n", 2, "reasons"),
    ("bad2.jsonl", json.dumps(ORDER) + "\n{not json\n", 2, None),
    ("dup.jsonl", json.dumps(ORDER) + "\n" + json.dumps(ORDER) + "\n", 2, "order_ref"),
    ("bad.json", '[\n  {"authority": "A", "order_ref": "1", "reasons": "r", "targets": ["x:1"]},\n'
                 '  {"authority": "A", "order_ref": "2", "reasons": "r", "targets": ["x:1"],\n'
                 '   "received_at": "noon"}\n]', 3, "received_at"),
    ("bad.csv", "authority,order_ref,reasons,targets\nA,1,r,x:1\nA,2,r,ftp://nope\n", 3, "targets"),
    ("nocol.csv", "authority,order_ref,targets\nA,1,x:1\n", 1, "reasons"),
    ("orders.txt", "whatever", None, None),
])
def test_bad_order_files_name_line_and_field_and_store_nothing(store, tmp_path, name, content, line, field):
    svc, _ = make(store)
    p = tmp_path / name
    p.write_text(content)
    with pytest.raises(InputError) as e:
        svc.import_file(str(p))
    assert (e.value.file, e.value.line, e.value.field) == (str(p), line, field)
    assert _count_orders(store) == 0


def test_posts_table_untouched_by_intake(store):
    seed_cases(store, 2)
    svc, _ = make(store)
    with store.read() as conn:
        before = conn.execute(sa.select(Post.text).order_by(Post.id)).scalars().all()
    svc.receive(ORDER, "api", None)
    with store.read() as conn:
        assert conn.execute(sa.select(Post.text).order_by(Post.id)).scalars().all() == before
        assert conn.execute(sa.select(sa.func.count()).select_from(WebhookDelivery)).scalar_one() == 0


def test_url_targets_resolve_by_media_url_post_id_then_handle(store):
    seed_cases(store, 3)  # platform demo, posts p7-0.., handles user_7_0..
    seed_cases(store, 2, seed=8, platform="x")
    svc, _ = make(store)
    oid = svc.receive({**ORDER, "targets": [
        "https://x.com/someone/status/p8-1",  # host label "x": the x platform's post
        "https://www.example.com/feed/p7-1",  # no platform named by the host: any platform, unique id
        "https://t.example/@user_7_2",  # a handle: the account
        "https://x.com/nobody/status/p7-2",  # on demo, not on x: not found
    ]}, "api", None)
    with store.read() as conn:
        ids = {ext: pid for pid, ext in conn.execute(sa.select(Post.id, Post.external_id))}
    got = [(t.kind, t.post_id, t.account_id is not None) for t in svc.order(oid).targets]
    assert got == [("post", ids["p8-1"], False), ("post", ids["p7-1"], False), ("account", None, True),
                   ("unknown", None, False)]
