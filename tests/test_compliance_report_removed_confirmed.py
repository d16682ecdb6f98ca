"""The transparency report counts content as removed only when the platform acknowledged its `remove` action;
a removal recorded with no action sink is a separate "recorded, not confirmed" figure (issue 15 audit: the
summary said "2 removed" when one of them never left Basira). Through ComplianceService, a real local HTTP
receiver and the CLI; SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import orjson
from compliance_support import T0, Clock, Receiver, add_users
from typer.testing import CliRunner

from basira.cli import app
from basira.compliance.report import build_report, key_figures
from basira.compliance.report_data import gather_counts, statement_facts
from basira.compliance.service import ComplianceService
from basira.review.demo import seed_cases
from basira.review.service import ReviewSettings


def _order(ref: str, target: str) -> dict:
    return {"authority": "Bundeskriminalamt", "order_ref": ref, "reasons": "Propaganda of a listed group.",
            "targets": [target], "contact": "tco@authority.example"}


def test_content_removed_counts_only_acknowledged_removals(store, db_url, tmp_path):
    seed_cases(store, 4)
    add_users(store)
    rx = Receiver()
    try:
        clock = Clock()
        bare = ComplianceService(store, ReviewSettings(), clock=clock)  # no action sink
        bare.execute(bare.receive(_order("TCO-1", "demo:p7-0"), "api", "lena"), "lena")
        clock = Clock()
        hooked = ComplianceService(store, ReviewSettings(webhook_url=rx.url, webhook_secret="whsec"), clock=clock)
        hooked.execute(hooked.receive(_order("TCO-2", "demo:p7-1"), "api", "lena"), "lena")
        clock.advance(seconds=20)
        assert hooked.tick()["webhooks"]["delivered"] >= 1
    finally:
        rx.close()
    counts = gather_counts(store, T0 - timedelta(days=1), T0 + timedelta(days=1))
    assert (counts.removals, counts.removals_confirmed) == (2, 1)
    report = build_report(counts)
    s, rem = report["summary"], report["moderation"]["removals"]
    assert (s["content_removed"], s["removals_recorded_not_confirmed"], s["removal_decisions"]) == (1, 1, 2)
    assert (rem["total"], rem["confirmed"], rem["recorded_not_confirmed"]) == (2, 1, 1)
    value, label, caption = key_figures(report)[0]
    assert (value, label) == ("1", "Content removed") and "1 more recorded, not confirmed" in caption

    r = CliRunner().invoke(app, ["report", "transparency", "--from", (T0 - timedelta(days=1)).date().isoformat(),
                                 "--to", (T0 + timedelta(days=1)).date().isoformat(), "--db", db_url,
                                 "--format", "json,html", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "1 removed (1 more recorded, not confirmed by the platform)" in out, out
    html = next(tmp_path.glob("*.html")).read_text(encoding="utf-8")
    assert "2 removal decisions in the period" in html and "1 confirmed removed by the platform" in html

    # Statements of reasons say the content was removed: only the acknowledged removal gets one.
    facts = statement_facts(store, start=T0 - timedelta(days=1), end=T0 + timedelta(days=1))
    assert sorted(f.confirmed for f in facts) == [False, True]
    sor = tmp_path / "sor.jsonl"
    r = CliRunner().invoke(app, ["report", "statements", "--from", (T0 - timedelta(days=1)).date().isoformat(),
                                 "--to", (T0 + timedelta(days=1)).date().isoformat(), "--db", db_url,
                                 "--out", str(sor)])
    assert r.exit_code == 0, r.output
    (line,) = [orjson.loads(x) for x in sor.read_bytes().splitlines()]
    assert line["decision_id"] == next(f.decision_id for f in facts if f.confirmed)
    assert "withheld 1 statements" in " ".join(r.output.split())
