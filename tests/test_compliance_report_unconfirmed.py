"""The transparency report counts a removal order as executed only when the platform acknowledged its removals
(issue 15 item 5): an order executed with no action sink is recorded, not executed, even inside the hour. Through
ComplianceService and a real local HTTP receiver; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from compliance_support import T0, Clock, Receiver, add_users

from basira.compliance.report import build_report
from basira.compliance.report_data import gather_counts
from basira.compliance.service import ComplianceService
from basira.review.demo import seed_cases
from basira.review.service import ReviewSettings


def _order(ref: str, target: str) -> dict:
    return {"authority": "Bundeskriminalamt", "order_ref": ref, "reasons": "Propaganda of a listed group.",
            "targets": [target], "contact": "tco@authority.example"}


def test_an_order_executed_without_an_acknowledging_sink_is_not_counted_as_executed(store):
    seed_cases(store, 4)
    add_users(store)
    rx = Receiver()
    try:
        # No action sink: executed ten minutes after receipt, but nobody removed anything.
        clock = Clock()
        bare = ComplianceService(store, ReviewSettings(), clock=clock)
        unsent = bare.receive(_order("TCO-1", "demo:p7-0"), "api", "lena")
        clock.advance(minutes=10)
        out = bare.execute(unsent, "lena")
        assert (out.sent, out.recorded, out.removal_confirmed) == (0, 1, False)

        # An acknowledging sink: the platform answers 200 to the removal 17 min 50 s after receipt.
        clock = Clock()
        hooked = ComplianceService(store, ReviewSettings(webhook_url=rx.url, webhook_secret="whsec"), clock=clock)
        acked = hooked.receive(_order("TCO-2", "demo:p7-1"), "api", "lena")
        clock.advance(minutes=17, seconds=30)
        assert hooked.execute(acked, "lena").sent == 1
        clock.advance(seconds=20)
        assert hooked.tick()["webhooks"]["delivered"] >= 1
        assert {b["post_id"] for b in rx.bodies("remove")} == {"p7-1"}  # nothing went out for the first order
    finally:
        rx.close()

    assert bare.order(unsent).status == hooked.order(acked).status == "executed"  # both marked executed
    counts = gather_counts(store, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert counts.orders_received == 2 and counts.orders_by_status == {"executed": 2}
    assert counts.orders_unconfirmed == 1
    assert counts.order_execute_seconds == [1070.0]  # the acknowledged one only
    orders = build_report(counts)["removal_orders"]
    assert (orders["executed"], orders["not_executed"], orders["recorded_not_confirmed"]) == (1, 1, 1)
    assert orders["time_to_execute"]["within_1h"] == 1 and orders["time_to_execute"]["within_1h_share"] == 0.5
