"""The pure rules of removal orders and preservation: deadline, alerts due, targets, input checks, what goes out."""

from datetime import UTC, datetime, timedelta

import pytest

from basira.compliance import orders as rules
from basira.compliance import preservation as keep

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def test_deadline_is_one_hour_and_time_left_counts_down_past_zero():
    d = rules.deadline(T0)
    assert d == T0 + timedelta(hours=1)
    assert rules.format_left(rules.time_left(d, T0 + timedelta(minutes=17, seconds=5))) == "42:55"
    assert rules.format_left(rules.time_left(d, d)) == "0:00"
    assert rules.format_left(rules.time_left(d, d + timedelta(minutes=3, seconds=10))) == "-3:10"


def test_alerts_fire_at_30_10_0_minutes_and_a_late_tick_sends_only_the_most_urgent():
    d = rules.deadline(T0)
    assert rules.due_alert(d, T0 + timedelta(minutes=29, seconds=59), ()) == rules.AlertPlan(None, ())
    assert rules.due_alert(d, T0 + timedelta(minutes=30), ()).send == 30
    assert rules.due_alert(d, T0 + timedelta(minutes=45), {30}).send is None
    assert rules.due_alert(d, T0 + timedelta(minutes=50), {30}).send == 10
    assert rules.due_alert(d, T0 + timedelta(minutes=60), {30, 10}).send == 0
    assert rules.due_alert(d, T0 + timedelta(hours=5), {30, 10, 0}).send is None
    late = rules.due_alert(d, T0 + timedelta(minutes=52), ())
    assert late.send == 10 and late.skip == (30,)


@pytest.mark.parametrize("target, ref", [
    ("post:x:123", rules.TargetRef("post", "x", "123")),
    ("account:telegram:chan:9", rules.TargetRef("account", "telegram", "chan:9")),
    ("demo:p7-1", rules.TargetRef("post", "demo", "p7-1")),
    ("https://x.com/someone/status/123", rules.TargetRef("url", url="https://x.com/someone/status/123")),
])
def test_targets_parse(target, ref):
    assert rules.parse_target(target) == ref


@pytest.mark.parametrize("target", ["123", "post:x", "ftp://x/1", "https:///nohost", ":x"])
def test_bad_targets_are_refused(target):
    with pytest.raises(rules.OrderError) as e:
        rules.parse_target(target)
    assert e.value.field == "targets"


def test_order_from_dict_checks_each_field():
    good = {"authority": "BKA", "order_ref": "R-1", "reasons": "propaganda", "targets": "demo:a demo:b|demo:a",
            "received_at": "2026-11-29T07:30:00+01:00", "member_state": "DE"}
    o = rules.order_from_dict(good, T0)
    assert o.targets == ("demo:a", "demo:b")  # split on spaces and '|', duplicates once
    assert o.received_at == datetime(2026, 11, 29, 6, 30, tzinfo=UTC)
    assert o.legal_basis == rules.DEFAULT_LEGAL_BASIS and o.details == {"member_state": "DE"}
    assert rules.order_from_dict({**good, "order_ref": None, "order_id": 77}, T0).order_ref == "77"
    for change, field in [({"authority": " "}, "authority"), ({"order_ref": None}, "order_ref"),
                          ({"reasons": None}, "reasons"), ({"targets": []}, "targets"),
                          ({"targets": ["demo:a", 5]}, "targets"), ({"received_at": "2026-11-29T07:00"}, "received_at"),
                          ({"received_at": "yesterday"}, "received_at"),
                          ({"received_at": "2026-11-30T08:00:00Z"}, "received_at"),
                          ({"reason_code": "no spaces allowed"}, "reason_code"),
                          ({"notice_withheld_until": "soon"}, "notice_withheld_until")]:
        with pytest.raises(rules.OrderError) as e:
            rules.order_from_dict({**good, **change}, T0)
        assert e.value.field == field, change


def test_statement_reports_execution_time_and_each_item():
    order = {"authority": "BKA", "order_ref": "R-1", "legal_basis": rules.DEFAULT_LEGAL_BASIS, "received_at": T0,
             "deadline_at": rules.deadline(T0), "status": "executed", "executed_at": T0 + timedelta(minutes=61),
             "execution_method": "action webhook (remove)"}
    targets = [{"target": "demo:a", "outcome": "removed", "executed_at": T0 + timedelta(minutes=61)},
               {"target": "demo:zz", "outcome": "not_found", "executed_at": T0 + timedelta(minutes=61)}]
    st = rules.statement(order, targets, T0 + timedelta(minutes=62))
    assert st["execution_seconds"] == 3660 and st["within_deadline"] is False
    assert [(i["action"], i["removed_at"]) for i in st["items"]] == [
        ("removed (the platform acknowledged the removal)", "2026-11-29T09:01:00Z"), ("not found on the service", None)]


def test_statement_never_claims_a_removal_only_recorded_or_not_yet_acknowledged():
    order = {"authority": "BKA", "order_ref": "R-2", "legal_basis": rules.DEFAULT_LEGAL_BASIS, "received_at": T0,
             "deadline_at": rules.deadline(T0), "status": "executed", "executed_at": T0 + timedelta(minutes=5),
             "execution_method": "recorded only"}
    for outcome in ("recorded", "sent"):
        targets = [{"target": "demo:a", "outcome": outcome, "executed_at": T0 + timedelta(minutes=5)},
                   {"target": "demo:b", "outcome": "removed", "executed_at": T0 + timedelta(minutes=5),
                    "removed_at": T0 + timedelta(minutes=6)}]
        st = rules.statement(order, targets, T0 + timedelta(minutes=7))
        assert st["removal_confirmed"] is False and st["within_deadline"] is False
        assert st["executed_at"] is None and st["execution_seconds"] is None and st["outstanding"] == 1
        assert st["items"][0]["removed_at"] is None and "removed" not in st["items"][0]["outcome"]
    targets[0] = {**targets[0], "outcome": "already_removed", "removed_at": T0 - timedelta(days=1)}
    st = rules.statement(order, targets, T0 + timedelta(minutes=7))
    assert st["removal_confirmed"] is True and st["execution_seconds"] == 360  # the last acknowledgement
    rejected = rules.statement({**order, "status": "rejected", "executed_at": None, "status_reason": "manifest error"},
                               [], T0)
    assert rejected["reason"] == "manifest error" and "executed_at" not in rejected


def test_six_months_are_calendar_months_and_a_hold_extends_them():
    assert keep.preserve_until(datetime(2026, 8, 31, 12, tzinfo=UTC)) == datetime(2027, 2, 28, 12, tzinfo=UTC)
    assert keep.preserve_until(datetime(2026, 11, 29, tzinfo=UTC)) == datetime(2027, 5, 29, tzinfo=UTC)
    item = {"preserve_until": datetime(2027, 5, 29, tzinfo=UTC), "legal_hold_until": None, "purged_at": None}
    assert not keep.purge_due(item, datetime(2027, 5, 28, 23, 59, tzinfo=UTC))
    assert keep.purge_due(item, datetime(2027, 5, 29, tzinfo=UTC))
    held = {**item, "legal_hold_until": datetime(2027, 9, 1, tzinfo=UTC)}
    assert not keep.purge_due(held, datetime(2027, 8, 31, tzinfo=UTC)) and keep.purge_due(held, datetime(2027, 9, 1, tzinfo=UTC))
    early_hold = {**item, "legal_hold_until": datetime(2027, 1, 1, tzinfo=UTC)}  # ends before the six months do
    assert not keep.purge_due(early_hold, datetime(2027, 3, 1, tzinfo=UTC))
    assert not keep.purge_due({**item, "purged_at": T0}, datetime(2030, 1, 1, tzinfo=UTC))
    assert keep.content_hash({"b": 1, "a": [1, "x"]}) == keep.content_hash({"a": [1, "x"], "b": 1})
    with pytest.raises(keep.HoldError):
        keep.check_hold(T0 + timedelta(days=1), " ", T0)
    with pytest.raises(keep.HoldError):
        keep.check_hold(T0, "court order 12/3", T0)
