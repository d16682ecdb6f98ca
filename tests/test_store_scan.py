"""Store functions behind `basira scan`: posts to score, detections with their cases, summaries."""

import threading

from basira.cases.detector import record_detections
from basira.cases.views import top_cases
from basira.ingest.records import PostRecord
from basira.ingest.repository import upsert_posts
from basira.store.detections import count_flagged, detection_breakdown, posts_lacking_detection


def posts(n: int) -> list[PostRecord]:
    return [
        PostRecord(platform="x", external_id=f"p{i}", account_external_id=f"u{i % 3}", text=f"text {i}")
        for i in range(n)
    ]


def detection(post_id: int, flagged: bool, lang: str = "ar", cats=("recruitment",)) -> dict:
    return {
        "post_id": post_id,
        "model_version": "m1",
        "score": 0.99 if flagged else 0.1,
        "flagged": flagged,
        "categories": list(cats) if flagged else [],
        "evidence": {"lang": lang, "spans": []},
    }


def test_posts_lacking_detection_pages_by_id_and_skips_scored_posts(store):
    with store.transaction() as tx:
        upsert_posts(tx, posts(25))
    ids = sorted(store.post_ids("x", [f"p{i}" for i in range(25)]).values())
    with store.transaction() as tx:
        record_detections(tx, [detection(i, False) for i in ids[:12]])
    batch, last = posts_lacking_detection(store, "m1", 0, 5)
    assert [p["id"] for p in batch] == ids[12:17] and last == ids[16]
    assert set(batch[0]) == {"id", "text", "lang"}
    seen = [p["id"] for p in batch]
    while True:
        batch, last = posts_lacking_detection(store, "m1", last, 5)
        if not batch:
            break
        seen += [p["id"] for p in batch]
    assert seen == ids[12:]
    assert len(posts_lacking_detection(store, "m2", 0, 100)[0]) == 25  # another model version: all to do


def test_record_detections_opens_cases_once_and_counts(store):
    with store.transaction() as tx:
        upsert_posts(tx, posts(6))
    ids = sorted(store.post_ids("x", [f"p{i}" for i in range(6)]).values())
    rows = [
        detection(ids[0], True, "ar", ("recruitment", "pledge")),
        detection(ids[1], True, "en", ("pledge",)),
        detection(ids[2], False, "en"),
        detection(ids[3], False, "ru"),
    ]
    with store.transaction() as tx:
        assert record_detections(tx, rows) == (4, 2)
    with store.transaction() as tx:
        assert record_detections(tx, rows) == (0, 0)  # idempotent: nothing new, no second case
    assert store.count_detections("m1") == 4 and store.count_cases("open") == 2
    assert store.count_events("case.opened") == 2 and store.verify_events() == (True, None)
    assert count_flagged(store, "m1") == 2 and count_flagged(store, "m2") == 0
    b = detection_breakdown(store, "m1")
    assert b["by_language"] == {
        "en": {"posts": 2, "flagged": 1},
        "ar": {"posts": 1, "flagged": 1},
        "ru": {"posts": 1, "flagged": 0},
    }
    assert b["by_category"] == {"pledge": 2, "recruitment": 1}
    top = top_cases(store, 10)
    assert [c.post_external_id for c in top] == ["p0", "p1"]
    assert top[0].categories == ["recruitment", "pledge"] and top[0].evidence["flagged"] is True
    assert top[0].text == "text 0" and top[0].handle is None and top[0].platform == "x"


def test_a_failed_transaction_leaves_neither_detections_nor_cases(store):
    with store.transaction() as tx:
        upsert_posts(tx, posts(2))
    ids = sorted(store.post_ids("x", ["p0", "p1"]).values())

    def boom():
        raise RuntimeError("crash before commit")

    try:
        with store.transaction() as tx:
            record_detections(tx, [detection(ids[0], True), detection(ids[1], False)])
            boom()
    except RuntimeError:
        pass
    assert store.count_detections() == 0 and store.count_cases() == 0 and store.count_events() == 0


def test_threads_share_a_store(store):
    with store.transaction() as tx:
        upsert_posts(tx, posts(40))
    ids = sorted(store.post_ids("x", [f"p{i}" for i in range(40)]).values())
    def record(rows):
        with store.transaction() as tx:
            record_detections(tx, rows)

    threads = [
        threading.Thread(target=record, args=([detection(i, i % 2 == 0) for i in part],))
        for part in (ids[:20], ids[20:])
    ]
    for t in threads:
        t.start()
    with store.transaction() as tx:
        upsert_posts(tx, posts(45))
    for t in threads:
        t.join()
    assert store.count_detections() == 40 and store.count_cases() == 20 and store.count_posts() == 45
    assert store.verify_events() == (True, None)


def test_cases_carry_the_queue_priority_of_their_detection(store):
    from basira.cases.priority import PrioritySignals, case_priority

    with store.transaction() as tx:
        upsert_posts(tx, posts(2))
    ids = sorted(store.post_ids("x", ["p0", "p1"]).values())
    urgent = {**detection(ids[0], True, cats=("threat_incitement",))}
    urgent["priority"] = case_priority(PrioritySignals(model_score=0.99, categories=("threat_incitement",)))
    plain = detection(ids[1], True)  # no priority given: the score stands in
    with store.transaction() as tx:
        record_detections(tx, [urgent, plain])
    by_post = {c.post_external_id: c.priority for c in top_cases(store, 10)}
    assert by_post["p0"] == urgent["priority"] > 1.0
    assert by_post["p1"] == 0.99


def test_cli_explains_a_case_priority_as_the_record_prints_it(store, db_url):
    """`basira review prioritize --explain N` prints the PriorityExplanation record's JSON (basira.cases.records);
    a case that is not open says so and exits 1."""
    import json

    from typer.testing import CliRunner

    from basira.cases.prioritize import explain
    from basira.cli import app

    with store.transaction() as tx:
        upsert_posts(tx, posts(2))
    ids = sorted(store.post_ids("x", ["p0", "p1"]).values())
    with store.transaction() as tx:
        record_detections(tx, [detection(ids[0], True)])
    (case,) = top_cases(store, 10)
    r = CliRunner().invoke(app, ["review", "prioritize", "--db", db_url, "--explain", str(case.case_id)])
    assert r.exit_code == 0, r.output
    got = json.loads(r.stdout)
    assert set(got) == {"inputs", "terms", "tie", "priority"} and got["inputs"]["model_score"] == 0.99
    assert got == json.loads(json.dumps(explain(store, case.case_id).to_dict()))
    r = CliRunner().invoke(app, ["review", "prioritize", "--db", db_url, "--explain", str(case.case_id + 99)])
    assert r.exit_code == 1 and "no open post or account case" in r.output
