"""Deadline alerts (webhook and e-mail, against a local HTTP server and a local SMTP server), statements e-mailed
to the authority, and the six-month purge — all by moving an injectable clock, on SQLite and PostgreSQL."""

import threading
from datetime import timedelta

import sqlalchemy as sa
from compliance_support import T0, Clock, Mailbox, Receiver, add_users

from basira.compliance.alerts import AlertSettings
from basira.compliance.service import ComplianceService
from basira.ingest.records import MediaRecord, PostRecord
from basira.ingest.repository import upsert_posts
from basira.review.demo import seed_cases
from basira.review.service import ReviewSettings
from basira.store import open_store
from basira.store.compliance_models import OrderAlert, PreservedItem
from basira.store.models import Media, Post
from basira.store.review_models import Decision

ORDER = {"authority": "Garda", "order_ref": "IE-7", "reasons": "Attack video.", "targets": ["demo:p7-0", "demo:p7-1"],
         "contact": "tco@garda.example"}


def alerting(store, rx, mb, clock=None, lang=None):
    settings = AlertSettings(webhook_url=rx.url, webhook_secret="alertsec", smtp_host="127.0.0.1", smtp_port=mb.port,
                             smtp_from="basira@platform.example", email_to=("duty@platform.example",), lang=lang)
    clock = clock or Clock()
    return ComplianceService(store, ReviewSettings(), settings, clock=clock), clock


def test_alerts_at_30_10_and_0_minutes_once_each_on_both_channels(store):
    rx, mb = Receiver(), Mailbox()
    try:
        svc, clock = alerting(store, rx, mb)
        svc.receive(ORDER, "api", None)
        clock.advance(minutes=29, seconds=59)
        assert svc.tick()["alerts"] == {"sent": 0, "failed": 0, "skipped": 0}
        for minute, threshold in ((30, 30), (50, 10), (60, 0)):
            clock.t = T0 + timedelta(minutes=minute)
            assert svc.tick()["alerts"]["sent"] == 2, threshold
            assert svc.tick()["alerts"]["sent"] == 0  # once
        clock.advance(hours=3)
        assert svc.tick()["alerts"]["sent"] == 0
        alerts = rx.bodies("basira.removal_order_alert")
        assert [a["threshold_minutes"] for a in alerts] == [30, 10, 0]
        assert alerts[0]["time_left"] == "30:00" and alerts[2]["time_left"] == "0:00"
        assert all("X-Basira-Signature" in h for h, _ in rx.got)
        subjects = [m["Subject"] for _, m in mb.messages]
        assert subjects == ["Removal order IE-7 from Garda: 30 minutes left",
                            "Removal order IE-7 from Garda: 10 minutes left",
                            "Removal order IE-7 from Garda: deadline reached — execute now"]
        assert all(to == ["duty@platform.example"] for to, _ in mb.messages)
        assert "Deadline: 2026-11-29T09:00:00Z" in mb.messages[0][1].get_content()
        assert store.verify_events() == (True, None)
    finally:
        rx.close()
        mb.close()


def test_alert_e_mails_speak_the_duty_teams_language_and_the_webhook_stays_json(store):
    rx, mb = Receiver(), Mailbox()
    try:
        svc, clock = alerting(store, rx, mb, lang="ar")  # BASIRA_ALERT_LANG=ar
        svc.receive(ORDER, "api", None)
        clock.t = T0 + timedelta(minutes=50)  # 10 minutes left: Arabic's "few" plural form (3-10)
        assert svc.tick()["alerts"]["sent"] == 2
        (_, msg), = mb.messages
        assert msg["Subject"] == "أمر الإزالة IE-7 من Garda: بقيت 10 دقائق"
        body = msg.get_content()
        assert "الموعد النهائي: 2026-11-29T09:00:00Z" in body and "deadline_at" not in body
        (alert,) = rx.bodies("basira.removal_order_alert")
        assert alert["headline"] == "Removal order IE-7 from Garda: 10 minutes left"  # machines read English keys
    finally:
        rx.close()
        mb.close()


def test_a_late_tick_sends_the_most_urgent_alert_only_and_executed_orders_go_quiet(store):
    rx, mb = Receiver(), Mailbox()
    try:
        seed_cases(store, 2)
        add_users(store)
        svc, clock = alerting(store, rx, mb)
        late = svc.receive({**ORDER, "order_ref": "late"}, "api", None)
        done = svc.receive({**ORDER, "order_ref": "done", "targets": ["demo:p7-1"]}, "api", None)
        clock.advance(minutes=55)  # the first tick in 55 minutes: 5 left
        assert svc.tick()["alerts"] == {"sent": 4, "failed": 0, "skipped": 4}
        assert {a["threshold_minutes"] for a in rx.bodies("basira.removal_order_alert")} == {10}
        svc.execute(done, "lena")
        clock.advance(minutes=5)
        svc.tick()
        zero = [a for a in rx.bodies("basira.removal_order_alert") if a["threshold_minutes"] == 0]
        assert [a["order_id"] for a in zero] == [late]
        with store.read() as conn:
            statuses = sorted(conn.execute(sa.select(OrderAlert.threshold_minutes, OrderAlert.status)
                                           .where(OrderAlert.order_id == late, OrderAlert.channel == "email")).all())
        assert statuses == [(0, "sent"), (10, "sent"), (30, "skipped")]
        # The executed order's statement went to the authority's contact address, once.
        to_authority = [m for to, m in mb.messages if to == ["tco@garda.example"]]
        # No action sink here: the statement says the item was only recorded, never that it was removed.
        text = to_authority[0].get_content()
        assert len(to_authority) == 1 and "removal_confirmed: False" in text and "NOT removed" in text
        assert svc.order(done).statement_sent_at == T0 + timedelta(minutes=60)
    finally:
        rx.close()
        mb.close()


def test_a_failed_alert_is_retried_then_sent_once(store):
    rx, mb = Receiver(status=503), Mailbox()
    try:
        svc, clock = alerting(store, rx, mb)
        svc.alert_settings = AlertSettings(webhook_url=rx.url)  # webhook only
        svc.sender.settings = svc.alert_settings
        svc.receive(ORDER, "api", None)
        clock.advance(minutes=31)
        assert svc.tick()["alerts"]["failed"] == 1
        rx.status = 200
        clock.advance(seconds=15)
        assert svc.tick()["alerts"]["sent"] == 1
        assert svc.tick()["alerts"]["sent"] == 0
        with store.read() as conn:
            a = conn.execute(sa.select(OrderAlert)).one()
        assert (a.status, a.attempts, a.sent_at) == ("sent", 2, T0 + timedelta(minutes=31, seconds=15))
        assert len(rx.got) == 2
    finally:
        rx.close()
        mb.close()


def test_purge_after_six_months_keeps_the_minimal_record_and_respects_a_legal_hold(store):
    seed_cases(store, 3)
    add_users(store)
    svc = ComplianceService(store, ReviewSettings(), clock=(clock := Clock()))
    oid = svc.receive(ORDER, "file", None)
    svc.execute(oid, "lena")
    with store.read() as conn:
        items = conn.execute(sa.select(PreservedItem).order_by(PreservedItem.id)).all()
        p0_media = conn.execute(sa.select(Media.url, Media.sha256).where(Media.post_id == items[0].post_id)).all()
    assert p0_media and all(m.url for m in p0_media)
    first, second = items
    svc.set_legal_hold(second.id, T0 + timedelta(days=300), "Court of Dublin, order 2027/12: ongoing trial", "lena")
    assert svc.tick()["purged"] == 0
    clock.t = first.preserve_until - timedelta(minutes=1)
    assert svc.purge() == []
    clock.t = first.preserve_until
    assert svc.purge() == [first.id]
    with store.read() as conn:
        a, b = conn.execute(sa.select(PreservedItem).order_by(PreservedItem.id)).all()
        texts = dict(conn.execute(sa.select(Post.id, Post.text).where(Post.id.in_([a.post_id, b.post_id]))).all())
        media = conn.execute(sa.select(Media.url, Media.sha256).where(Media.post_id == a.post_id)).all()
    assert a.content is None and a.purged_at == first.preserve_until
    assert (a.content_sha256, a.post_id, a.external_id, a.order_id, a.preserved_at) == (
        first.content_sha256, first.post_id, "p7-0", oid, T0)
    assert texts[a.post_id] == "" and [m.url for m in media] == [None] * len(p0_media)
    assert [m.sha256 for m in media] == [m.sha256 for m in p0_media]  # hashes stay
    # The same post exported again and re-ingested does not bring the purged text back: posts are insert-only.
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("demo", "p7-0", None, "the purged text, exported again",
                                       media=[MediaRecord(url="https://e.x/again.jpg", kind="photo")])])
    with store.read() as conn:
        assert conn.execute(sa.select(Post.text).where(Post.id == a.post_id)).scalar_one() == ""
        assert [u for (u,) in conn.execute(sa.select(Media.url).where(Media.post_id == a.post_id))] == \
            [None] * len(p0_media)
    assert b.content is not None and texts[b.post_id]  # on legal hold: untouched
    clock.t = T0 + timedelta(days=299)
    assert svc.purge() == []
    clock.t = T0 + timedelta(days=300)
    assert svc.tick()["purged"] == 1 and svc.purge() == []
    kinds = [e["kind"] for e in store.iter_events()]
    assert kinds.count("preservation.purged") == 2 and "preservation.legal_hold" in kinds
    assert store.verify_events() == (True, None)


def test_parallel_ticks_and_executions_act_once(db_url):
    """Four senders (each its own connection pool, as separate processes would be) tick at the same moment: every
    alert goes out once. Two users execute the same order at once: one wins, the other is told it is done."""
    rx = Receiver()
    stores = [open_store(db_url) for _ in range(4)]
    try:
        seed_cases(stores[0], 2)
        add_users(stores[0])
        clock = Clock()
        services = [ComplianceService(s, ReviewSettings(), AlertSettings(webhook_url=rx.url), clock=clock)
                    for s in stores]
        ids = [services[0].receive({**ORDER, "order_ref": f"P-{i}"}, "api", None) for i in range(5)]
        clock.advance(minutes=31)
        barrier = threading.Barrier(4)
        errors = []

        def tick(svc):
            barrier.wait()
            try:
                svc.send_alerts()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=tick, args=(s,)) for s in services]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert sorted(b["order_ref"] for b in rx.bodies("basira.removal_order_alert")) == [f"P-{i}" for i in range(5)]

        outcomes = []
        barrier2 = threading.Barrier(2)

        def execute(svc):
            barrier2.wait()
            try:
                outcomes.append(svc.execute(ids[0], "lena").status)
            except Exception as exc:  # noqa: BLE001 - the loser's error is the point
                outcomes.append(type(exc).__name__ + ":" + getattr(exc, "kind", ""))

        threads = [threading.Thread(target=execute, args=(s,)) for s in services[:2]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["ComplianceError:conflict", "executed"]
        with stores[0].read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(Decision)).scalar_one() == 2
        assert stores[0].verify_events() == (True, None)
    finally:
        rx.close()
        for s in stores:
            s.close()


def test_an_alert_whose_sender_died_mid_send_is_sent_by_the_next_tick_after_two_minutes(store):
    rx = Receiver()
    try:
        svc = ComplianceService(store, ReviewSettings(), AlertSettings(webhook_url=rx.url), clock=(clock := Clock()))
        oid = svc.receive(ORDER, "api", None)
        clock.advance(minutes=30)
        with store.transaction() as tx:
            assert svc.repo.claim_alert(tx, oid, 30, "webhook", clock()) is not None  # a sender took it, then died
        assert svc.tick()["alerts"]["sent"] == 0  # it may still be sending
        clock.advance(minutes=1, seconds=59)
        assert svc.tick()["alerts"]["sent"] == 0
        clock.advance(seconds=1)
        assert svc.tick()["alerts"]["sent"] == 1
        assert svc.tick()["alerts"]["sent"] == 0
        assert [b["threshold_minutes"] for b in rx.bodies("basira.removal_order_alert")] == [30]
    finally:
        rx.close()
