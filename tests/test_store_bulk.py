"""The store's bulk writes (on PostgreSQL: one array per column through unnest) store exactly what they are
given, on both databases: awkward text, JSON, duplicates, defaults, batches larger than one lookup chunk."""

from __future__ import annotations

from datetime import UTC, datetime

from basira.cases.detector import record_detections
from basira.cases.views import top_cases
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.store.models import Account

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)

# Characters that need quoting or escaping in a PostgreSQL array literal or in JSON, and look-alikes of NULL.
AWKWARD = [
    'he said "join us"',
    "back\\slash \\\\ and \\N",
    "{braces}, commas, (parens)",
    "NULL",
    "",
    "   spaces   ",
    "line\nbreak\ttab\r",
    "عاجل: البيعة لأمير المؤمنين",
    "emoji 🏴 and combining é",
    "'single' quotes; DROP TABLE posts; --",
    "percent %s %(x)s %% signs",
]


def _post(i: int, text: str, account: str | None = None, **kw) -> PostRecord:
    return PostRecord(
        platform="x",
        external_id=f"p{i}",
        account_external_id=account or f"u{i % 3}",
        handle=f"h{i % 3}",
        text=text,
        created_at=T0,
        **kw,
    )


def test_awkward_text_and_json_round_trip(store):
    posts = [
        _post(
            i,
            t,
            lang=None if i % 2 else "ar",
            mentions=[t, "x"],
            hashtags=[] if i % 2 else [t],
            urls=[f"https://example.org/{i}?q={t}"],
            media=[MediaRecord(url=t or None, kind="photo", sha256=None, pdq=None)] if i % 3 == 0 else [],
        )
        for i, t in enumerate(AWKWARD)
    ]
    with store.transaction() as tx:
        assert upsert_posts(tx, [*posts, posts[0]]) == len(AWKWARD)  # a duplicate inside the batch
    with store.transaction() as tx:
        assert upsert_posts(tx, posts) == 0
    for i, t in enumerate(AWKWARD):
        p = store.get_post("x", f"p{i}")
        assert p["text"] == t
        assert p["lang"] == (None if i % 2 else "ar")
        assert (p["mentions"], p["hashtags"]) == ([t, "x"], [] if i % 2 else [t])
        assert p["urls"] == [f"https://example.org/{i}?q={t}"]
        assert p["created_at"] == T0
        assert [m["url"] for m in p["media"]] == ([t or None] if i % 3 == 0 else [])
    # Ids follow the batch order, as scoring walks posts by id.
    rows = [r for page in store.iter_posts() for r in page]
    assert [r["external_id"] for r in rows] == [f"p{i}" for i in range(len(AWKWARD))]


def test_batch_larger_than_a_lookup_chunk_maps_every_author(store):
    n = 1234  # more than one 500-value lookup
    posts = [_post(i, f"text {i}", account=f"author{i}") for i in range(n)]
    with store.transaction() as tx:
        assert upsert_posts(tx, posts) == n
    assert store.count_accounts() == n
    for i in (0, 499, 500, 1000, n - 1):
        assert store.get_post("x", f"p{i}")["account_external_id"] == f"author{i}"


def test_accounts_updated_in_bulk_by_changed_fields(store):
    first = [AccountRecord("x", f"u{i}", handle=f"h{i}", bio=f"bio {i}") for i in range(6)]
    with store.transaction() as tx:
        assert upsert_accounts(tx, first) == 6
    later = [
        AccountRecord("x", "u0", handle="renamed"),  # handle only
        AccountRecord("x", "u1", bio='new "bio" \\ {1,2}'),  # bio only
        AccountRecord("x", "u2", handle="both", bio="both"),  # two fields
        AccountRecord("x", "u3", status="suspended", suspended_at=T0),
        AccountRecord("x", "u4", handle="h4"),  # unchanged
        AccountRecord("x", "u9", handle="new"),  # new
    ]
    with store.transaction() as tx:
        assert upsert_accounts(tx, later) == 1
    got = {f"u{i}": store.get_account("x", f"u{i}") for i in (0, 1, 2, 3, 4, 5, 9)}
    assert (got["u0"]["handle"], got["u0"]["bio"]) == ("renamed", "bio 0")
    assert (got["u1"]["handle"], got["u1"]["bio"]) == ("h1", 'new "bio" \\ {1,2}')
    assert (got["u2"]["handle"], got["u2"]["bio"]) == ("both", "both")
    assert (got["u3"]["status"], got["u3"]["suspended_at"], got["u3"]["handle"]) == ("suspended", T0, "h3")
    assert (got["u4"]["handle"], got["u5"]["handle"], got["u9"]["handle"]) == ("h4", "h5", "new")


def test_insert_rows_fills_python_defaults_and_skips_conflicts(store):
    t = Account.__table__
    with store.transaction() as tx:
        pid = tx.platform_id("x")
        rows = [{"platform_id": pid, "external_id": e} for e in ("a", "b", "a")]
        got = tx.insert_rows(t, rows, ("platform_id", "external_id"), ("external_id",))
    assert [r.external_id for r in got] == ["a", "b"]
    a = store.get_account("x", "a")
    assert a["status"] == "active" and a["first_seen_at"] is not None and a["handle"] is None


def test_detections_cases_and_events_in_bulk(store):
    with store.transaction() as tx:
        upsert_posts(tx, [_post(i, t) for i, t in enumerate(AWKWARD)])
    ids = store.post_ids("x", [f"p{i}" for i in range(len(AWKWARD))])
    rows = [
        {
            "post_id": ids[f"p{i}"],
            "model_version": "m1",
            "score": 1 if i % 2 else 0.25,  # an int among floats
            "flagged": bool(i % 2),
            "categories": ["recruitment"] if i % 2 else [],
            "evidence": {"spans": [{"text": t, "start": 0}], "lang": None},
        }
        for i, t in enumerate(AWKWARD)
    ]
    flagged = sum(1 for r in rows if r["flagged"])
    with store.transaction() as tx:
        assert record_detections(tx, rows) == (len(rows), flagged)
    with store.transaction() as tx:
        assert record_detections(tx, rows) == (0, 0)
    assert store.count_cases("open") == flagged and store.count_events("case.opened") == flagged
    assert store.verify_events() == (True, None)
    top = top_cases(store, limit=100)
    assert {c.post_external_id for c in top} == {f"p{i}" for i in range(len(AWKWARD)) if i % 2}
    by_text = {c.text: c for c in top}
    for i, t in enumerate(AWKWARD):
        if i % 2:
            assert by_text[t].score == 1.0
            assert by_text[t].evidence["spans"] == [{"text": t, "start": 0}]
