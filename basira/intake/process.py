"""Process validated content items with the scan's own functions: store ingest batch, score_posts and
record_detections (a case on each flagged post), the hash pass; then read each item's answer from the store."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from basira.ingest.clean import ReadOptions
from basira.ingest.records import AccountRecord, PostRecord

if TYPE_CHECKING:
    from basira.store import Store


def ensure_detector(pool_worker: bool = False) -> str:
    """Load the detector once in this process (the scan's scoring state); return the model version."""
    from basira.scan.score import ensure_detector as ensure

    return ensure(pool_worker)


def records_of(items: Sequence[dict[str, Any]], options: ReadOptions | None = None) -> list[tuple[PostRecord, AccountRecord | None]]:
    """Queue items (already validated once) back to records."""
    from basira.intake.items import parse_item

    options = options or ReadOptions.from_settings()
    return [parse_item(i, n, options)[1:] for n, i in enumerate(items)]


def process(store: Store, records: Sequence[tuple[PostRecord, AccountRecord | None]],
            actor: str = "intake") -> list[dict[str, Any]]:
    """Store, score and hash-match the posts; one answer per record, in order: platform, post_id, post (store
    id), score, flagged, policy, categories, evidence, bank_matches, case_id. Idempotent: a post already stored
    keeps its stored detection and case."""
    from basira import banks as repo
    from basira.ingest.repository import ingest_batch
    from basira.intake.queue import post_rows_on, stored_results
    from basira.scan.hashes import match_these
    from basira.scan.score import record, score_posts

    version = ensure_detector()
    accounts = [a for _, a in records if a is not None]
    posts = [p for p, _ in records]
    # Scored before the transaction (no row lock is held while the detector runs; a post stored and scored
    # before is rare and costs only its own scoring), then stored, looked up and recorded in one transaction:
    # one commit per batch instead of two, and fewer round trips (measured: 6 transactions per sync item before).
    scored = score_posts([(n, p.text, p.lang) for n, p in enumerate(posts)])
    with store.transaction() as tx:
        ingest_batch(tx, accounts, posts)
        rows = post_rows_on(tx.conn, [(p.platform, p.external_id) for p in posts], version)
        todo, seen = [], set()
        for n, p in enumerate(posts):
            pid, done = rows[(p.platform, p.external_id)]
            if not done and pid not in seen:
                seen.add(pid)
                todo.append({**scored[n], "post_id": pid})
        if todo:
            record(store, todo)
    ids = {k: v[0] for k, v in rows.items()}
    post_ids = sorted(set(ids.values()))
    banks = repo.has_items(store)
    if banks:
        from basira.signals.banks import PostContent

        match_these(store, [PostContent(ids[(p.platform, p.external_id)], p.text, list(p.urls),
                                        [{"sha256": m.sha256, "pdq": m.pdq} for m in p.media])
                            for p in {(p.platform, p.external_id): p for p in posts}.values()])
    have = stored_results(store, post_ids, version)
    out = []
    for p in posts:
        pid = ids[(p.platform, p.external_id)]
        r = have[pid]
        ev = r.get("evidence") or {}
        matches = []
        if banks:
            matches = [{"bank": m.bank, "item_id": m.item_id, "signal_type": m.signal_type, "distance": m.distance,
                        "status": m.status, "labels": m.labels} for m in repo.matches_for(store, f"post:{pid}")]
        out.append({"platform": p.platform, "post_id": p.external_id, "post": pid, "model_version": version,
                    "score": r.get("score"), "flagged": bool(ev.get("flagged")), "policy": ev.get("policy"),
                    "categories": r.get("categories", []),
                    "evidence": {k: ev[k] for k in ("lang", "threshold", "signals", "spans") if k in ev},
                    "bank_matches": matches, "case_id": r["case_id"]})
    return out
