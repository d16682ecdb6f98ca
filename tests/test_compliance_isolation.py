"""The compliance loop isolates failures per row: a poisoned order (a newline in its contact, stored before intake
refused it), a purge item the database refuses, or a broken decision never stops the other rows; the tick reports
each step's successes and failures, and retries the failures on the next tick. On SQLite and PostgreSQL."""

import json

import pytest
import sqlalchemy as sa
from compliance_support import Clock, Mailbox, add_users
from typer.testing import CliRunner

from basira.compliance.alerts import AlertSender, AlertSettings
from basira.compliance.orders import OrderError, order_from_dict
from basira.compliance.service import ComplianceService
from basira.review.demo import seed_cases
from basira.review.service import ReviewSettings
from basira.store import open_store
from basira.store.compliance_models import PreservedItem, RemovalOrder

GOOD = {"authority": "Garda", "order_ref": "IE-1", "reasons": "Attack video.", "targets": ["demo:p7-0"],
        "contact": "tco@garda.example"}
POISON = {**GOOD, "order_ref": "IE-2", "targets": ["demo:p7-1"], "contact": "tco2@garda.example"}
INJECTED = "tco2@garda.example\nBcc: leak@evil.example"


def smtp(mb):
    return AlertSettings(smtp_host="127.0.0.1", smtp_port=mb.port, smtp_from="basira@platform.example")


def poison(store, order_id, **values):
    """Write hostile values straight into an order, as rows stored before the intake check existed would be."""
    with store.write() as conn:
        conn.execute(sa.update(RemovalOrder).where(RemovalOrder.id == order_id).values(**values))


@pytest.mark.parametrize("field,value", [("contact", INJECTED), ("contact", "a@b.example\rBcc: x@evil.example"),
                                         ("order_ref", "IE-3\nBcc: x@evil.example"), ("authority", "Garda\x00"),
                                         ("legal_basis", "art. 3\u2028Bcc: y")])
def test_intake_refuses_control_characters_in_one_line_fields(field, value):
    with pytest.raises(OrderError) as e:
        order_from_dict({**GOOD, field: value})
    assert e.value.field == field and "control character" in e.value.reason
    assert order_from_dict({**GOOD, "reasons": "line one\nline two"}).reasons == "line one\nline two"
    with pytest.raises(OrderError, match="control character"):
        order_from_dict({**GOOD, "targets": ["demo:p7\x000"]})


def test_the_sender_refuses_an_injected_address_without_raising():
    mb = Mailbox()
    try:
        sender = AlertSender(smtp(mb))
        ok, error = sender.email([INJECTED], "subject", "body")
        assert not ok and "invalid recipient" in error
        ok, error = sender.email(["tco@garda.example"], "IE-3\r\nBcc: x@evil.example", "body")
        assert ok and error is None  # the subject is flattened to one line
        (to, msg), = mb.messages
        assert to == ["tco@garda.example"] and "Bcc" not in msg and msg["Subject"] == "IE-3  Bcc: x@evil.example"
    finally:
        mb.close()


def test_a_poisoned_order_with_smtp_configured_does_not_stop_the_purge(store):
    seed_cases(store, 2)
    add_users(store)
    mb = Mailbox()
    try:
        svc = ComplianceService(store, ReviewSettings(), smtp(mb), clock=(clock := Clock()))
        good, bad = svc.receive(GOOD, "api", None), svc.receive(POISON, "api", None)
        svc.execute(good, "lena")
        svc.execute(bad, "lena")
        poison(store, bad, contact=INJECTED, order_ref="IE-2\nBcc: leak@evil.example")
        clock.advance(days=200)  # past six months: both preserved copies are due
        out = svc.tick()
        assert out["purged"] == 2 and out["statements_sent"] == 1
        assert out["steps"]["purge"] == {"ok": 2, "failed": 0}
        assert out["steps"]["statements"] == {"ok": 1, "failed": 1}
        (f,) = out["failures"]
        assert f["step"] == "statements" and f["item"] == f"order:{bad}" and "invalid recipient" in f["error"]
        assert [to for to, _ in mb.messages] == [["tco@garda.example"]]
        assert all("leak@evil.example" not in m.as_string() for _, m in mb.messages)
        with store.read() as conn:
            items = conn.execute(sa.select(PreservedItem.content, PreservedItem.purged_at)).all()
        assert len(items) == 2 and all(c is None and p is not None for c, p in items)
        # Retried later: the next tick tries the poisoned statement again (and fails again), nothing else.
        again = svc.tick()
        assert again["purged"] == 0 and [f["item"] for f in again["failures"]] == [f"order:{bad}"]
        poison(store, bad, contact="tco2@garda.example")  # the address corrected by hand
        fixed = svc.tick()
        assert fixed["statements_sent"] == 1 and fixed["failures"] == []
        assert store.verify_events() == (True, None)
    finally:
        mb.close()


def refuse_updates_of(store, item_id):
    """A trigger that makes the database refuse to purge one preserved item (a real error from the database)."""
    with store.write() as conn:
        if store.dialect == "postgresql":
            conn.execute(sa.text(
                "CREATE FUNCTION refuse_purge() RETURNS trigger AS $$ BEGIN "
                f"IF OLD.id = {int(item_id)} THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$ "
                "LANGUAGE plpgsql"))
            conn.execute(sa.text("CREATE TRIGGER refuse_purge BEFORE UPDATE ON preserved_items FOR EACH ROW "
                                 "EXECUTE FUNCTION refuse_purge()"))
        else:
            conn.execute(sa.text(f"CREATE TRIGGER refuse_purge BEFORE UPDATE ON preserved_items "
                                 f"WHEN OLD.id = {int(item_id)} BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"))


def drop_trigger(store):
    with store.write() as conn:
        if store.dialect == "postgresql":
            conn.execute(sa.text("DROP TRIGGER refuse_purge ON preserved_items"))
        else:
            conn.execute(sa.text("DROP TRIGGER refuse_purge"))


def test_a_purge_item_the_database_refuses_is_reported_and_the_others_purge(store):
    seed_cases(store, 3)
    add_users(store)
    svc = ComplianceService(store, ReviewSettings(), clock=(clock := Clock()))
    oid = svc.receive({**GOOD, "targets": ["demo:p7-0", "demo:p7-1", "demo:p7-2"]}, "file", None)
    svc.execute(oid, "lena")
    with store.read() as conn:
        ids = conn.execute(sa.select(PreservedItem.id).order_by(PreservedItem.id)).scalars().all()
    assert len(ids) == 3
    refuse_updates_of(store, ids[1])
    clock.advance(days=200)
    out = svc.tick()
    assert out["purged"] == 2 and out["steps"]["purge"] == {"ok": 2, "failed": 1}
    assert [(f["step"], f["item"]) for f in out["failures"]] == [("purge", f"preserved:{ids[1]}")]
    assert "poisoned row" in out["failures"][0]["error"]
    with store.read() as conn:
        left = conn.execute(sa.select(PreservedItem.id).where(PreservedItem.purged_at.is_(None))).scalars().all()
    assert left == [ids[1]]
    drop_trigger(store)
    assert svc.tick()["purged"] == 1  # retried by the next tick
    kinds = [e["kind"] for e in store.iter_events()]
    assert kinds.count("preservation.purged") == 3
    assert store.verify_events() == (True, None)


def test_cli_tick_json_reports_steps_and_failures(db_url, monkeypatch):
    from basira.cli import app

    with open_store(db_url) as store:
        seed_cases(store, 2)
        add_users(store)
        mb = Mailbox()
        try:
            svc = ComplianceService(store, ReviewSettings(), smtp(mb), clock=Clock())
            svc.execute(svc.receive(GOOD, "api", None), "lena")
            svc.execute(bad := svc.receive(POISON, "api", None), "lena")
            poison(store, bad, contact=INJECTED)
            for k in ("BASIRA_WEBHOOK_URL", "BASIRA_ALERT_WEBHOOK_URL", "BASIRA_ALERT_EMAIL_TO"):
                monkeypatch.delenv(k, raising=False)
            monkeypatch.setenv("BASIRA_SMTP_HOST", "127.0.0.1")
            monkeypatch.setenv("BASIRA_SMTP_PORT", str(mb.port))
            monkeypatch.setenv("BASIRA_SMTP_FROM", "basira@platform.example")
            r = CliRunner().invoke(app, ["compliance", "tick", "--json", "--now", "2027-07-01T00:00:00Z",
                                         "--db", db_url])
        finally:
            mb.close()
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["purged"] == 2 and out["statements_sent"] == 1
    assert out["steps"]["statements"] == {"ok": 1, "failed": 1} and out["steps"]["purge"]["failed"] == 0
    assert out["failures"][0]["item"].startswith("order:")
