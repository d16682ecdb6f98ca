"""Hostile and out-of-range input on every route, on SQLite and PostgreSQL: every page marks invisible and bidi
characters (post external ids, handles, texts, order fields…); ids past the integer columns' range, huge ages
and NUL characters are 4xx in the one error shape, never 500; /network works when accounts have no handle."""

import re
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from compliance_support import add_users
from fastapi.routing import APIRoute

from basira.cases.manual import open_case_for
from basira.compliance.service import ComplianceService
from basira.ingest.records import AccountRecord, PostRecord
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.review.content import _INVISIBLE, mark_invisible
from basira.review.demo import seed_cases
from basira.review.service import ReviewService, ReviewSettings
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

# One of each kind the issue names: bidi override, word joiner, soft hyphen, Mongolian vowel separator, Hangul
# filler, tag characters (hidden ASCII "hi"), a zero-width space and a NUL-free C0 control.
SNEAKY = "\u202eexe.\u2060x\u00ady\u180ez\u3164w\U000e0068\U000e0069\u200bq\x07"
HUGE = (2**31, 2**63, 2**64 + 5)


def session(app, svc, username):
    user = svc.repo.user_by_name(username)
    cookie, csrf = svc.start_session(user)
    c = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    c.cookies.set("basira_session", cookie)
    c.headers["X-CSRF-Token"] = csrf
    return c


@pytest.fixture
def site(store):
    seed_cases(store, 3)
    users = add_users(store)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("root", "a long enough password", "admin")
    with store.transaction() as tx:
        upsert_accounts(tx, [AccountRecord("x", f"acc{SNEAKY}", handle=f"h{SNEAKY}", display_name=f"d{SNEAKY}",
                                             bio=f"b{SNEAKY}"),
                               AccountRecord("telegram", "nohandle-1"), AccountRecord("telegram", "nohandle-2")])
    t0 = datetime(2026, 11, 1, tzinfo=UTC)
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("x", f"post{SNEAKY}", f"acc{SNEAKY}", f"text {SNEAKY}", lang="en",
                                       created_at=t0, hashtags=[f"tag{SNEAKY}"]),
                            *[PostRecord("telegram", f"m{i}", f"nohandle-{i % 2 + 1}", f"message {i}",
                                         created_at=t0 + timedelta(minutes=i), reply_to=f"m{i - 1}" if i else None)
                              for i in range(6)]])
    pid = store.post_ids("x", [f"post{SNEAKY}"])[f"post{SNEAKY}"]
    with store.transaction() as tx:
        case_id, _ = open_case_for(tx, "post", pid, f"reason {SNEAKY}", priority=999)
    compliance = ComplianceService(store, ReviewSettings())
    order_id = compliance.receive({"authority": f"Auth{SNEAKY.replace(chr(7), '')}", "order_ref": "R\u202e1",
                                   "reasons": f"why {SNEAKY}", "targets": ["demo:p7-0"],
                                   "contact": "tco@example.org"}, "api", None)
    compliance.execute(order_id, "lena")
    complaint_id = compliance.file_complaint(complainant=f"owner{SNEAKY}", grounds=f"grounds {SNEAKY}",
                                             order_id=order_id)
    app = create_app(svc)
    return svc, app, {"case_id": case_id, "account_id": store.get_account("x", f"acc{SNEAKY}")["id"],
                      "order_id": order_id, "post_id": pid, "users": users,
                      "complaint_id": complaint_id}


def all_routes(routes):
    """Every route, through included routers (FastAPI wraps each include_router)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from all_routes(inner.routes)
        else:
            yield r


def get_pages(app):
    """Every HTML page route of the app (GET, not under /api/, not a download)."""
    out = []
    for r in all_routes(app.routes):
        if isinstance(r, APIRoute) and "GET" in r.methods and not r.path.startswith("/api/") \
                and not r.path.startswith(("/c/", "/h/", "/m/", "/status", "/livez", "/readyz")):
            out.append(r.path)
    return out


def test_every_page_marks_invisible_and_bidi_characters(site):
    svc, app, ids = site
    c = session(app, svc, "root")
    seen = []
    for path in get_pages(app):
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), 0)), path)
        r = c.get(url)
        assert r.status_code < 500, (url, r.status_code, r.text[:300])
        if r.status_code != 200 or not r.headers.get("content-type", "").startswith("text/html"):
            continue
        raw = _INVISIBLE.findall(r.text)
        assert not raw, f"{url} prints raw {[hex(ord(ch)) for ch in raw][:5]}"
        seen.append(url)
    case = c.get(f"/cases/{ids['case_id']}").text
    for m in ("[RLO]", "[WJ]", "[SHY]", "[MVS]", "[HF]", "[TAG:h][TAG:i]", "[ZWSP]", "[U+0007]"):
        assert m in case, m
    assert "post[RLO]exe." in case  # the post's external id too
    assert "[RLO]" in c.get(f"/orders/{ids['order_id']}").text
    assert "[RLO]" in c.get(f"/accounts/{ids['account_id']}").text
    assert len(seen) >= 12, seen
    open_order = ComplianceService(svc.store, ReviewSettings()).receive(
        {"authority": "Auth\u202e2", "order_ref": "R2", "reasons": f"why {SNEAKY}", "targets": ["demo:p7-1"]},
        "api", None)
    r = c.get(f"/orders/{open_order}/execute")
    assert r.status_code == 200 and not _INVISIBLE.search(r.text)
    # Every template file was rendered by the pages above (the partials through their pages).
    loaded = {name for _, name in app.state.templates.env.cache}
    on_disk = {p.name for p in (Path(__file__).parent.parent / "basira/web/templates").glob("*.html")}
    assert on_disk <= loaded, sorted(on_disk - loaded)
    assert "[RLO]" in c.get(f"/orders/{ids['order_id']}/statement").text
    pdf = c.get(f"/orders/{ids['order_id']}/statement.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    from io import BytesIO

    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(BytesIO(pdf.content)).pages)
    assert "[RLO]" in text and "[TAG:h]" in text and not _INVISIBLE.search(text)


def test_the_report_template_marks_too():
    from basira.compliance.report_html import _env

    html = _env().from_string("<p>{{ a }}</p>{{ b|safe }}").render(a=SNEAKY, b="<i>\u202e</i>")
    assert not _INVISIBLE.search(html) and mark_invisible(SNEAKY).replace("\x07", "") != SNEAKY


def int_routes(app):
    for r in all_routes(app.routes):
        if isinstance(r, APIRoute):
            names = [p.name for p in r.dependant.path_params if p.field_info.annotation in (int, int | None)]
            if names:
                for m in r.methods - {"HEAD"}:
                    yield m, r.path, names


def test_ids_past_the_column_range_are_4xx_on_every_endpoint(site):
    svc, app, _ = site
    c = session(app, svc, "root")
    checked = 0
    for method, path, names in int_routes(app):
        for n in HUGE:
            url = path
            for name in names:
                url = url.replace("{" + name + "}", str(n))
            url = re.sub(r"\{\w+\}", "x", url)
            r = c.request(method, url, json={} if path.startswith("/api/") and method != "GET" else None)
            assert 400 <= r.status_code < 500, (method, url, r.status_code, r.text[:300])
            if path.startswith("/api/") and r.status_code == 422:
                assert r.json()["detail"][0]["type"] in ("int_out_of_range", "missing"), r.text
        checked += 1
    assert checked >= 20
    r = c.get("/api/v1/audit/events", params={"before": 2**63})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "before"]
    for field in ("order_id", "case_id", "post_id"):  # ids inside a JSON body too
        for n in HUGE:
            body = {"order_id": 1, "complainant": "a", "grounds": "b", field: n}
            r = c.post("/api/v1/complaints", json=body)
            assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", field], r.text


def test_huge_ages_and_nul_characters_are_422_and_login_names_are_audited(site):
    svc, app, ids = site
    c = session(app, svc, "root")
    for path in ("/api/v1/queue", "/queue"):
        for v in ("1e300", "inf", "nan", "-1"):
            r = c.get(path, params={"max_age_hours": v})
            assert r.status_code == 422, (path, v, r.status_code)
        assert c.get(path, params={"max_age_hours": "48"}).status_code == 200
        for key in ("lang", "category", "source", "status"):
            r = c.get(path, params={key: "a\x00b"})
            assert r.status_code == 422, (path, key, r.status_code)
    r = c.get("/api/v1/queue", params={"lang": "a\x00b"})
    assert r.json()["detail"] == [{"loc": ["query", "lang"], "msg": "NUL characters are not allowed",
                                   "type": "string_nul"}]
    r = c.post(f"/api/v1/cases/{ids['case_id']}/decisions", json={"action": "keep", "reason_code": "OK-1",
                                                                 "note": "a\u0000b"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "note"]
    r = c.post("/api/v1/orders", json={"authority": "A", "order_ref": "N-1", "reasons": "r\u0000",
                                       "targets": ["x:1"]})
    assert r.status_code == 422
    assert svc.case(ids["case_id"]).decisions == []


def test_network_pages_work_when_accounts_have_no_handle(site):
    svc, app, _ = site
    c = session(app, svc, "root")
    r = c.get("/network")
    assert r.status_code == 200

