"""Hash matching in the review web app: the case page's panel, "remove and add to a bank", /api/v1/match."""

from __future__ import annotations

import warnings

import pytest

from basira.review.demo import seed_cases
from basira.review.service import ReviewService, ReviewSettings
from basira.signals.banks import PostContent, match_posts
from basira.signals.exchange import BankEntry
from basira.store import banks as repo
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
    return svc.case(case_id)["post"]


def test_case_page_shows_hash_matches_escaped(web):
    svc, case_ids, session, _ = web
    store = svc.store
    repo.create_bank(store, "bank<i>x</i>")
    repo.add_entries(store, "bank<i>x</i>", [BankEntry.make(
        "pdq", PDQ, labels={"entity": HOSTILE, "ideology": "ideo", "content_type": "video still"}, source="tat")])
    post = case_post(svc, case_ids[0])
    matcher = repo.load_matcher(store)
    found = match_posts(matcher, [PostContent(post["id"], None, [], [{"pdq": PDQ[:-1] + "4"}])])
    assert repo.record_post_matches(store, found, last_post_id=0, bank_tops={})[0] == 1

    page = session("rev").get(f"/cases/{case_ids[0]}").text
    assert "<h2>Hash matches</h2>" in page
    assert "bank&lt;i&gt;x&lt;/i&gt; · item 1 · pdq · distance 1" in page
    assert "entity: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert "ideology: ideo · content type: video still · opinion: positive · source: tat" in page
    assert HOSTILE not in page and "<i>x</i>" not in page
    other = session("rev").get(f"/cases/{case_ids[1]}").text
    assert "No hash-bank matches recorded for this content." in other
