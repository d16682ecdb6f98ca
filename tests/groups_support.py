"""Posts stored, detected and given cases one at a time in a chosen order (the review-group tests' set-up)."""

from __future__ import annotations

from basira.cases.manual import open_cases_for
from basira.ingest.records import AccountRecord, PostRecord
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.store.detections import add_detections, detection_id


def open_in_order(store, platform: str, posts: list[PostRecord], accounts: range, order: list[str]) -> dict[str, int]:
    """Store accounts u<i> (i in `accounts`) and `posts`, detect the posts of `order`, then open their cases one
    transaction each so the case ids follow `order`; returns external id -> case id."""
    with store.transaction() as tx:
        upsert_accounts(tx, [AccountRecord(platform, f"u{i}", handle=f"user{i}") for i in accounts])
    with store.transaction() as tx:
        upsert_posts(tx, posts)
    ids = store.post_ids(platform, [p.external_id for p in posts])
    with store.transaction() as tx:
        add_detections(tx, [{"post_id": ids[e], "model_version": "t", "score": 0.9, "categories": [],
                             "evidence": {}} for e in order])
    cases = {}
    for e in order:
        with store.transaction() as tx:
            cases[e] = open_cases_for(tx, [{"subject_kind": "post", "subject_id": ids[e], "reason": "synthetic",
                                            "priority": 50.0, "detection_id": detection_id(store, ids[e], "t")}])[0]
    return cases
