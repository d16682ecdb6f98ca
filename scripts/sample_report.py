"""Rebuild docs/sample-transparency-report.pdf and docs/screenshots/transparency-report-p1.png from a simulated
platform (all numbers synthetic). Usage: .venv/bin/python scripts/sample_report.py [WORKDIR]; needs pdftoppm
(poppler-utils) for the PNG."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
PERIOD = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
DOCS = Path(__file__).resolve().parent.parent / "docs"


def build(work: Path) -> Path:
    import orjson

    from basira import banks
    from basira.compliance.demo import seed_decisions
    from basira.detect import load_detector
    from basira.network.analysis import analyze
    from basira.network.cases import open_community_cases
    from basira.network.load import load_network_data
    from basira.scan import scan_paths
    from basira.signals.base import get_signal_type
    from basira.signals.exchange import BankEntry
    from basira.simulate import simulate_platform
    from basira.store import open_store

    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    simulate_platform(accounts=300, seed=21, out_dir=str(work / "platform"))
    db = work / "sample.db"
    store = open_store(f"sqlite:///{db}")
    texts = [t["text"] for line in (work / "platform" / "tweets.jsonl").read_bytes().splitlines()
             for t in orjson.loads(line).get("data", [])][:3000]
    known = [t for t, d in zip(texts, load_detector().detect(texts), strict=True) if d.flagged][:40:4]
    st = get_signal_type("text_minhash")
    with store.transaction() as tx:
        banks.create_bank(tx, "tvec-hashes", description="known terrorist content (synthetic)")
        banks.add_entries(tx, "tvec-hashes", [BankEntry.make("text_minhash", st.hash_text(t)) for t in known])
    scan_paths(store, [str(work / "platform")], workers=1)
    open_community_cases(store, analyze(load_network_data(store)), min_mean_risk=0.2)
    seed_decisions(store, seed=21, share=0.45, start=START, gap_seconds=(1800, 9000))
    seed_orders_and_complaints(store, random.Random(21))
    store.close()
    return db


def seed_orders_and_complaints(store, rng: random.Random) -> None:
    """Removal orders (most executed well within the hour, a few late, rejected or still open) and complaints,
    through the compliance workflow with a clock that walks through November."""
    import sqlalchemy as sa

    from basira.compliance.service import ComplianceService

    now = [START]
    svc = ComplianceService(store, clock=lambda: now[0])
    with store.read() as conn:
        posts = conn.execute(sa.text(
            "SELECT pf.name, p.external_id FROM cases c JOIN posts p ON p.id = c.subject_id "
            "JOIN platforms pf ON pf.id = p.platform_id WHERE c.subject_kind = 'post' AND c.status = 'open' "
            "ORDER BY c.id")).all()
    rng.shuffle(posts)
    authorities = ["Europol EU IRU", "Bundeskriminalamt (DE)", "OCLCTIC / Pharos (FR)", "Policía Nacional (ES)"]
    executed = []
    for i in range(26):
        now[0] = START + timedelta(hours=i * 26 + rng.uniform(0, 12))
        platform, ext = posts[i]
        oid = svc.receive({"authority": rng.choice(authorities), "order_ref": f"TCO-2026-{1100 + i}",
                           "reasons": "Terrorist content under Article 2(7) of Regulation (EU) 2021/784.",
                           "targets": [f"post:{platform}:{ext}"]}, "api", "intake")
        roll = rng.random()
        if i in (7, 19):
            now[0] += timedelta(minutes=rng.uniform(20, 50))
            svc.close(oid, "rejected", "manifest error: the order names no content on this service", "demo-legal")
        elif i == 25:
            continue  # still open when the period ends
        else:
            minutes = rng.uniform(70, 190) if roll < 0.12 else rng.lognormvariate(3.0, 0.5)
            now[0] += timedelta(minutes=minutes)
            svc.execute(oid, "demo-legal")
            executed.append((oid, now[0]))
    for j, (oid, at) in enumerate(executed[::4]):
        now[0] = at + timedelta(hours=rng.uniform(6, 48))
        cid = svc.file_complaint(complainant="content provider", grounds="The post was news reporting.",
                                 order_id=oid, actor="provider")
        if j == len(executed[::4]) - 1:
            continue  # undecided
        now[0] += timedelta(hours=rng.uniform(4, 60))
        svc.decide_complaint(cid, j % 3 == 0, "Reviewed against the order and the content.", "demo-legal")


def render(db: Path, work: Path) -> None:
    from basira.compliance.report import build_report
    from basira.compliance.report_data import gather_counts
    from basira.compliance.report_pdf import render_pdf
    from basira.store import open_store

    with open_store(f"sqlite:///{db}") as store:
        report = build_report(gather_counts(store, *PERIOD), platform_name="Example Social",
                              generated_at=PERIOD[1] + timedelta(hours=9))
    pdf = render_pdf(report)
    (DOCS / "sample-transparency-report.pdf").write_bytes(pdf)
    (work / "report.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", str(work / "report.pdf"),
                    str(work / "page")], check=True)
    (DOCS / "screenshots").mkdir(exist_ok=True)
    shutil.copy(next(work.glob("page*-1.png")), DOCS / "screenshots" / "transparency-report-p1.png")
    print(f"{len(pdf):,} bytes → docs/sample-transparency-report.pdf; page 1 → docs/screenshots/")


if __name__ == "__main__":
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "sample-report-work")
    render(build(work), work)
