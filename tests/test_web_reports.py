"""Transparency reports and evidence packages in the web app, on SQLite and PostgreSQL: the page's figures are the
CLI's, the downloads are what they say, the roles, CSRF, the signing key (missing or present), chain of custody
and hostile text."""

from __future__ import annotations

import io
import json
import re
import warnings
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import sqlalchemy as sa
from compliance_support import HASH
from fastapi.routing import APIRoute
from markupsafe import escape
from typer.testing import CliRunner

from basira.cases.network import open_network_case
from basira.cli import app as cli
from basira.compliance import signing
from basira.compliance.demo import seed_decisions
from basira.compliance.evidence import read_package, verify_entries
from basira.review.demo import seed_cases
from basira.review.roles import PERMISSIONS, ROLES
from basira.review.service import ReviewService, ReviewSettings
from basira.web import compliance_reports
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'
ENDPOINTS = {
    ("GET", "/reports", "view_reports"), ("GET", "/reports/transparency.html", "view_reports"),
    ("GET", "/reports/transparency.pdf", "view_reports"), ("GET", "/reports/transparency.json", "view_reports"),
    ("GET", "/reports/statements.jsonl", "view_reports"), ("GET", "/api/v1/reports/transparency", "view_reports"),
    ("POST", "/evidence/export", "export_evidence"),
}
PERIOD = {"from": "2026-11-01", "to": "2026-11-20"}


@pytest.fixture
def web(store, db_url):
    seed_cases(store, 24, now=NOW - timedelta(days=10))
    seed_decisions(store, seed=3, share=0.8, appeal_share=0.5, start=NOW - timedelta(days=6), gap_seconds=(600, 3000))
    # A hostile category name on the detections: it reaches the report tables.
    with store.write() as conn:
        conn.execute(sa.text("UPDATE detections SET categories = :c"), {"c": json.dumps([EVIL])})
    svc = ReviewService(store, ReviewSettings(secure_cookies=False), clock=lambda: NOW)
    for role in ROLES:
        svc.repo.add_user(role + "1", HASH, role)
    app = create_app(svc)
    clients = {}
    for role in ROLES:
        c = TestClient(app, follow_redirects=False)
        if role == "platform":
            c.headers["Authorization"] = "Bearer " + svc.create_token("platform1", "t")
        else:
            cookie, csrf = svc.start_session(svc.repo.user_by_name(role + "1"))
            c.cookies.set("basira_session", cookie)
            c.headers["X-CSRF-Token"] = csrf
        clients[role] = c
    return svc, clients, db_url


@pytest.fixture
def key(tmp_path, monkeypatch):
    paths = signing.generate_keypair(tmp_path / "keys")
    monkeypatch.setenv("BASIRA_SIGNING_KEY", str(paths.private))
    return paths


def test_every_route_names_one_permission():
    seen = set()
    for r in [*compliance_reports.pages.routes, *compliance_reports.api_router.routes]:
        if isinstance(r, APIRoute):
            perms = {getattr(d.call, "permission", None) for d in r.dependant.dependencies} - {None}
            assert len(perms) == 1, r.path
            seen |= {(m, r.path, next(iter(perms))) for m in r.methods - {"HEAD"}}
    assert seen == ENDPOINTS and {p for *_, p in ENDPOINTS} <= set(PERMISSIONS)


def test_roles(web):
    svc, clients, _ = web
    for role, c in clients.items():
        readers, exporters = role in ("admin", "legal", "auditor"), role in ("admin", "legal")
        for path in ("/reports", "/reports/transparency.json", "/api/v1/reports/transparency"):
            assert c.get(path).status_code == (200 if readers else 403), (role, path)
        r = c.post("/evidence/export", data={"ref": "case:1", "next": "/cases/1"})
        assert r.status_code != 403 if exporters else r.status_code == 403, role  # 303: no key configured here
        if role != "platform":
            page = c.get("/cases/1").text
            assert ('href="/reports"' in page) == readers
            assert ("Export evidence package" in page) == exporters
    # The API twin with a token, as integrations call it.
    token = svc.create_token("legal1", "reports")
    r = TestClient(clients["legal"].app).get("/api/v1/reports/transparency", params=PERIOD,
                                             headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json()["schema"] == "basira-transparency-report/1"
    assert TestClient(clients["legal"].app).get("/api/v1/reports/transparency").status_code == 401


def _cli_json(db_url, tmp_path, cmd):
    r = CliRunner().invoke(cli, ["report", *cmd, "--from", PERIOD["from"], "--to", PERIOD["to"], "--db", db_url])
    assert r.exit_code == 0, r.output
    return r


def test_page_figures_equal_the_cli_report(web, tmp_path):
    _, clients, db_url = web
    _cli_json(db_url, tmp_path, ["transparency", "--format", "json", "--out", str(tmp_path)])
    cli_report = json.loads((tmp_path / "transparency-20261101-20261120.json").read_text())
    c = clients["legal"]
    web_json = c.get("/reports/transparency.json", params=PERIOD)
    assert web_json.headers["content-disposition"] == 'attachment; filename="transparency-20261101-20261120.json"'
    got = web_json.json()
    api = c.get("/api/v1/reports/transparency", params=PERIOD).json()
    for r in (got, api, cli_report):
        r.pop("generated_at")
    assert got == cli_report == api
    assert cli_report["summary"]["removal_decisions"] > 5 and cli_report["appeals"]["decided"] > 0  # not vacuous

    page = c.get("/reports", params=PERIOD)
    assert page.status_code == 200
    text = page.text
    shown = re.findall(r'<dd data-key="([\w.]+)">([^<]*)</dd>', text)
    assert len(shown) == 8
    for key, dd in shown:
        value = cli_report
        for part in key.split("."):
            value = value[part]
        assert dd.split(" ")[-1 if key.endswith("overturned") or key.endswith("flagged") else 0] == f"{value:,}", key
    removed = cli_report["summary"]["content_removed"]
    assert f'<strong class="figure">{removed:,}</strong>' in text
    for x in cli_report["moderation"]["removals"]["by_language"]:
        assert f"<tr><td>{x['key']}</td><td class=\"num\">{x['count']:,}</td>" in text
    for fmt in ("html", "pdf", "json"):
        assert f'href="/reports/transparency.{fmt}?from=2026-11-01&amp;to=2026-11-20"' in text
    assert 'href="/reports/statements.jsonl?from=2026-11-01&amp;to=2026-11-20"' in text


def test_default_period_is_the_last_30_days(web):
    _, clients, _ = web
    text = clients["admin"].get("/reports").text
    assert 'name="from" value="2026-10-22"' in text and 'name="to" value="2026-11-20"' in text
    r = clients["admin"].get("/api/v1/reports/transparency").json()
    assert r["period"] == {"from": "2026-10-22T00:00:00Z", "to": "2026-11-21T00:00:00Z"}


def test_pdf_html_and_statements(web, tmp_path):
    from pypdf import PdfReader

    _, clients, db_url = web
    c = clients["auditor"]
    pdf = c.get("/reports/transparency.pdf", params=PERIOD)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    report = c.get("/reports/transparency.json", params=PERIOD).json()
    first = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    assert f"{report['summary']['content_removed']:,}" in first and "Content removed" in first

    page = c.get("/reports/transparency.html", params=PERIOD)
    csp = page.headers["content-security-policy"]
    assert page.status_code == 200 and "unsafe-inline" not in csp and "script-src" not in csp
    (style,) = re.findall(r"<style>(.*?)</style>", page.text, re.S)
    import base64
    import hashlib

    assert f"style-src 'sha256-{base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()}'" in csp
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "<script" not in page.text

    # No action sink acknowledged these removals: by default no statement claims them removed...
    assert report["summary"]["content_removed"] == 0 < report["summary"]["removal_decisions"]
    assert c.get("/reports/statements.jsonl", params=PERIOD).content == b""
    # ...and when the platform removes by other means, one statement per live removal decision, as the CLI's.
    st = c.get("/reports/statements.jsonl", params={**PERIOD, "unconfirmed": "true"})
    out = tmp_path / "s.jsonl"
    _cli_json(db_url, tmp_path, ["statements", "--include-unconfirmed", "--out", str(out)])
    assert st.content == out.read_bytes()
    lines = [orjson.loads(x) for x in st.content.splitlines()]
    assert len(lines) == report["summary"]["removal_decisions"]
    assert all(x["statement"]["decision_visibility"] == ["DECISION_VISIBILITY_CONTENT_REMOVED"] for x in lines)


def test_bad_period_is_a_clear_error(web):
    _, clients, _ = web
    c = clients["legal"]
    r = c.get("/reports", params={"from": "2026-13-01", "to": "2026-11-20"})
    assert r.status_code == 400 and "from: &#39;2026-13-01&#39; is not a calendar date" in r.text
    r = c.get("/reports", params={"from": "2026-11-20", "to": "2026-11-01"})
    assert r.status_code == 400 and "2026-11-20 is after to 2026-11-01" in r.text
    r = c.get("/api/v1/reports/transparency", params={"from": "yesterday"})
    assert r.status_code == 400 and r.json()["detail"][0]["msg"] == "from: 'yesterday' is not a date (YYYY-MM-DD)"
    assert c.get("/reports/transparency.pdf", params={"to": "x"}).status_code == 400


def test_hostile_text_is_escaped(web, monkeypatch):
    _, clients, _ = web
    monkeypatch.setenv("BASIRA_PLATFORM_NAME", EVIL)
    c = clients["legal"]
    for path in ("/reports", "/reports/transparency.html"):
        text = c.get(path, params=PERIOD).text
        assert "<script>alert" not in text and "<img src=x" not in text, path
        assert str(escape(EVIL)) in text, path
    r = c.post("/evidence/export", data={"ref": EVIL, "next": "/cases/1"})
    assert r.status_code == 303
    assert "<script>" not in c.get(r.headers["location"]).text


def _csrf(text):
    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


def _export(c, page, ref):
    """Press the page's export button as a browser would: the form's own fields, no CSRF header."""
    text = c.get(page).text
    form = re.search(r'<form method="post" action="/evidence/export".*?</form>', text, re.S).group(0)
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', form))
    assert fields["ref"] == ref and fields["next"] == page
    c.headers.pop("X-CSRF-Token", None)
    return c.post("/evidence/export", data=fields)


def test_evidence_export_from_case_account_and_community(web, key, tmp_path):
    svc, clients, _ = web
    store = svc.store
    c = clients["legal"]
    csrf = c.headers["X-CSRF-Token"]
    del c.headers["X-CSRF-Token"]
    assert c.post("/evidence/export", data={"ref": "case:1", "next": "/cases/1"}).status_code == 403  # no CSRF
    with store.read() as conn:
        account = conn.execute(sa.text("SELECT account_id FROM posts p JOIN cases c ON c.subject_id = p.id "
                                       "WHERE c.id = 1")).scalar_one()
    anchor, _ = open_network_case(store, "community", account, "community 4", details={"community": 4, "members": []})
    pub = signing.load_public_key(key.public)
    for page, ref in (("/cases/1", "case:1"), (f"/accounts/{account}", f"account:{account}")):
        c.headers["X-CSRF-Token"] = csrf
        r = _export(c, page, ref)
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text
        assert r.headers["content-disposition"].startswith('attachment; filename="evidence-')
        zpath = tmp_path / f"{ref.replace(':', '-')}.zip"
        zpath.write_bytes(r.content)
        v = verify_entries(read_package(zpath), pub)
        assert v.ok and v.key_source == "given", v.problems
        assert v.manifest["exporter"] == "legal1" and v.manifest["subject"]["ref"] == ref
        ev = list(store.iter_events())[-1]
        assert (ev["kind"], ev["actor"], ev["subject"]) == ("evidence.exported", "legal1", ref)
        assert ev["payload"]["manifest_sha256"] == r.headers["x-basira-manifest-sha256"]
    # The community button (its page needs the network analysis; the form is the same include).
    c.headers["X-CSRF-Token"] = csrf
    r = c.post("/evidence/export", data={"ref": "community:4", "next": "/communities/4"})
    assert r.status_code == 200
    zpath = tmp_path / "community.zip"
    zpath.write_bytes(r.content)
    v = verify_entries(read_package(zpath), pub)
    assert v.ok and v.manifest["subject"]["ref"] == "community:4" and anchor in v.manifest["subject"]["cases"]
    r = c.post("/evidence/export", data={"ref": "community:99", "next": "/communities/99"})
    assert r.status_code == 303 and "Open+a+case+on+this+whole+community" in r.headers["location"]
    assert store.verify_events() == (True, None)
    assert store.count_events("evidence.exported") == 3


def test_missing_or_bad_key_is_a_clear_message(web, monkeypatch, tmp_path):
    svc, clients, _ = web
    monkeypatch.delenv("BASIRA_SIGNING_KEY", raising=False)
    c = clients["admin"]
    r = c.post("/evidence/export", data={"ref": "case:2", "next": "/cases/2"})
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/2?notice=")
    page = c.get(r.headers["location"])
    assert page.status_code == 200
    assert "Evidence export is not configured" in page.text and "basira evidence keygen" in page.text
    assert "BASIRA_SIGNING_KEY" in page.text
    (tmp_path / "bad.key").write_text("not a key")
    monkeypatch.setenv("BASIRA_SIGNING_KEY", str(tmp_path / "bad.key"))
    r = c.post("/evidence/export", data={"ref": "case:2", "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"].startswith("/?notice=")
    assert "not+a+PEM+private+key" in r.headers["location"]
    assert svc.store.count_events("evidence.exported") == 0


def test_community_page_button_exports_after_the_community_case(web, key, tmp_path):
    """The community page (network analysis over a small follow clique) shows the button; before its community
    case exists the export explains what to do, after it the package verifies."""
    from basira.ingest.records import FollowRecord
    from basira.ingest.repository import add_follows

    svc, clients, _ = web
    with svc.store.read() as conn:
        ext = conn.execute(sa.text("SELECT external_id FROM accounts ORDER BY id LIMIT 5")).scalars().all()
    with svc.store.transaction() as tx:
        add_follows(tx, [FollowRecord("demo", a, b) for a in ext for b in ext if a != b])
    c = clients["legal"]
    network = c.get("/network?min_size=2")
    assert network.status_code == 200, network.text
    n = re.search(r'href="/communities/(-?\d+)"', network.text).group(1)
    page = f"/communities/{n}"
    shown = c.get(page)
    assert shown.status_code == 200
    size = int(re.search(r'<span class="pill">(\d+) accounts</span>', shown.text).group(1))
    r = _export(c, page, f"community:{n}")
    assert r.status_code == 303 and "Open+a+case+on+this+whole+community" in r.headers["location"]
    assert "Export evidence package" not in clients["analyst"].get(page).text  # investigate, but no export
    c.headers["X-CSRF-Token"] = _csrf(c.get(page).text)
    assert c.post(f"{page}/case").status_code == 303
    r = _export(c, page, f"community:{n}")
    assert r.status_code == 200, r.headers.get("location")
    (tmp_path / "c.zip").write_bytes(r.content)
    v = verify_entries(read_package(tmp_path / "c.zip"), signing.load_public_key(key.public))
    assert v.ok and v.manifest["subject"]["ref"] == f"community:{n}" and len(v.manifest["subject"]["accounts"]) == size > 1
    assert svc.store.count_events("evidence.exported") == 1
