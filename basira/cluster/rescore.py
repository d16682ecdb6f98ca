"""`basira rescore`: score stored posts with the current model (after a model upgrade), opening cases as a scan
would. Resumable: posts the current model already scored are skipped, so a killed run goes on where it
stopped. On a Dask cluster with --cluster (PostgreSQL), else in this process."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from basira.scan.score import ScoreTally
    from basira.store import Store


@dataclass
class RescoreSummary:
    model_version: str = ""
    scored: int = 0
    detections_new: int = 0
    flagged_new: int = 0
    cases_new: int = 0
    hash_matches: int = 0
    posts_total: int = 0
    flagged_total: int = 0
    cases_open: int = 0
    cluster: str | None = None
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rescore(store: Store, db_url: str, address: str | None = None, since: datetime | None = None,
            progress: Any = None, batch_size: int = 500, window: int = 2000) -> RescoreSummary:
    from basira.cluster.client import require_postgresql, score_on_cluster
    from basira.detect import load_detector
    from basira.scan import ScanSummary, finish_scan

    started = time.monotonic()
    report = progress or (lambda stage, done, total: None)
    version = load_detector(cascade=False).version
    out = RescoreSummary(model_version=version, cluster=address)
    if address:
        require_postgresql(store)
        from basira.cluster.client import connect

        client = connect(address, db_url)
        try:
            totals, hashed = score_on_cluster(client, store, db_url, version, report, batch_size, window, since)
        finally:
            client.close()
    else:
        totals, hashed = _score_here(store, version, since, batch_size, window, report), None
    out.scored, out.detections_new = totals.scored, totals.detections_new
    out.flagged_new, out.cases_new = totals.flagged_new, totals.cases_new
    # What a scan does after scoring: the hash pass, review groups, priorities, totals.
    done = ScanSummary(model_version=version)
    n = store.count_posts()
    finish_scan(store, done, n, store.count_accounts(), hashed)
    out.hash_matches = done.hash_matches
    out.cases_new += done.cases_new
    out.posts_total, out.flagged_total, out.cases_open = done.posts_total, done.flagged_total, done.cases_open
    out.seconds = round(time.monotonic() - started, 3)
    store.append_event("rescore.completed", out.to_dict() | {"since": since.isoformat() if since else None},
                       actor="scan")
    return out


def _score_here(store: Store, version: str, since: datetime | None, batch_size: int, window: int,
                report: Any) -> ScoreTally:
    from basira.scan.score import ScoreTally, ensure_detector, post_id_bounds, score_window

    ensure_detector()
    lo, hi = post_id_bounds(store)
    totals = ScoreTally()
    windows = list(range(lo - 1, hi, window)) if hi else []
    report("score", 0, len(windows))
    for n, a in enumerate(windows, start=1):
        totals.add(score_window(store, version, a, min(a + window, hi), batch_size, since))
        report("score", n, len(windows))
    return totals
