"""The web face: every role × every endpoint, CSRF, sessions, login throttling, hostile content, other users' claims."""

import re
import shutil
import warnings
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from basira.cases.manual import open_case_for
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.review.demo import seed_cases
from basira.review.roles import PERMISSIONS, ROLES
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.store.detections import add_detections, detection_id
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"
# Every route, its permission: the test fails if a route is added without being listed here.
ENDPOINTS = [
    ("GET", "/", "view_self"), ("POST", "/logout", "view_self"),
    ("GET", "/queue", "view_queue"), ("POST", "/queue/next", "claim"),
    ("POST", "/queue/filters", "view_queue"), ("POST", "/queue/filters/delete", "view_queue"),
    ("POST", "/groups/{group_id}/split", "claim"),
    ("GET", "/cases/{case_id}", "view_case"), ("GET", "/cases/{case_id}/text", "view_case"),
    ("POST", "/cases/{case_id}/claim", "claim"), ("POST", "/cases/{case_id}/release", "claim"),
    ("POST", "/cases/{case_id}/decide", "decide"), ("POST", "/decisions/{decision_id}/undo", "undo"),
    ("POST", "/cases/{case_id}/appeal", "file_appeal"), ("POST", "/deliveries/{delivery_id}/retry", "retry_delivery"),
    ("GET", "/accounts/{account_id}", "investigate"), ("GET", "/audit", "view_audit"),
    ("GET", "/admin/users", "manage_users"), ("POST", "/admin/users", "manage_users"),
    ("POST", "/admin/users/{username}/disable", "manage_users"), ("POST", "/admin/users/{username}/enable", "manage_users"),
    ("GET", "/settings", "set_prefs"), ("POST", "/settings", "set_prefs"),
    ("GET", "/api/v1/me", "view_self"), ("GET", "/api/v1/policies", "view_policies"),
    ("GET", "/api/v1/queue", "view_queue"), ("POST", "/api/v1/queue/claim-next", "claim"),
    ("GET", "/api/v1/cases/{case_id}", "view_case"), ("POST", "/api/v1/cases/{case_id}/claim", "claim"),
    ("DELETE", "/api/v1/cases/{case_id}/claim", "claim"), ("POST", "/api/v1/cases/{case_id}/decisions", "decide"),
    ("POST", "/api/v1/decisions/{decision_id}/undo", "undo"), ("POST", "/api/v1/cases/{case_id}/appeals", "file_appeal"),
    ("GET", "/api/v1/cases/{case_id}/deliveries", "view_case"),
    ("POST", "/api/v1/deliveries/{delivery_id}/retry", "retry_delivery"),
    ("GET", "/api/v1/accounts/{account_id}", "investigate"), ("GET", "/api/v1/audit/events", "view_audit"),
    ("GET", "/api/v1/audit/verify", "view_audit"), ("GET", "/api/v1/users", "manage_users"),
    ("POST", "/api/v1/users", "manage_users"), ("POST", "/api/v1/users/{username}/disable", "manage_users"),
    ("POST", "/api/v1/users/{username}/enable", "manage_users"),
]
PUBLIC = {("GET", "/login"), ("POST", "/login")}


@pytest.fixture(scope="module")
def template_db(tmp_path_factory):
    """Users (argon2 is deliberately slow: hash once per module), tokens and cases; each test gets a copy."""
    path = tmp_path_factory.mktemp("web") / "template.db"
    store = open_store(f"sqlite:///{path}")
    ids = seed_cases(store, 8)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    for role in ROLES:
        svc.add_user(role + "1", PASSWORD, role)
    svc.add_user("bob", PASSWORD, "reviewer")
    token = svc.create_token("platform1", "test")
    store.close()  # the last connection to close checkpoints the WAL into the file
    return path, ids, token


def session_client(app, svc, username):
    """A client with a live session (made directly: the login form is tested on its own)."""
    user = svc.repo.user_by_name(username)
    cookie, csrf = svc.start_session(user)
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("basira_session", cookie)
    c.headers["X-CSRF-Token"] = csrf
    return c


@pytest.fixture
def web(tmp_path, template_db):
    src, ids, token = template_db
    dst = tmp_path / "web.db"
    for suffix in ("", "-wal"):
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{dst}{suffix}")
    store = open_store(f"sqlite:///{dst}")
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    app = create_app(svc)
    clients = {}
    for role in ROLES:
        if role == "platform":
            c = TestClient(app, follow_redirects=False)
            c.headers["Authorization"] = "Bearer " + token
        else:
            c = session_client(app, svc, role + "1")
        clients[role] = c
    yield svc, app, clients, ids
    store.close()


def login(c, username, password=PASSWORD):
    r = c.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = c.post("/login", data={"username": username, "password": password, "csrf": token})
    if r.status_code == 303:
        c.headers["X-CSRF-Token"] = csrf_of(c)
    return r


def csrf_of(c):
    r = c.get("/settings")
    if r.status_code != 200:
        r = c.get("/audit")
    return re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)


def fill(path):
    return (path.replace("{case_id}", "1").replace("{decision_id}", "1").replace("{account_id}", "1")
            .replace("{delivery_id}", "1").replace("{username}", "nobody").replace("{group_id}", "1"))


def test_every_route_is_listed_with_its_permission(web):
    from basira.web import api, network_pages, pages

    seen = set()
    account = [r for r in network_pages.router.routes if getattr(r, "path", "") == "/accounts/{account_id}"]
    for r in [*api.router.routes, *pages.router.routes, *account]:  # the account page lives with the network's
        if not isinstance(r, APIRoute):
            continue
        perms = {getattr(d.call, "permission", None) for d in r.dependant.dependencies} - {None}
        for m in r.methods - {"HEAD"}:
            if (m, r.path) in PUBLIC:
                assert not perms
                continue
            assert len(perms) == 1, f"{m} {r.path} must declare exactly one permission"
            seen.add((m, r.path, perms.pop()))
    assert seen == set(ENDPOINTS)
    assert {p for _, _, p in ENDPOINTS} <= set(PERMISSIONS)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(web, role):
    _, _, clients, _ = web
    c = clients[role]
    bodies = {"/api/v1/cases/{case_id}/decisions": {"action": "keep", "reason_code": "OK-1"},
              "/api/v1/cases/{case_id}/appeals": {"statement": "s"},
              "/api/v1/users": {"username": "x", "password": "p" * 12, "role": "analyst"}}
    for method, path, perm in ENDPOINTS:
        if path == "/logout":
            continue  # would end the session the rest of the matrix uses
        r = c.request(method, fill(path), json=bodies.get(path) if path.startswith("/api/") and method == "POST" else None)
        forbidden = r.status_code == 403 and "forbidden for role" in r.text
        assert forbidden == (role not in PERMISSIONS[perm]), f"{role} {method} {path} → {r.status_code} {r.text[:200]}"


def test_anonymous_gets_nothing(web):
    svc, app, _, _ = web
    c = TestClient(app, follow_redirects=False)
    for method, path, _ in ENDPOINTS:
        r = c.request(method, fill(path))
        assert r.status_code in (401, 303), (method, path, r.status_code)
        if r.status_code == 303:
            assert r.headers["location"].startswith("/login")
    assert c.get("/api/v1/me", headers={"Authorization": "Bearer bsr_wrong"}).status_code == 401
    assert c.get("/api/v1/openapi.json").status_code == 200


def test_csrf_and_origin(web):
    svc, app, clients, ids = web
    c = clients["reviewer"]
    good = c.headers.pop("X-CSRF-Token")
    assert c.post("/queue/next").status_code == 403
    assert c.post("/queue/next", data={"csrf": "nope"}).status_code == 403
    assert c.post("/api/v1/queue/claim-next").status_code == 403
    assert c.post("/queue/next", data={"csrf": good}, headers={"Origin": "https://evil.example"}).status_code == 403
    assert c.post("/queue/next", data={"csrf": good}).status_code == 303
    assert c.post("/api/v1/queue/claim-next", headers={"X-CSRF-Token": good}).status_code == 200
    # a token belongs to another session: refused
    other = clients["admin"].headers["X-CSRF-Token"]
    assert c.post("/api/v1/queue/claim-next", headers={"X-CSRF-Token": other}).status_code == 403
    # login itself needs the login form's token
    fresh = TestClient(app, follow_redirects=False)
    assert fresh.post("/login", data={"username": "reviewer1", "password": PASSWORD, "csrf": "x"}).status_code == 403
    # bearer tokens carry no ambient authority: no CSRF needed
    assert clients["platform"].get("/api/v1/me").json()["role"] == "platform"


def test_session_cookie_flags_logout_and_disable(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    svc = ReviewService(store, ReviewSettings(secure_cookies=True))
    svc.add_user("alice", PASSWORD, "reviewer")
    app = create_app(svc)
    c = TestClient(app, base_url="https://testserver", follow_redirects=False)
    r = c.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)
    r = c.post("/login", data={"username": "alice", "password": PASSWORD, "csrf": token})
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" in cookie
    assert c.get("/api/v1/me").status_code == 200
    svc.disable_user("alice")
    assert c.get("/api/v1/me").status_code == 401
    store.close()


def test_login_throttling(web):
    svc, app, _, _ = web
    c = TestClient(app, follow_redirects=False)
    for _ in range(5):
        assert login(c, "reviewer1", "wrong password!").status_code == 401
    r = login(c, "reviewer1")  # right password, but throttled
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert login(TestClient(app, follow_redirects=False), "analyst1").status_code == 429  # same address
    assert any(e["kind"] == "session.login_failed" for e in svc.store.iter_events())


def test_other_users_claims_and_decisions(web):
    svc, app, clients, ids = web
    alice = clients["reviewer"]
    bob = session_client(app, svc, "bob")
    cid = alice.post("/api/v1/queue/claim-next").json()["case_id"]
    assert bob.post(f"/api/v1/cases/{cid}/claim").status_code == 409
    r = bob.post(f"/api/v1/cases/{cid}/decisions", json={"action": "remove", "reason_code": "TVEC-1.1"})
    assert r.status_code == 409
    assert bob.delete(f"/api/v1/cases/{cid}/claim").json() == {"released": False}
    assert bob.post("/api/v1/queue/claim-next").json()["case_id"] != cid
    r = alice.post(f"/api/v1/cases/{cid}/decisions", json={"action": "remove", "reason_code": "TVEC-1.1"})
    assert r.status_code == 201
    did = r.json()["decision_id"]
    assert bob.post(f"/api/v1/decisions/{did}/undo").status_code == 403
    r = alice.post(f"/api/v1/cases/{cid}/decisions", json={"action": "keep", "reason_code": "OK-1"})
    assert r.status_code == 409  # no case decided twice
    bad = alice.post(f"/api/v1/cases/{ids[-1]}/decisions", json={"action": "remove", "reason_code": "OK-1"})
    assert bad.status_code == 422  # the reason must back the action
    assert alice.post(f"/api/v1/decisions/{did}/undo").json()["status"] == "open"
    # nothing leaks: integrations never see who decided or reviewers' notes; nobody sees password hashes
    alice.post(f"/api/v1/cases/{cid}/decisions", json={"action": "remove", "reason_code": "TVEC-1.1", "note": "n"})
    seen = clients["platform"].get(f"/api/v1/cases/{cid}").json()
    assert seen["decisions"] and "reviewer1" not in str(seen) and "note" not in seen["decisions"][0]
    assert "reviewer1" in alice.get(f"/api/v1/cases/{cid}").text
    assert "reviewer1" not in clients["platform"].get(f"/cases/{cid}").text
    users = clients["admin"].get("/api/v1/users").text
    assert "argon2" not in users and "password" not in users
    assert svc.store.verify_events() == (True, None)


def parse_tags(html):
    from html.parser import HTMLParser

    tags = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            tags.append((tag, dict(attrs)))

    P().feed(html)
    return tags


HOSTILE = ('<script>alert("x")</script><img src=x onerror=alert(1)> "><svg/onload=alert(2)> '
           "\u202etxt.exe\u202c {{7*7}} javascript:alert(3) إنضموا")


def test_hostile_content_never_executes(web):
    from basira.ingest.records import AccountRecord, MediaRecord, PostRecord

    svc, app, clients, _ = web
    st = svc.store
    with st.transaction() as tx:
        upsert_accounts(tx, [AccountRecord("x", "evil", handle="<b>h\u202e</b>", display_name='<img src=x onerror=alert(9)>',
                                          bio="<script>bio()</script>")])
    big = HOSTILE + ("A" * 1_000_000) + "<script>tail()</script>"
    with st.transaction() as tx:
        upsert_posts(tx, [
            PostRecord("x", "p1", "evil", HOSTILE, lang="ar",
                       media=[MediaRecord(url="javascript:alert(4)", kind="photo"),
                              MediaRecord(url="https://example.invalid/v.mp4", kind="video")]),
            PostRecord("x", "p2", "evil", big),
        ])
    pids = st.post_ids("x", ["p1", "p2"])
    with st.transaction() as tx:
        add_detections(tx, [{"post_id": pids["p1"], "model_version": "m<script>", "score": 0.9,
                            "categories": ["<script>c()</script>"],
                            "evidence": {"spans": [{"start": 0, "end": 8, "text": "<script>", "why": "<img src=y onerror=z()>"}]}}])
    did = detection_id(st, pids["p1"], "m<script>")
    with st.transaction() as tx:
        c1, _ = open_case_for(tx, "post", pids["p1"], "<script>reason()</script>", priority=999, detection_id=did)
    with st.transaction() as tx:
        c2, _ = open_case_for(tx, "post", pids["p2"], "big", priority=998)
    rev = clients["reviewer"]
    rev.post(f"/api/v1/cases/{c1}/decisions", json={"action": "escalate", "reason_code": "ESC-1",
                                                   "note": "<script>note()</script>\u202e"})
    pages = [rev.get("/queue"), rev.get(f"/cases/{c1}"), rev.get(f"/cases/{c2}"),
             rev.get(f"/accounts/{st.get_account('x', 'evil')['id']}"),
             clients["auditor"].get("/audit"), clients["admin"].get(f"/cases/{c1}")]
    for r in pages:
        assert r.status_code == 200
        html = r.text
        tags = parse_tags(html)
        scripts = [a for t, a in tags if t == "script"]
        assert scripts[0] == {"src": "/static/app.js", "defer": None}
        # the account page's network graph: static files and a JSON data block, never inline code
        assert all(a in ({"src": "/static/network.js", "defer": None}, {"src": "/static/vendor/cytoscape.min.js", "defer": None},
                         {"type": "application/json", "id": "graph-data"}) for a in scripts[1:])
        assert not [t for t, _ in tags if t in ("svg", "iframe", "object", "embed", "base")]
        assert not [(t, k) for t, a in tags for k in a if k.startswith("on")]  # no event handlers at all
        assert not [(t, v) for t, a in tags for k, v in a.items()
                    if k in ("src", "href", "action") and (v or "").strip().lower().startswith("javascript:")]
        assert not [a for t, a in tags if t == "img" and a.get("src") == "x"]
        assert "\u202e" not in html and "\u202c" not in html  # bidi overrides are shown as markers
        assert "script-src 'self'" in r.headers["content-security-policy"] and "unsafe-inline" not in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
    case_html = pages[1].text
    assert "&lt;script&gt;alert(" in case_html and "[RLO]" in case_html and 'dir="auto"' in case_html
    assert "<mark" in case_html and "autoplay" not in case_html and 'preload="none"' in case_html
    assert "unsupported link, not loaded" in case_html  # the javascript: media URL
    assert len(pages[2].text) < 150_000 and "Full text" in pages[2].text
    full = rev.get(f"/cases/{c2}/text")
    assert full.headers["content-type"].startswith("text/plain") and "sandbox" in full.headers["content-security-policy"]
    api = rev.get(f"/api/v1/cases/{c1}")
    assert api.headers["content-type"] == "application/json"


def test_queue_filters_pages_and_prefs(web):
    svc, _, clients, ids = web
    rev = clients["reviewer"]
    all_ = rev.get("/api/v1/queue").json()
    assert all_["total"] == 8
    ar = rev.get("/api/v1/queue", params={"lang": "ar"}).json()
    assert ar["total"] and all(r["lang"] == "ar" for r in ar["cases"])
    rec = rev.get("/api/v1/queue", params={"category": "recruitment"}).json()
    assert rec["total"] and all("recruitment" in r["categories"] for r in rec["cases"])
    assert rev.get("/api/v1/queue", params={"source": "nope"}).json()["total"] == 0
    assert rev.get("/api/v1/queue", params={"min_age_hours": 1}).json()["total"] == 0
    assert rev.get("/api/v1/queue", params={"max_age_hours": 1}).json()["total"] == 8
    r = rev.get("/queue", params={"lang": "ar"})
    assert r.status_code == 200 and "Claim next case" in r.text
    assert "Claim next case" not in clients["analyst"].get("/queue").text
    assert rev.post("/settings", data={"break_reminder_minutes": "30"}).status_code == 303
    me = rev.get("/api/v1/me").json()
    assert me["prefs"] == {"blur_media": False, "greyscale_media": False, "break_reminder_minutes": 30}
    assert "no-blur" in rev.get("/queue").text
    assert "no-blur" not in clients["admin"].get("/queue").text


def test_platform_files_appeal_second_reviewer_decides(web, template_db):
    svc, _, _, ids = web
    quick = ReviewService(svc.store, ReviewSettings(secure_cookies=False, undo_seconds=0))  # final at once
    app = create_app(quick)
    alice, bob = session_client(app, quick, "reviewer1"), session_client(app, quick, "bob")
    platform = TestClient(app, follow_redirects=False, headers={"Authorization": "Bearer " + template_db[2]})
    cid = alice.post("/api/v1/queue/claim-next").json()["case_id"]
    assert alice.post(f"/api/v1/cases/{cid}/decisions", json={"action": "remove", "reason_code": "TVEC-1.1"}).status_code == 201
    r = platform.post(f"/api/v1/cases/{cid}/appeals", json={"statement": "<script>x()</script> it was satire"})
    assert r.status_code == 201, r.text
    assert platform.post(f"/api/v1/cases/{cid}/appeals", json={"statement": "again"}).status_code == 409
    r = alice.post(f"/api/v1/cases/{cid}/decisions", json={"action": "overturn", "reason_code": "APP-OVERTURN"})
    assert r.status_code == 403
    assert bob.post("/api/v1/queue/claim-next").json()["case_id"] == cid  # still the top case, now appealed
    r = bob.post(f"/api/v1/cases/{cid}/decisions", json={"action": "overturn", "reason_code": "APP-OVERTURN"})
    assert r.status_code == 201 and r.json()["status"] == "closed"
    page = bob.get(f"/cases/{cid}").text
    assert "&lt;script&gt;x()" in page and "<script>x()" not in page
    assert platform.get(f"/api/v1/cases/{cid}").json()["case"]["status"] == "closed"
    # The platform never learns who acted, the appeal's filer included (a reviewer may file for the owner).
    seen = platform.get(f"/api/v1/cases/{cid}").json()
    assert seen["appeal"]["statement"] and "filed_by" not in seen["appeal"]
    assert "filed_by" in bob.get(f"/api/v1/cases/{cid}").json()["appeal"]


def test_queue_sorts_by_each_column_filters_policy_and_saves_filters(web):
    import sqlalchemy as sa

    from basira.store.models import Detection

    svc, _, clients, ids = web
    rev = clients["reviewer"]
    by_prio = rev.get("/api/v1/queue").json()["cases"]
    assert [r["priority"] for r in by_prio] == sorted((r["priority"] for r in by_prio), reverse=True)
    up = rev.get("/api/v1/queue", params={"sort": "-score"}).json()["cases"]
    assert [r["score"] for r in up] == sorted(r["score"] for r in up)
    down = rev.get("/api/v1/queue", params={"sort": "opened"}).json()["cases"]
    assert [r["opened_at"] for r in down] == sorted((r["opened_at"] for r in down), reverse=True)
    # The column header links sort, and flip the order when clicked again.
    page = rev.get("/queue", params={"sort": "score"}).text
    assert 'aria-sort="descending"' in page and 'href="/queue?sort=-score"' in page
    # `policy` comes from the detector when it provides one: re-scoring a post stores it in detections.policy.
    with svc.store.read() as conn:
        d = conn.execute(sa.select(Detection.post_id, Detection.model_version, Detection.score, Detection.categories,
                                   Detection.evidence).order_by(Detection.id).limit(1)).one()
    with svc.store.transaction() as tx:
        add_detections(tx, [{"post_id": d.post_id, "model_version": d.model_version, "score": d.score,
                                   "categories": d.categories, "evidence": {**d.evidence, "policy": "hate_speech"}}])
    hate = rev.get("/api/v1/queue", params={"policy": "hate_speech"}).json()
    assert hate["total"] == 1 and hate["cases"][0]["policy"] == "hate_speech"
    assert rev.get("/api/v1/queue", params={"policy": "terrorist_support"}).json()["total"] == 0
    assert "hate speech" in rev.get("/queue", params={"policy": "hate_speech"}).text
    # Saved filters belong to the reviewer: kept in their preferences, shown on their queue only.
    r = rev.post("/queue/filters", data={"name": "Arabic, by score", "query": "lang=ar&sort=score"})
    assert r.status_code == 303
    mine = rev.get("/queue").text
    assert 'href="/queue?lang=ar&amp;sort=score"' in mine and "Arabic, by score" in mine
    assert "Arabic, by score" not in clients["admin"].get("/queue").text
    assert rev.get("/api/v1/me").json()["prefs"]["blur_media"] is True  # other preferences kept
    assert rev.post("/queue/filters", data={"name": " ", "query": "x"}).headers["location"].count("name") == 1
    assert rev.post("/queue/filters/delete", data={"name": "Arabic, by score"}).status_code == 303
    assert "Arabic, by score" not in rev.get("/queue").text


def test_audit_page_filters_by_actor_kind_subject_and_time_with_paging(web):
    svc, _, clients, ids = web
    admin = clients["admin"]
    for i in range(120):
        svc.repo.log("test.ping", "robot" if i % 2 else "human", f"case:{ids[0]}" if i % 3 == 0 else "user:x", {"i": i})
    page = admin.get("/audit", params={"actor": "robot"}).text
    assert page.count(">test.ping</td>") == 60 and "human" not in page.split("<tbody>")[1]
    assert "Older entries" not in page
    full = admin.get("/audit", params={"kind": "test."}).text  # a prefix
    assert full.count(">test.ping</td>") == 100 and "Older entries" in full
    older = re.search(r'href="(/audit\?[^"]*before=\d+)"', full).group(1).replace("&amp;", "&")
    rest = admin.get(older).text
    assert rest.count(">test.ping</td>") == 20 and "Newest entries" in rest
    subj = admin.get("/audit", params={"subject": f"case:{ids[0]}", "kind": "test.ping"}).text
    assert subj.count(">test.ping</td>") == 40
    assert admin.get("/audit", params={"since": "2999-01-01"}).text.count(">test.ping</td>") == 0
    assert admin.get("/audit", params={"until": "2999-01-01", "kind": "test.ping"}).text.count(">test.ping</td>") == 100
    assert admin.get("/audit", params={"since": "yesterday"}).status_code == 422


def test_grouped_copies_show_as_one_row_decided_and_split_from_the_case_page(tmp_path):
    from basira.cases.groups import assign_groups
    from basira.cases.prioritize import reprioritize
    from basira.review.demo import seed_copies

    store = open_store(f"sqlite:///{tmp_path / 'g.db'}")
    ids = seed_copies(store, reposts=4, copies=2)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    from basira.review.auth import hash_password
    from basira.review.queue import QueueFilter

    svc.repo.add_user("rana", hash_password(PASSWORD), "reviewer")
    assign_groups(store, svc.now())
    reprioritize(store)
    app = create_app(svc)
    c = session_client(app, svc, "rana")
    page = c.get("/queue").text
    assert "2 cases" in page and "×7 · 7 accounts" in page
    lead = ids["original"][0]
    case = c.get(f"/cases/{lead}").text
    assert "Review group" in case and "7 copies (repost) by 7 accounts" in case
    assert case.count('name="case_id"') == 6  # every member but the lead can be split off
    member = c.get(f"/cases/{ids['reposts'][0]}").text
    assert f'Decided through <a href="/cases/{lead}">' in member
    gid = svc.repo.queue(QueueFilter(), svc.now())[0][0].group_id
    r = c.post(f"/groups/{gid}/split", data={"csrf": c.headers["X-CSRF-Token"], "case_id": [ids["copies"][1]],
                                              "back_to": lead})
    assert r.status_code == 303 and "1+case+split" in r.headers["location"]
    assert "3 cases" in c.get("/queue").text
    c.post(f"/cases/{lead}/claim", data={"csrf": c.headers["X-CSRF-Token"]})
    r = c.post(f"/cases/{lead}/decide", data={"csrf": c.headers["X-CSRF-Token"], "action": "keep",
                                               "reason_code": "OK-1"})
    assert "Applied+to+the+5+other+copies" in r.headers["location"], r.headers["location"]
    assert "2 cases" in c.get("/queue").text  # the split copy and the unrelated post remain
    store.close()


def test_reason_keys_are_numbered_once_for_every_action(web):
    svc, _, clients, ids = web
    page = clients["reviewer"].get(f"/cases/{ids[0]}").text
    keys = re.findall(r'<option value="([^"]+)" data-actions="([^"]*)" data-key="(\d)">(\d) · ', page)
    assert keys and [int(k) for _, _, k, _ in keys] == list(range(1, len(keys) + 1))
    assert all(k == shown for _, _, k, shown in keys)  # the number shown is the key
    assert len({a for _, a, _, _ in keys}) > 1  # one numbering across reasons of different actions
    assert "the same number under every action" in page
    assert "chooseReason" in clients["reviewer"].get("/static/app.js").text
