"""Hash matching in the review web app: the case page's panel, "remove and add to a bank", /api/v1/match."""

from __future__ import annotations

import warnings

import pytest

from basira import banks as repo
from basira.cases.manual import open_case_for
from basira.ingest.repository import upsert_posts
from basira.review.demo import seed_cases
from basira.review.service import ReviewService, ReviewSettings
from basira.signals.banks import PostContent, match_posts
from basira.signals.exchange import BankEntry
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"
PDQ = "f" * 16 + "0" * 16 + "a5" * 16
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def web(store):
    case_ids = seed_cases(store, 3)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False, undo_seconds=0))
    svc.add_user("rev", PASSWORD, "reviewer")
    svc.add_user("aud", PASSWORD, "auditor")
    svc.add_user("plat", PASSWORD, "platform")
    token = svc.create_token("plat", "test")
    app = create_app(svc)

    def session(username):
        cookie, csrf = svc.start_session(svc.repo.user_by_name(username))
        c = TestClient(app, follow_redirects=False)
        c.cookies.set("basira_session", cookie)
        c.headers["X-CSRF-Token"] = csrf
        return c

    platform = TestClient(app, follow_redirects=False)
    platform.headers["Authorization"] = "Bearer " + token
    return svc, case_ids, session, platform


def case_post(svc, case_id):
    return svc.case(case_id).post


def test_case_page_shows_hash_matches_escaped(web):
    svc, case_ids, session, _ = web
    store = svc.store
    with store.transaction() as tx:
        repo.create_bank(tx, "bank<i>x</i>")
        repo.add_entries(tx, "bank<i>x</i>", [BankEntry.make(
            "pdq", PDQ, labels={"entity": HOSTILE, "ideology": "ideo", "content_type": "video still"}, source="tat")])
    post = case_post(svc, case_ids[0])
    matcher = repo.load_matcher(store)
    found = match_posts(matcher, [PostContent(post["id"], None, [], [{"pdq": PDQ[:-1] + "4"}])])
    with store.transaction() as tx:
        assert repo.record_post_matches(tx, found, last_post_id=0, bank_tops={})[0] == 1

    page = session("rev").get(f"/cases/{case_ids[0]}").text
    assert "<h2>Hash matches</h2>" in page
    assert "bank&lt;i&gt;x&lt;/i&gt; · item 1 · pdq · distance 1" in page
    assert "entity: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "ideology: ideo · content type: video still · opinion: positive · source: tat" in page
    assert HOSTILE not in page and "<i>x</i>" not in page
    other = session("rev").get(f"/cases/{case_ids[1]}").text
    assert "No hash-bank matches recorded for this content." in other


SHA = "cd" * 32
BANK_TEXT = "Come to the meeting point after prayers, brothers; the convoy leaves at dawn"


def post_with_media(store, ext: str) -> int:
    """A post with a long text and an image whose SHA-256 and PDQ are known, and an open case on it."""
    from basira.ingest.records import MediaRecord, PostRecord

    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("demo", ext, None, BANK_TEXT + " " + ext,
                                       media=[MediaRecord(url="https://e.x/i.jpg", kind="photo", sha256=SHA, pdq=PDQ)])])
    pid = store.post_ids("demo", [ext])[ext]
    with store.transaction() as tx:
        return open_case_for(tx, "post", pid, "reported", details={"categories": ["recruitment"]})[0]


def test_remove_adds_content_to_a_bank_from_the_form_and_the_api(web):
    svc, case_ids, session, _ = web
    store = svc.store
    with store.transaction() as tx:
        repo.create_bank(tx, "removed")
        repo.create_bank(tx, "allow", negative=True)
    rev = session("rev")

    page = rev.get(f"/cases/{case_ids[0]}").text
    assert 'name="bank_it"' in page and '<option value="removed">removed</option>' in page
    assert '<option value="allow">' not in page  # allow-lists are not offered

    form_case = post_with_media(store, "m1")
    r = rev.post(f"/cases/{form_case}/decide", data={"action": "remove", "reason_code": "TVEC-1.1",
                                                     "bank_it": "1", "add_to_bank": "removed"})
    assert r.status_code == 303 and "Added+3+new+signal" in r.headers["location"]
    items = {i.signal_type: i for i in repo.iter_items(store, "removed")}
    assert set(items) == {"text_minhash", "sha256", "pdq"}
    assert items["pdq"].signal == PDQ and items["sha256"].signal == SHA
    assert items["pdq"].source == f"review:case:{form_case}"
    assert items["pdq"].labels == {"behaviour": "recruitment", "content_type": "photo"}
    ev = [e for e in store.iter_events() if e["kind"] == "bank.items_added"][-1]
    assert ev["actor"] == "rev" and ev["payload"]["note"].startswith(f"added from review: case {form_case}, decision ")
    assert ev["payload"]["added"] == 3

    # The API: the same content again adds nothing new; a near-duplicate text matches the banked one.
    api_case = post_with_media(store, "m2")
    r = rev.post(f"/api/v1/cases/{api_case}/decisions",
                 json={"action": "remove", "reason_code": "TVEC-1.1", "add_to_bank": "removed"})
    assert r.status_code == 201, r.text
    assert r.json()["banked"] == {"bank": "removed", "signals": ["pdq", "sha256", "text_minhash"], "added": 0,
                                  "known": 3}
    sig = next(i.signal for i in repo.iter_items(store, "removed") if i.signal_type == "text_minhash")
    assert repo.load_matcher(store).match("text_minhash", sig).matched

    # Refused before anything is recorded: an allow-list, an unknown bank, an action other than remove.
    for body, msg in (({"action": "remove", "add_to_bank": "allow"}, "allow-list"),
                      ({"action": "remove", "add_to_bank": "nope"}, "no bank named"),
                      ({"action": "keep", "add_to_bank": "removed"}, "only content being removed")):
        r = rev.post(f"/api/v1/cases/{case_ids[1]}/decisions", json={"reason_code": "TVEC-1.1", **body})
        assert r.status_code == 422 and msg in r.json()["detail"][0]["msg"]
    assert svc.case(case_ids[1]).decisions == []
    assert store.verify_events() == (True, None)


def test_api_match_single_batch_vetoes_errors_and_auth(web):
    svc, case_ids, session, platform = web
    store = svc.store
    with store.transaction() as tx:
        repo.create_bank(tx, "tat", thresholds={"pdq": 20})
        repo.create_bank(tx, "allow", negative=True)
    from basira.signals import get_signal_type

    minhash = get_signal_type("text_minhash").hash_text(BANK_TEXT)
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    with store.transaction() as tx:
        repo.add_entries(tx, "tat", [
            BankEntry.make("pdq", PDQ, labels={"entity": "IS"}, source="tat-2026"),
            BankEntry.make("text_minhash", minhash, labels={"content_type": "call"}),
            BankEntry.make("url", "https://t.me/SomeChannel/12", labels={"entity": "IS"}),
            BankEntry.make("md5", md5),
        ])
        repo.add_entries(tx, "allow", [BankEntry.make("md5", md5, labels={"note": "empty file"})])
    items = {i.signal_type: i.id for i in repo.iter_items(store, "tat")}
    near = PDQ[:-2] + "5a"  # 8 bits away (0xa5 ^ 0x5a)

    r = platform.post("/api/v1/match", json={"pdq": near.upper(), "ref": "upload-1"})
    assert r.status_code == 200, r.text
    (res,) = r.json()["results"]
    assert res["matched"] and res["ref"] == "upload-1" and res["vetoed"] == []
    assert res["matches"] == [{"field": "pdq", "bank": "tat", "item_id": items["pdq"], "signal_type": "pdq",
                               "distance": 8.0, "labels": {"entity": "IS"}, "opinion": "positive",
                               "source": "tat-2026"}]
    assert [m.status for m in repo.matches_for(store, "api:upload-1")] == ["match"]

    batch = [{"text": BANK_TEXT.upper() + "!!"}, {"url": "http://www.t.me/SomeChannel/12?utm_source=x"},
             {"md5": md5}, {"sha256": "0" * 64, "text": "an unrelated text about gardening and tomatoes"}]
    r = platform.post("/api/v1/match", json=batch)
    assert r.status_code == 200, r.text
    out = r.json()["results"]
    assert [x["matched"] for x in out] == [True, True, False, False]
    assert out[0]["matches"][0]["field"] == "text" and out[0]["matches"][0]["item_id"] == items["text_minhash"]
    assert out[1]["matches"][0]["field"] == "url" and out[1]["matches"][0]["distance"] == 0
    assert out[2]["vetoed"][0]["bank"] == "tat" and out[2]["allowed_by"][0]["bank"] == "allow"
    assert out[2]["allowed_by"][0]["labels"] == {"note": "empty file"}
    assert sorted(m.status for m in repo.matches_for(store, "api:plat")) == ["match", "match", "vetoed"]

    # The matcher follows bank changes: a new item is found at once.
    with store.transaction() as tx:
        repo.add_entries(tx, "tat", [BankEntry.make("sha256", "0" * 64)])
    assert platform.post("/api/v1/match", json={"sha256": "0" * 64}).json()["results"][0]["matched"]

    # Bad input: 422 naming the query and the field; nothing recorded.
    r = platform.post("/api/v1/match", json=[{"pdq": near}, {"pdq": "xyz"}])
    assert r.status_code == 422
    assert any(e["loc"][-2:] == [1, "pdq"] and "not a PDQ hash" in e["msg"] for e in r.json()["detail"]), r.text
    r = platform.post("/api/v1/match", json={"ref": "nothing"})
    assert r.status_code == 422 and "at least one of" in r.text
    assert platform.post("/api/v1/match", json=[{"md5": md5}] * 1001).status_code == 422

    # Auth: a token or a session with CSRF; auditors may not.
    from fastapi.testclient import TestClient as TC

    assert TC(platform.app).post("/api/v1/match", json={"md5": md5}).status_code == 401
    assert session("aud").post("/api/v1/match", json={"md5": md5}).status_code == 403
    rev = session("rev")
    assert rev.post("/api/v1/match", json={"md5": md5}).status_code == 200
    del rev.headers["X-CSRF-Token"]
    assert rev.post("/api/v1/match", json={"md5": md5}).status_code == 403
    assert "/api/v1/match" in platform.get("/api/v1/openapi.json").json()["paths"]


def test_undoing_a_removal_takes_back_what_it_banked_and_only_that(store):
    from basira.review.decisions import Actor

    seed_cases(store, 1)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))  # the default undo window
    svc.add_user("rev", PASSWORD, "reviewer")
    rev = Actor(svc.repo.user_by_name("rev")["id"], "rev", "reviewer")
    with store.transaction() as tx:
        repo.create_bank(tx, "removed")
        repo.add_entries(tx, "removed", [BankEntry.make("sha256", SHA, source="tat")])  # banked before, elsewhere
    case = post_with_media(store, "u1")
    svc.claim(case, rev)
    out = svc.decide(case, rev, "remove", "TVEC-1.1", add_to_bank="removed")
    assert (out.banked["added"], out.banked["known"]) == (2, 1)

    undone = svc.undo(out.decision_id, rev)
    assert undone.unbanked == 2
    assert [(i.signal_type, i.source) for i in repo.iter_items(store, "removed")] == [("sha256", "tat")]
    ev = [e for e in store.iter_events() if e["kind"] == "bank.items_removed"][-1]
    assert ev["actor"] == "rev" and ev["payload"]["note"] == f"removal undone: case {case}, decision {out.decision_id}"
    assert store.verify_events() == (True, None)
