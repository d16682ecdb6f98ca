"""The network pages over a simulated, scanned platform, on SQLite and PostgreSQL: index, community and account
pages, graph JSON against the store, hostile handles, network cases from the community page, the case panel,
GEXF/GraphML downloads, the graph library missing, and cache invalidation."""

from __future__ import annotations

import json
import re
import uuid
import warnings
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import orjson
import pytest
import sqlalchemy as sa
from conftest import fresh_db_url
from fastapi.routing import APIRoute
from markupsafe import escape as markup_escape

from basira.ingest.records import AccountRecord, FollowRecord, PostRecord
from basira.ingest.repository import add_follows, upsert_accounts, upsert_posts
from basira.network.cache import cache_for
from basira.network.repository import iter_follows
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.web import network_pages
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"
HOSTILE = "<script>alert(1)</script>\u202eevil"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """A 400-account simulated platform with its suspensions, scanned by the detector (cases opened)."""
    from basira.simulate import simulate_platform

    d = tmp_path_factory.mktemp("netweb")
    simulate_platform(400, 3, str(d / "p"))
    return d / "p"


def _fill(url: str, path) -> None:
    from basira.network.evaluate import mark_suspensions
    from basira.scan import scan_paths

    s = open_store(url)
    try:
        scan_paths(s, [str(path)], workers=1)
        mark_suspensions(s, orjson.loads((path / "ground_truth.json").read_bytes()))
        # a hostile account woven into the graph: it follows and is followed by the riskiest-looking hubs
        with s.transaction() as tx:
            upsert_accounts(tx, [AccountRecord("x", "hostile-1", handle=HOSTILE, display_name="<img src=x onerror=alert(2)>",
                                             bio="\u202bbio</textarea><script>alert(3)</script>")])
        with s.transaction() as tx:
            upsert_posts(tx, [PostRecord("x", "hostile-post", "hostile-1", "hello <b>world</b>", handle=HOSTILE,
                                       created_at=datetime(2024, 5, 1, tzinfo=UTC))])
        hubs = [a for a, r in _roles(path).items() if r == "recruiter_hub"][:3]
        with s.transaction() as tx:
            add_follows(tx, [FollowRecord("x", "hostile-1", h) for h in hubs] + [FollowRecord("x", hubs[0], "hostile-1")])
        svc = ReviewService(s, ReviewSettings(secure_cookies=False))
        for name, role in (("ana", "analyst"), ("rev", "reviewer"), ("aud", "auditor")):
            svc.add_user(name, PASSWORD, role)
    finally:
        s.close()


def _roles(path) -> dict[str, str]:
    truth = orjson.loads((path / "ground_truth.json").read_bytes())
    return {ext: a["role"] for ext, a in truth["accounts"].items()}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def site(request, platform, tmp_path_factory):
    with fresh_db_url(request.param, tmp_path_factory.mktemp("netweb-db")) as url:
        _fill(url, platform)
        store = open_store(url)
        svc = ReviewService(store, ReviewSettings(secure_cookies=False))
        app = create_app(svc)
        yield store, svc, app
        store.close()


def client(app, svc, username):
    cookie, csrf = svc.start_session(svc.repo.user_by_name(username))
    c = TestClient(app, follow_redirects=False)
    c.cookies.set("basira_session", cookie)
    c.headers["X-CSRF-Token"] = csrf
    return c


def ids_by_external(store) -> dict[str, int]:
    from basira.network.repository import network_accounts

    return {a["external_id"]: a["id"] for a in network_accounts(store)}


def esc(text: str) -> str:
    return str(markup_escape(text))


def data_block(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="graph-data">(.*?)</script>', page, re.S)
    assert m, "no graph data block"
    return json.loads(m.group(1))


def test_every_network_route_needs_investigate(site):
    store, svc, app = site
    routes = [r for r in network_pages.router.routes if isinstance(r, APIRoute)]
    assert len(routes) == 8  # with the account page, which moved here
    for r in routes:
        perms = {getattr(d.call, "permission", None) for d in r.dependant.dependencies} - {None}
        assert perms == {"investigate"}, r.path
    aud = client(app, svc, "aud")  # auditors read the audit log, not the network
    assert aud.get("/network").status_code == 403
    assert aud.get("/communities/0/graph.json").status_code == 403
    assert TestClient(app, follow_redirects=False).get("/network").status_code == 303  # to the login page


def test_index_and_community_pages(site, platform):
    store, svc, app = site
    c = client(app, svc, "ana")
    r = c.get("/network")
    assert r.status_code == 200
    snap = cache_for(store).peek()
    a = snap.view.analysis
    hub_ids = {ids_by_external(store)[e] for e, role in _roles(platform).items() if role == "recruiter_hub"}
    riskiest = max(hub_ids, key=lambda i: a.risk.score[snap.view.node(i)])
    comm = int(a.communities.membership[snap.view.node(riskiest)])
    assert f'href="/communities/{comm}"' in r.text and f'href="/accounts/{riskiest}"' in r.text
    assert 'href="/network/export/gexf"' in r.text

    r = c.get(f"/communities/{comm}")
    assert r.status_code == 200
    g = data_block(r.text)
    members = a.communities.members(comm)
    assert len(g["nodes"]) == min(len(members), 150)
    assert {n["id"] for n in g["nodes"]} <= {a.data.accounts[i].id for i in members}
    assert all(n["href"] == f"/accounts/{n['id']}" for n in g["nodes"])
    assert f'href="/accounts/{riskiest}"' in r.text  # a key actor
    assert "Flagged content" in r.text and f'action="/communities/{comm}/case"' in r.text
    assert g == c.get(f"/communities/{comm}/graph.json").json()
    assert "built-in method" not in r.text  # a group's item count, not dict.items
    with_groups = next((ci for ci in range(a.communities.count) if snap.view.community(ci)["groups"]), None)
    if with_groups is not None:
        page = c.get(f"/communities/{with_groups}").text
        assert "Coordinated groups" in page and "built-in method" not in page and " shared)" in page
    assert c.get(f"/communities/{a.communities.count}").status_code == 404
    assert c.get("/communities/-1/graph.json").status_code == 404


def test_account_graph_json_matches_the_store(site):
    store, svc, app = site
    c = client(app, svc, "ana")
    c.get("/network")
    snap = cache_for(store).get(store)
    follows = {p for batch in iter_follows(store) for p in batch}
    # an account with a modest neighbourhood, so nothing is capped at one hop
    deg: dict[int, int] = {}
    for s, t in follows:
        deg[s] = deg.get(s, 0) + 1
        deg[t] = deg.get(t, 0) + 1
    acc = next(i for i, k in sorted(deg.items()) if 5 <= k <= 30 and snap.view.node(i) is not None)
    r = c.get(f"/accounts/{acc}/graph.json")
    assert r.status_code == 200
    g = r.json()
    nodes = {n["id"]: n for n in g["nodes"]}
    assert g["center"] == acc and nodes[acc]["hop"] == 0 and len(nodes) <= 150
    stored = {t for s, t in follows if s == acc} | {s for s, t in follows if t == acc}
    hop1 = {i for i, n in nodes.items() if n["hop"] == 1}
    assert stored <= hop1  # every stored follow, either way, is a direct neighbour
    for e in g["edges"]:
        assert e["source"] in nodes and e["target"] in nodes
        if "follow" in e["kinds"]:
            assert (e["source"], e["target"]) in follows and e["kinds"]["follow"] == 1
    center_edges = {e["source"] if e["target"] == acc else e["target"] for e in g["edges"] if acc in (e["source"], e["target"])}
    assert center_edges == hop1
    # its replies, quotes and reposts, counted straight from the stored posts, are the edges' interaction counts
    from basira.network.repository import iter_network_posts

    posts = [p for batch in iter_network_posts(store) for p in batch]
    author = {(p["platform"], p["external_id"]): p["account_id"] for p in posts}
    expected: dict[tuple[int, str], int] = {}
    for p in posts:
        if p["account_id"] != acc:
            continue
        for field, kind in (("reply_to", "reply"), ("quote_of", "quote"), ("repost_of", "repost")):
            other = author.get((p["platform"], p[field])) if p[field] else None
            if other is not None and other != acc:
                expected[(other, kind)] = expected.get((other, kind), 0) + 1
    assert g["neighbours"] < 149 and expected  # nothing capped at one hop, and something to compare
    out_edges = {e["target"]: e["kinds"] for e in g["edges"] if e["source"] == acc}
    for (other, kind), n in expected.items():
        assert out_edges[other].get(kind) == n, (other, kind)
    assert all(k not in ("reply", "quote", "repost") or (t, k) in expected
               for t, kinds in out_edges.items() for k in kinds)
    assert c.get(f"/accounts/{acc}/graph.json?hops=1").json()["second_hop"] == 0
    a = snap.view.analysis
    node = snap.view.node(acc)
    assert all(n["risk"] == round(float(a.risk.score[snap.view.node(i)]), 4) for i, n in nodes.items())
    assert nodes[acc]["community"] == int(a.communities.membership[node])
    assert c.get("/accounts/99999999/graph.json").status_code == 404


def test_account_page_shows_risk_returning_groups_and_flagged_posts(site, platform):
    store, svc, app = site
    c = client(app, svc, "ana")
    snap = cache_for(store).get(store)
    v = snap.view
    ext = ids_by_external(store)
    # a likely returning account: the page shows its earlier account with evidence
    m = next(m for m in v.returning if m.likely)
    new_id, old_id = v.analysis.data.accounts[m.account].id, v.analysis.data.accounts[m.best.account].id
    page = c.get(f"/accounts/{new_id}").text
    assert "Returning-account candidates" in page and f'href="/accounts/{old_id}"' in page
    assert esc(m.best.evidence[0]) in page
    assert all(esc(e) in page for e in m.best.evidence)  # every line of what matched
    assert f"({m.best.profile})" in page  # the evidence profile the score could use
    # ...and the suspended one lists it as a successor
    page = c.get(f"/accounts/{old_id}").text
    assert "Successor candidates" in page and f'href="/accounts/{new_id}"' in page
    # a member of a coordinated group
    member = v.analysis.data.accounts[v.groups[0].accounts[0]].id
    page = c.get(f"/accounts/{member}").text
    assert "Coordinated sharing groups" in page
    # the riskiest hub: risk, reasons, community link, graph, flagged posts linking to their cases
    hub = max((ext[e] for e, r in _roles(platform).items() if r == "recruiter_hub"),
              key=lambda i: v.analysis.risk.score[v.node(i)])
    page = c.get(f"/accounts/{hub}").text
    node = v.node(hub)
    risk = float(v.analysis.risk.score[node])  # the page shows the account record's risk (4 places) to 3 places
    assert f"{round(risk, 4):.3f}" in page
    assert esc(v.analysis.risk.explain(node)[0]) in page
    assert f'href="/communities/{int(v.analysis.communities.membership[node])}"' in page
    g = data_block(page)
    assert g["center"] == hub and 1 < len(g["nodes"]) <= 150
    from basira.network.repository import flagged_posts

    flagged = flagged_posts(store, hub, snap.flag_threshold)
    assert flagged and all(f["case_id"] for f in flagged)  # the scan opened a case per flagged post
    assert f'href="/cases/{flagged[0]["case_id"]}"' in page


def test_hostile_handles_are_escaped_everywhere(site):
    store, svc, app = site
    c = client(app, svc, "ana")
    cache_for(store).invalidate()
    hostile = ids_by_external(store)["hostile-1"]
    snap = cache_for(store).get(store)
    assert snap.view.node(hostile) is not None
    for url in (f"/accounts/{hostile}", f"/communities/{int(snap.view.community_of_node[snap.view.node(hostile)])}",
                "/network?min_size=1"):
        page = c.get(url).text
        assert "<script>alert" not in page and "<img src=x" not in page and "\u202e" not in page, url
        for tag in re.findall(r"<script\b[^>]*>", page):  # the CSP forbids inline code: only files and data
            assert 'src="/static/' in tag or 'type="application/json"' in tag, tag
    page = c.get(f"/accounts/{hostile}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;[RLO]evil" in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    g = data_block(page)  # the JSON block is escaped for HTML and still parses back to the marked label
    assert g["nodes"][0]["label"] == "@<script>alert(1)</script>[RLO]evil"
    assert "</script>alert" not in page.split('id="graph-data">')[1].split("</script>")[0]
    csp = c.get(f"/accounts/{hostile}").headers["content-security-policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp
    gexf = c.get(f"/communities/{int(snap.view.community_of_node[snap.view.node(hostile)])}/export/gexf")
    root = ET.fromstring(gexf.content)
    labels = [n.get("label") for n in root.iter("{http://gexf.net/1.3}node")]
    assert "@" + HOSTILE in labels


def test_network_case_from_the_community_page(site):
    store, svc, app = site
    ana, rev = client(app, svc, "ana"), client(app, svc, "rev")
    snap = cache_for(store).get(store)
    a = snap.view.analysis
    comm = max(range(a.communities.count), key=lambda k: a.risk.score[a.communities.members(k)].mean()
               if a.communities.sizes[k] >= 3 else 0)
    before = store.count_events("case.opened")
    r = ana.post(f"/communities/{comm}/case")
    assert r.status_code == 303 and r.headers["location"].startswith("/cases/")
    case_id = int(r.headers["location"].split("/")[2].split("?")[0])
    assert store.count_events("case.opened") == before + 1
    assert ana.post(f"/communities/{comm}/case").headers["location"].startswith(f"/cases/{case_id}")  # no duplicate
    assert store.count_events("case.opened") == before + 1
    ev = svc.repo.events(5, subject=f"case:{case_id}")
    assert ev[0]["actor"] == "ana"
    page = rev.get(f"/cases/{case_id}").text
    members = a.communities.members(comm)
    assert "whole community" in page and "Network context" in page
    for i in members[:50]:
        assert f'href="/accounts/{a.data.accounts[i].id}"' in page
    assert f'href="/communities/{comm}"' in page
    assert f"/cases/{case_id}" in ana.get(f"/communities/{comm}").text  # the community page shows its case
    # on the queue it ranks with flagged posts (0-100 scale), and its row says what it is
    from basira.network.cases import network_priority

    risks = a.risk.score[members]
    case = svc.case(case_id).case
    assert case["priority"] == pytest.approx(80 * risks.mean() + 20 * risks.max(), abs=1e-3) and case["priority"] > 20
    assert network_priority(risks) == pytest.approx(case["priority"])
    rows = (r for page in range(1, 40) for r in rev.get(f"/queue?page={page}").text.split("<tr"))
    row = next(r for r in rows if f'href="/cases/{case_id}"' in r)
    assert esc(case["reason"][:60]) in row
    assert f'href="/cases/{case_id}"' in ana.get("/network").text
    # a reviewer decides the whole cluster like any case
    assert rev.post(f"/cases/{case_id}/decide", data={"action": "escalate", "reason_code": "ESC-1"}).status_code == 303
    assert svc.case(case_id).case["status"] == "escalated"
    assert ana.post(f"/communities/{comm}/case", headers={"X-CSRF-Token": "wrong"}).status_code == 403


def test_case_panel_shows_the_accounts_network_context(site, platform):
    store, svc, app = site
    snap = cache_for(store).get(store)
    ext = ids_by_external(store)
    hub = max((ext[e] for e, r in _roles(platform).items() if r == "recruiter_hub"),
              key=lambda i: snap.view.analysis.risk.score[snap.view.node(i)])
    from basira.network.repository import flagged_posts

    case_id = flagged_posts(store, hub, snap.flag_threshold)[0]["case_id"]
    page = client(app, svc, "rev").get(f"/cases/{case_id}").text
    node = snap.view.node(hub)
    c = int(snap.view.community_of_node[node])
    section = page.split("<h2>Network context</h2>")[1].split("<h2>")[0]
    assert f"{snap.view.analysis.risk.score[node]:.2f}" in section
    assert esc(snap.view.analysis.risk.explain(node)[0]) in section
    assert f'href="/accounts/{hub}"' in section and f'href="/communities/{c}"' in section


def test_exports_parse_back(site):
    import igraph as ig

    store, svc, app = site
    c = client(app, svc, "ana")
    snap = cache_for(store).get(store)
    a = snap.view.analysis
    r = c.get("/network/export/graphml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/graphml+xml")
    assert "attachment" in r.headers["content-disposition"]
    path = f"/tmp/basira-test-{uuid.uuid4().hex}.graphml"
    try:
        with open(path, "wb") as fh:
            fh.write(r.content)
        g = ig.Graph.Read_GraphML(path)
    finally:
        import os

        os.unlink(path)
    assert g.vcount() == a.data.n and g.ecount() == a.graph.n_edges
    assert sorted(int(x) for x in g.vs["account_id"]) == sorted(x.id for x in a.data.accounts)
    comm = int(a.communities.membership[a.risk.top(1)[0]])
    members = a.communities.members(comm)
    root = ET.fromstring(c.get(f"/communities/{comm}/export/gexf").content)
    ns = "{http://gexf.net/1.3}"
    nodes = {n.get("id") for n in root.iter(f"{ns}node")}
    assert nodes == {str(i) for i in members}
    edges = list(root.iter(f"{ns}edge"))
    inside = set(members.tolist())
    expected = sum(1 for s, t in zip(a.graph.src.tolist(), a.graph.dst.tolist(), strict=True) if s in inside and t in inside)
    assert len(edges) == expected and all(e.get("source") in nodes and e.get("target") in nodes for e in edges)
    assert c.get("/network/export/csv").status_code == 404


def test_pages_work_without_the_graph_library(site, monkeypatch, tmp_path):
    store, svc, app = site
    c = client(app, svc, "ana")
    with_lib = c.get("/communities/0").text
    monkeypatch.setattr(network_pages, "VENDOR_FILE", tmp_path / "missing.js")
    page = c.get("/communities/0").text
    assert "cytoscape.min.js" not in page and "make install" in page
    assert re.search(r'<p class="graph-note muted" >', page)  # the note is shown (not hidden)
    assert '<details class="graph-table" open>' in page  # and the tables are open
    g = data_block(page)
    for n in g["nodes"][:20]:
        assert f'<a href="/accounts/{n["id"]}">' in page
    if network_pages.VENDOR_FILE.exists():  # pragma: no cover - only when make install ran
        assert "cytoscape.min.js" in with_lib


def test_cache_recomputes_when_the_data_changes(site):
    store, svc, app = site
    cache = cache_for(store)
    first = cache.get(store)
    assert cache.get(store) is first
    cache.invalidate()
    assert cache.get(store) is first  # nothing changed: the fingerprint is the same
    fresh = f"fresh-{uuid.uuid4().hex[:8]}"
    with store.transaction() as tx:
        assert add_follows(tx, [FollowRecord("x", "hostile-1", fresh)]) == 1
    assert cache.get(store) is first  # within FINGERPRINT_SECONDS of the last check: not looked at yet
    cache.invalidate()
    second = cache.get(store)
    assert second is not first and second.fingerprint != first.fingerprint
    ids = ids_by_external(store)
    assert first.view.node(ids[fresh]) is None
    assert second.view.adjacency[second.view.node(ids["hostile-1"]), second.view.node(ids[fresh])] > 0


def test_a_decision_on_a_network_case_names_every_member_to_the_platform(site):
    from basira.cases.network import open_group_case

    store, svc, app = site
    snap = cache_for(store).get(store)
    group = snap.view.groups[0]
    cid, _ = open_group_case(store, snap.view.analysis, group)
    hooked = ReviewService(store, ReviewSettings(secure_cookies=False, webhook_url="http://127.0.0.1:9/hook",
                                                 webhook_secret="s"))
    c = client(create_app(hooked), hooked, "rev")
    page = c.get(f"/cases/{cid}").text
    accounts = snap.view.analysis.data.accounts
    for i in group.accounts:
        assert f'href="/accounts/{accounts[i].id}"' in page
    assert c.post(f"/cases/{cid}/decide", data={"action": "remove", "reason_code": "TVEC-1.1"}).status_code == 303
    deliveries = hooked.case(cid).deliveries
    assert [d["action"] for d in deliveries] == ["remove"]
    with store.read() as conn:
        payload = conn.execute(sa.text("SELECT payload FROM webhook_deliveries WHERE id = :i"),
                               {"i": deliveries[0]["id"]}).scalar_one()
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    assert payload["subject_kind"] == "coordinated"
    assert sorted(payload["member_account_ids"]) == sorted(accounts[i].external_id for i in group.accounts)


def test_the_case_panel_never_waits_for_the_analysis(site, platform):
    store, _, _ = site
    url = store.engine.url.render_as_string(hide_password=False)
    cold = open_store(url)  # another process's view: nothing computed yet
    try:
        svc = ReviewService(cold, ReviewSettings(secure_cookies=False))
        c = client(create_app(svc), svc, "rev")
        hub = ids_by_external(cold)[next(e for e, r in _roles(platform).items() if r == "recruiter_hub")]
        from basira.network.repository import flagged_posts

        case_id = next(f["case_id"] for f in flagged_posts(cold, hub, 0.5) if f["case_id"])
        page = c.get(f"/cases/{case_id}").text
        assert "being computed" in page and f'href="/accounts/{hub}"' in page
        cache = cache_for(cold)
        assert cache.warming is not None
        cache.warming.join()
        page = c.get(f"/cases/{case_id}").text
        assert "being computed" not in page and "Risk" in page.split("Network context")[1]
    finally:
        cold.close()
