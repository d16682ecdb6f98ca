"""Copies of one media file are one review group of kind `media` (`md:` + SHA-256 in basira.cases.grouping),
whatever their words and accounts; a post with another file stays out. On SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from groups_support import open_in_order

from basira.cases.groups import assign_groups
from basira.ingest.records import MediaRecord, PostRecord
from basira.review.groups import group_of_case

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)
SAME = hashlib.sha256(b"synthetic image bytes one").hexdigest()
OTHER = hashlib.sha256(b"synthetic image bytes two").hexdigest()


def _posts(platform: str) -> list[PostRecord]:
    """Three unrelated texts on three accounts (synthetic); the first two carry the same file."""
    return [
        PostRecord(platform, "1", "u1", "Look at the picture from the harvest festival last Saturday (synthetic).",
                   lang="en", created_at=T0, media=[MediaRecord("https://x.test/a.jpg", "photo", SAME)]),
        PostRecord(platform, "2", "u2", "Our chess club played in the library basement on Thursday (synthetic).",
                   lang="en", created_at=T0 + timedelta(hours=1),
                   media=[MediaRecord("https://x.test/b.jpg", "photo", SAME)]),
        PostRecord(platform, "3", "u3", "Volunteers painted the school fence on Sunday morning (synthetic).",
                   lang="en", created_at=T0 + timedelta(hours=2),
                   media=[MediaRecord("https://x.test/c.jpg", "photo", OTHER)]),
    ]


def test_posts_sharing_a_media_hash_form_one_media_group(store):
    cases = open_in_order(store, "x", _posts("x"), range(1, 4), ["1", "2", "3"])
    counts = assign_groups(store, datetime.now(UTC))
    assert counts.groups_new == 1
    g = group_of_case(store, cases["1"])
    assert g is not None and g.kind == "media" and g.status == "open"
    assert g.size == 2 and g.accounts == 2
    assert g.lead_case_id == cases["1"]  # posted first
    assert {m.case_id for m in g.members} == {cases["1"], cases["2"]}
    assert {m.via for m in g.members if m.role == "member"} == {"media"}
    assert group_of_case(store, cases["2"]).id == g.id
    assert group_of_case(store, cases["3"]) is None  # another file, other words: no group
