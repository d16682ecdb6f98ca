"""Network pages: the /network index, community pages, the account page's network section, graph data as
JSON, GEXF/GraphML downloads, and opening a network-level case. All need the `investigate` permission.

The graph is drawn by cytoscape.js (a declared npm dependency, copied to static/vendor/ by `make install`);
without it the same nodes and edges are shown as tables. Data reaches the page as a JSON data block
(`tojson`-escaped) read by static/network.js: no inline script, so the CSP stays strict."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from basira.core.i18n import speaking
from basira.network.cache import Snapshot, cache_for
from basira.review.content import strip_controls
from basira.web.security import Principal, require

router = APIRouter(include_in_schema=False)
VENDOR_FILE = Path(__file__).parent / "static" / "vendor" / "cytoscape.min.js"
EXPORTS = {"gexf": "application/gexf+xml", "graphml": "application/graphml+xml"}
Investigator = Annotated[Principal, Depends(require("investigate"))]


def graph_library_available() -> bool:
    return VENDOR_FILE.is_file()


def warm(store: Any) -> None:
    cache_for(store).warm(store)


def snapshot(request: Request) -> Snapshot:
    return cache_for(request.app.state.service.store).get(request.app.state.service.store)


def for_page(graph: dict[str, Any]) -> dict[str, Any]:
    """Labels shown on the canvas get bidi/invisible controls as visible markers (the canvas cannot be
    escaped like HTML, but it cannot run markup either); every node links to its account page."""
    nodes = [{**n, "label": strip_controls(n["label"]), "href": f"/accounts/{int(n['id'])}"} for n in graph["nodes"]]
    label = {n["id"]: n["label"] for n in nodes}
    edges = [{**e, "source_label": label[e["source"]], "target_label": label[e["target"]]} for e in graph["edges"]]
    return {**graph, "nodes": nodes, "edges": edges}


def _community(snap: Snapshot, community: int) -> int:
    if not 0 <= community < snap.view.analysis.communities.count:
        raise HTTPException(404, f"no community {community} in the current analysis")
    return community


def _network_cases_by_community(request: Request, snap: Snapshot) -> dict[int, list[dict[str, Any]]]:
    """Open network cases, filed under their anchor account's community in the current analysis."""
    from basira.network.repository import network_cases

    out: dict[int, list[dict[str, Any]]] = {}
    for c in network_cases(request.app.state.service.store):
        node = snap.view.node(c["subject_id"])
        if node is not None:
            out.setdefault(int(snap.view.community_of_node[node]), []).append(c)
    return out


def _ctx(snap: Snapshot) -> dict[str, Any]:
    a = snap.view.analysis
    return {"snap": snap, "graph_lib": graph_library_available(), "accounts_total": a.data.n,
            "communities_total": a.communities.count}


@router.get("/network")
def network_index(request: Request, p: Investigator, min_size: int = 3) -> Response:
    from basira.network.analysis import community_summaries
    from basira.web.pages import render

    snap = snapshot(request)
    rows = community_summaries(snap.view.analysis, min_size=max(1, min_size))
    cases = _network_cases_by_community(request, snap)
    for r in rows:
        r["cases"] = cases.get(r["community"], [])
    return render(request, "network.html", communities=rows, min_size=min_size, **_ctx(snap))


@router.get("/communities/{community}")
def community_page(request: Request, community: int, p: Investigator) -> Response:
    from basira.web.pages import lang_of, render

    snap = snapshot(request)
    c = _community(snap, community)
    view = snap.view
    with speaking(lang_of(request)):  # the key actors' risk explanations in the reader's language
        info = view.community(c)
    return render(request, "community.html", c=info, graph=for_page(view.community_graph(c)),
                  cases=_network_cases_by_community(request, snap).get(c, []),
                  groups=[{"group": gi, "accounts": len(view.groups[gi].accounts), "shared": view.groups[gi].items}
                          for gi in info["groups"]], **_ctx(snap))


@router.get("/communities/{community}/graph.json")
def community_graph(request: Request, community: int, p: Investigator) -> Response:
    snap = snapshot(request)
    return JSONResponse(for_page(snap.view.community_graph(_community(snap, community))))


@router.get("/accounts/{account_id}/graph.json")
def account_graph(request: Request, account_id: int, p: Investigator, hops: int = 2) -> Response:
    snap = snapshot(request)
    node = snap.view.node(account_id)
    if node is None:
        raise HTTPException(404, f"no account {account_id} in the current analysis")
    return JSONResponse(for_page(snap.view.ego(node, hops=min(max(hops, 1), 2))))


@router.post("/communities/{community}/case")
def open_case(request: Request, community: int, p: Investigator) -> Response:
    """Open (or find the open) network-level case on the whole community and go to it."""
    from basira.cases.network import open_community_case
    from basira.web.pages import back, say

    snap = snapshot(request)
    cid, new = open_community_case(request.app.state.service.store, snap.view.analysis,
                                   _community(snap, community), actor=p.username)
    return back(f"/cases/{cid}", say(request, "Network case opened on community %(n)s.", n=community) if new else
                say(request, "A case on this community is already open."))


def _export(snap: Snapshot, fmt: str, nodes: Any, name: str) -> Response:
    from basira.network.export import write_gexf_to, write_graphml_to

    if fmt not in EXPORTS:
        raise HTTPException(404, f"unknown export format {fmt!r}; gexf or graphml")
    # spooled to disk past 8 MB, then streamed: a million-account graph must not sit in memory twice
    tmp = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    try:
        (write_gexf_to if fmt == "gexf" else write_graphml_to)(snap.view.analysis, tmp, nodes=nodes)
    except BaseException:
        tmp.close()
        raise
    size = tmp.tell()
    tmp.seek(0)

    def chunks() -> Iterator[bytes]:
        with tmp:
            while data := tmp.read(1 << 20):
                yield data

    return StreamingResponse(chunks(), media_type=EXPORTS[fmt], headers={
        "content-disposition": f'attachment; filename="{name}.{fmt}"', "content-length": str(size)})


@router.get("/network/export/{fmt}")
def export_all(request: Request, fmt: str, p: Investigator) -> Response:
    return _export(snapshot(request), fmt, None, "basira-network")


@router.get("/communities/{community}/export/{fmt}")
def export_community(request: Request, community: int, fmt: str, p: Investigator) -> Response:
    snap = snapshot(request)
    c = _community(snap, community)
    return _export(snap, fmt, snap.view.analysis.communities.members(c), f"basira-community-{c}")


@router.get("/accounts/{account_id}")
def account_page(request: Request, account_id: int, p: Annotated[Principal, Depends(require("investigate"))]) -> Response:
    """An account with its posts and its network section (here, so pages.py need not import this module)."""
    from basira.web.pages import render

    d = request.app.state.service.repo.account_detail(account_id)
    if d is None:
        raise HTTPException(404, f"no account {account_id}")
    posts = [{**o, "snippet": strip_controls(o["snippet"] or "")} for o in d.posts]
    return render(request, "account.html", account=d.account, posts=posts, **account_context(request, account_id))


def account_context(request: Request, account_id: int) -> dict[str, Any]:
    """The account page's network section: risk and reasons, community, metrics, ego graph, returning or
    successor candidates, coordinated groups, flagged posts (with their cases)."""
    from basira.network.repository import flagged_posts
    from basira.web.pages import lang_of

    snap = snapshot(request)
    node = snap.view.node(account_id)
    flagged = [{**f, "snippet": strip_controls(f["snippet"] or "")}
               for f in flagged_posts(request.app.state.service.store, account_id, snap.flag_threshold)]
    if node is None:
        return {"net": None, "flagged": flagged, **_ctx(snap)}
    with speaking(lang_of(request)):  # the risk explanations in the reader's language
        net = snap.view.account(node)
    return {"net": net, "graph": for_page(snap.view.ego(node)), "flagged": flagged, **_ctx(snap)}
