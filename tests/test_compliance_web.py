"""Removal orders in the web app and the API: permissions per role, the dashboard's deadline clock (server-rendered,
moved by the injectable clock), intake, execution, statement, complaints, legal holds; hostile text escaped."""

import warnings
from datetime import timedelta
from typing import Any

import pytest
from compliance_support import HASH, T0, Clock
from fastapi.routing import APIRoute

from basira.review.demo import seed_cases
from basira.review.roles import PERMISSIONS, ROLES
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.web import compliance_api, compliance_pages
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

ENDPOINTS = [
    ("GET", "/api/v1/orders", "view_orders"), ("POST", "/api/v1/orders", "manage_orders"),
    ("GET", "/api/v1/orders/{order_id}", "view_orders"), ("GET", "/api/v1/orders/{order_id}/statement", "view_orders"),
    ("POST", "/api/v1/orders/{order_id}/execute", "manage_orders"),
    ("POST", "/api/v1/orders/{order_id}/close", "manage_orders"),
    ("POST", "/api/v1/orders/{order_id}/statement-sent", "manage_orders"),
    ("GET", "/api/v1/complaints", "decide_complaints"), ("POST", "/api/v1/complaints", "file_complaint"),
    ("POST", "/api/v1/complaints/{complaint_id}/decision", "decide_complaints"),
    ("GET", "/api/v1/preserved", "manage_orders"), ("POST", "/api/v1/preserved/{item_id}/hold", "manage_orders"),
    ("GET", "/orders", "view_orders"), ("POST", "/orders", "manage_orders"), ("GET", "/orders/{order_id}", "view_orders"),
    ("GET", "/orders/{order_id}/execute", "manage_orders"), ("POST", "/orders/{order_id}/execute", "manage_orders"),
    ("GET", "/orders/{order_id}/statement", "view_orders"), ("GET", "/orders/{order_id}/statement.pdf", "view_orders"), ("POST", "/orders/{order_id}/close", "manage_orders"),
    ("POST", "/orders/{order_id}/statement-sent", "manage_orders"), ("POST", "/preserved/{item_id}/hold", "manage_orders"),
    ("GET", "/complaints", "decide_complaints"), ("POST", "/complaints", "file_complaint"),
    ("POST", "/complaints/{complaint_id}/decide", "decide_complaints"),
]
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def web(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    seed_cases(store, 4)
    clock = Clock()
    svc = ReviewService(store, ReviewSettings(secure_cookies=False), clock=clock)
    for role in ROLES:
        svc.repo.add_user(role + "1", HASH, role)
    tokens = {role: svc.create_token(role + "1", "t") for role in ROLES}
    app = create_app(svc)
    clients = {}
    for role in ROLES:
        c = TestClient(app, follow_redirects=False)
        if role == "platform":
            c.headers["Authorization"] = "Bearer " + tokens[role]
        else:
            cookie, csrf = svc.start_session(svc.repo.user_by_name(role + "1"))
            c.cookies.set("basira_session", cookie)
            c.headers["X-CSRF-Token"] = csrf
        clients[role] = c
    yield svc, clock, clients, tokens, app
    store.close()


def fill(path):
    return path.replace("{order_id}", "1").replace("{complaint_id}", "1").replace("{item_id}", "1")


def test_every_compliance_route_names_one_permission():
    seen = set()
    for r in [*compliance_api.router.routes, *compliance_pages.router.routes]:
        if isinstance(r, APIRoute):
            perms = {getattr(d.call, "permission", None) for d in r.dependant.dependencies} - {None}
            assert len(perms) == 1, r.path
            seen |= {(m, r.path, next(iter(perms))) for m in r.methods - {"HEAD"}}
    assert seen == set(ENDPOINTS)
    assert {p for _, _, p in ENDPOINTS} <= set(PERMISSIONS)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(web, role):
    c = web[2][role]
    for method, path, perm in ENDPOINTS:
        r = c.request(method, fill(path), json={} if path.startswith("/api/") and method == "POST" else None)
        forbidden = r.status_code == 403 and "forbidden for role" in r.text
        assert forbidden == (role not in PERMISSIONS[perm]), f"{role} {method} {path} → {r.status_code} {r.text[:200]}"


def test_anonymous_gets_nothing(web):
    app = web[4]
    c = TestClient(app, follow_redirects=False)
    for method, path, _ in ENDPOINTS:
        assert c.request(method, fill(path)).status_code in (401, 303), (method, path)


def test_dashboard_intake_clock_execute_statement_and_complaint(web):
    svc, clock, clients, _, _ = web
    legal, admin, reviewer = clients["legal"], clients["admin"], clients["reviewer"]
    csrf = legal.headers["X-CSRF-Token"]
    assert 'href="/orders"' in legal.get("/orders").text  # in the nav
    r = legal.post("/orders", data={"csrf": csrf, "authority": EVIL, "order_ref": "W-1", "reasons": EVIL,
                                    "targets": "demo:p7-0\nhttps://demo.example/status/p7-1\n"})
    assert r.status_code == 303 and r.headers["location"].startswith("/orders/1")
    bad = legal.post("/orders", data={"csrf": csrf, "authority": "A", "order_ref": "W-2", "reasons": "r",
                                      "targets": "ftp://x"})
    assert "targets" in bad.headers["location"] and "Not+stored" in bad.headers["location"]

    clock.advance(minutes=50, seconds=30)
    page = reviewer.get("/orders").text  # reviewers see the dashboard, without the intake form
    assert 'data-deadline="2026-11-29T09:00:00Z">9:30</strong>' in page and 'class="urgent"' in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page
    assert 'action="/orders"' not in page and '<script src="/static/orders.js" defer>' in page
    assert "deadline-clock" in legal.get("/static/orders.js").text

    clock.advance(minutes=10)
    assert 'class="overdue"' in legal.get("/orders").text
    clock.t = T0 + timedelta(minutes=40)
    # Overdue and urgent orders show on every page for those who execute them; not for reviewers.
    assert "Removal orders due" in legal.get("/settings").text and "Removal orders due" in admin.get("/queue").text
    assert "W-1</bdi> (" in admin.get("/queue").text and "20:00 left" in admin.get("/queue").text
    assert "Removal orders due" not in reviewer.get("/queue").text
    # One click never removes: the POST without the confirmation goes to the confirmation page, which shows the
    # content (escaped, media blurred by the stylesheet) and says no action sink is configured.
    r = legal.post("/orders/1/execute", data={"csrf": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/orders/1/execute"
    order = legal.get("/api/v1/orders/1").json()
    assert order["status"] == "open"
    # OrderView extends OrderSummary; its JSON keeps the order it had when it listed its own fields
    summary = legal.get("/api/v1/orders").json()[0]
    assert list(order) == [*list(summary)[:19], "targets", "target_count", "found_count", "alerts", "notices",
                           "complaints", "preserved", "seconds_left", "time_left", "overdue"]
    assert {k: v for k, v in order.items() if k in summary} == summary
    confirm = legal.get("/orders/1/execute").text
    assert "Join the marching band" in confirm and "No action sink is configured" in confirm
    assert 'name="confirm" value="execute"' in confirm and "<script>alert" not in confirm
    r = legal.post("/orders/1/execute", data={"csrf": csrf, "confirm": "execute"})
    assert r.status_code == 303 and "2+items+only+recorded" in r.headers["location"]
    assert "NOTHING+was+removed" in r.headers["location"]
    page = legal.get("/orders/1").text
    assert "Statement to the authority" in page and '"within_deadline": false' in page
    assert "not confirmed" in page and '"removal_confirmed": false' in page
    assert "<script>alert" not in page and "Notices to content providers" in page
    st = legal.get("/api/v1/orders/1/statement").json()
    assert st["execution_seconds"] is None and [i["outcome"] for i in st["items"]] == ["recorded", "recorded"]
    readable = legal.get("/orders/1/statement").text  # the statement as a page for people
    assert "Not executed yet: 2 items are not confirmed" in readable and "NOT removed" in readable and "<script>alert" not in readable
    pdf = legal.get("/orders/1/statement.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert "Removal orders due" not in legal.get("/settings").text  # no longer open
    case_id = legal.get("/api/v1/orders/1").json()["targets"][0]["case_id"]
    case_page = legal.get(f"/cases/{case_id}")  # the review app shows the order's decision
    assert case_page.status_code == 200 and "W-1" in case_page.text
    assert legal.get(f"/api/v1/cases/{case_id}").json()["case"]["details"]["order_id"] == 1

    r = legal.post("/complaints", data={"csrf": csrf, "order_id": 1, "complainant": EVIL, "grounds": "satire"})
    assert "Complaint+1+recorded" in r.headers["location"]
    r = admin.post("/complaints/1/decide", data={"csrf": admin.headers["X-CSRF-Token"], "outcome": "upheld",
                                                 "reasons": "It is satire, not propaganda.", "next": "/orders/1"})
    assert r.headers["location"].startswith("/orders/1") and "reinstated" in r.headers["location"]
    page = admin.get("/complaints").text
    assert "It is satire, not propaganda." in page and "<img src=x" not in page

    r = legal.post("/preserved/1/hold", data={"csrf": csrf, "until": "2027-12-31", "reason": "Court 9/27",
                                              "order_id": 1})
    assert "Legal+hold+on+item+1+until+2027-12-31" in r.headers["location"]
    assert "2027-12-31 00:00:00" in legal.get("/orders/1").text


def test_api_intake_errors_execute_and_complaints(web):
    svc, clock, clients, tokens, app = web
    api = TestClient(app)
    api.headers["Authorization"] = "Bearer " + tokens["legal"]
    body = {"authority": "AGCOM", "order_ref": "IT-9", "reasons": "Propaganda.",
            "targets": ["demo:p7-2", "post:demo:missing"], "received_at": "2026-11-29T08:00:00+01:00",
            "details": {"member_state": "IT"}}
    r = api.post("/api/v1/orders", json=body)
    assert r.status_code == 201, r.text
    o = r.json()
    assert o["deadline_at"].startswith("2026-11-29T08:00:00") and o["details"] == {"member_state": "IT"}
    assert o["time_left"] == "0:00" and o["found_count"] == 1
    assert api.post("/api/v1/orders", json=body).status_code == 409
    r = api.post("/api/v1/orders", json={**body, "order_ref": "IT-10", "received_at": "2026-11-29T08:00:00"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "received_at"]
    assert api.get("/api/v1/orders?status=open").json()[0]["order_ref"] == "IT-9"
    assert api.get("/api/v1/orders/1/statement").status_code == 404
    out = api.post(f"/api/v1/orders/{o['id']}/execute").json()
    assert out["recorded"] == 1 and out["statement"]["within_deadline"] is False  # no action sink: not removed
    assert api.post(f"/api/v1/orders/{o['id']}/execute").status_code == 409

    platform = clients["platform"]
    r = platform.post("/api/v1/complaints", json={"order_id": o["id"], "complainant": "acc7-2", "grounds": "news"})
    assert r.status_code == 201 and r.json()["status"] == "open"
    assert platform.post("/api/v1/complaints", json={"complainant": "x", "grounds": "y"}).status_code == 422
    r = api.post(f"/api/v1/complaints/{r.json()['id']}/decision", json={"upheld": False, "reasons": "Propaganda."})
    assert r.json()["status"] == "rejected"
    assert api.get("/api/v1/complaints").json()[0]["decision_reasons"] == "Propaganda."
    items = api.get("/api/v1/preserved").json()
    assert len(items) == 1 and "content" not in items[0]
    r = api.post(f"/api/v1/preserved/{items[0]['id']}/hold", json={"until": "2026-11-01T00:00:00Z", "reason": "x"})
    assert r.status_code == 422  # a hold must end in the future



def test_api_answers_are_the_records_serialised(web):
    """The REST API's JSON of a real order (executed, with targets, notices, preserved copies and a complaint)
    is its OrderView's to_dict, field for field: the typed records changed no name, value or order."""
    from pydantic import TypeAdapter

    from basira.web.compliance_api import compliance

    def jsonable_encoder(value):  # as FastAPI answers an endpoint typed `-> dict[str, Any]`
        return TypeAdapter(Any).dump_python(value, mode="json")

    svc, clock, clients, _, app = web
    legal = clients["legal"]
    created = legal.post("/api/v1/orders", json={"authority": "A", "order_ref": "V-1", "reasons": "synthetic",
                                                 "targets": ["demo:p7-0", "post:demo:none"], "details": {"x": 1}})
    assert created.status_code == 201
    oid = created.json()["id"]
    clock.advance(minutes=5)
    cs = compliance(type("R", (), {"app": app})())
    executed = legal.post(f"/api/v1/orders/{oid}/execute").json()
    legal.post("/api/v1/complaints", json={"order_id": oid, "complainant": "owner", "grounds": "news report"})

    def same(api_json, record):
        assert list(api_json) == list(record.to_dict())  # the same fields, in the same order
        assert api_json == jsonable_encoder(record.to_dict())

    view = cs.order(oid)
    assert (view.status, view.found_count, [t.outcome for t in view.targets]) == ("executed", 1, ["recorded",
                                                                                                "not_found"])
    assert view.notices and view.preserved and view.complaints
    same(legal.get(f"/api/v1/orders/{oid}").json(), view)
    assert legal.get(f"/api/v1/orders/{oid}/statement").json() == jsonable_encoder(view.statement)
    assert executed["statement"] == jsonable_encoder(view.statement) and executed["recorded"] == 1
    [summary] = [o for o in cs.orders() if o.id == oid]
    same(next(o for o in legal.get("/api/v1/orders").json() if o["id"] == oid), summary)
    same(clients["admin"].get("/api/v1/complaints").json()[0], cs.repo.complaints()[0])
    same(legal.get("/api/v1/preserved").json()[0], cs.repo.preserved()[0])
