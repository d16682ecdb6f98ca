"""The whole pipeline on NetworkData: graph → communities → key actors → bridges → risk, plus plain summaries."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from basira.network.coordinated import CoordinatedGroup, find_coordinated_groups
from basira.network.data import NetworkData
from basira.network.graph import EDGE_KINDS, KIND, Edges, Graph, build_graph
from basira.network.returning import THRESHOLD, ReturningMatch, find_returning
from basira.network.risk import RiskScores, risk_scores
from basira.network.sharing import Shares, co_sharing_edges
from basira.network.structure import (
    Bridges,
    Communities,
    approximate_betweenness,
    detect_communities,
    find_bridges,
    pagerank,
)


@dataclass
class NetworkAnalysis:
    data: NetworkData
    graph: Graph
    communities: Communities
    pagerank: np.ndarray
    betweenness: np.ndarray
    bridges: Bridges
    risk: RiskScores


def _window_shares(shares: Shares, since: int | None, until: int | None) -> Shares:
    mask = np.ones(len(shares), bool)
    if since is not None:
        mask &= shares.time >= since
    if until is not None:
        mask &= shares.time < until
    if mask.all():
        return shares
    return Shares(shares.account[mask], shares.time[mask], shares.key[mask], shares.kind[mask],
                  shares.post[mask], shares.labels)


def build(data: NetworkData, *, since: int | None = None, until: int | None = None,
          weights: Mapping[str, float] | None = None, co_window: int = 3600) -> Graph:
    """The weighted graph of interactions, follows, co-sharing and co-activity (posts in the same thread
    within `co_window`) inside [since, until)."""
    co = co_sharing_edges(_window_shares(data.shares, since, until), window=co_window)
    co_thread = co_sharing_edges(_window_shares(data.threads, since, until), window=co_window)
    return build_graph(Edges.concat([data.edges, co, co_thread]), data.n, since=since, until=until, weights=weights)


def analyze(data: NetworkData, *, since: int | None = None, until: int | None = None,
            weights: Mapping[str, float] | None = None, resolution: float = 1.0, seed: int = 0,
            betweenness_samples: int = 64, method: str = "igraph", with_lineage: bool = True) -> NetworkAnalysis:
    """Graph, communities, key actors, bridges and risk; `with_lineage` carries a suspended account's risk
    to its likely return (returning-account matching runs first)."""
    graph = build(data, since=since, until=until, weights=weights)
    comms = detect_communities(graph, resolution=resolution, seed=seed, method=method)
    pr = pagerank(graph)
    bt = approximate_betweenness(graph, samples=betweenness_samples, seed=seed)
    bridges = find_bridges(graph, comms.membership)
    lineage = []
    if with_lineage:
        likely = [m for m in returning_accounts(data) if m.likely and m.best is not None]
        likely.sort(key=lambda m: (data.accounts[m.account].created_at or 0, m.account))
        lineage = [(m.account, m.best.account) for m in likely]  # type: ignore[union-attr]
    risk = risk_scores(graph, comms.membership, data.stats, pr, lineage=lineage,
                       labels=[a.label for a in data.accounts])
    return NetworkAnalysis(data, graph, comms, pr, bt, bridges, risk)


def coordinated_groups(data: NetworkData, *, since: int | None = None, until: int | None = None,
                       window: int = 600, min_repeats: int = 2, min_items: int = 3) -> list[CoordinatedGroup]:
    return find_coordinated_groups(_window_shares(data.shares, since, until), window=window,
                                   min_repeats=min_repeats, min_items=min_items)


def returning_accounts(data: NetworkData, *, since: int | None = None, top_k: int = 5,
                       threshold: float = THRESHOLD, max_gap_days: float | None = None) -> list[ReturningMatch]:
    """Candidates for accounts created at or after `since` (default: the first suspension or removal)
    among suspended or removed accounts. Node indices in the result refer to data.accounts."""
    gone = [i for i, a in enumerate(data.accounts) if a.gone]
    if not gone:
        return []
    if since is None:
        since = min((data.accounts[i].gone_at for i in gone if data.accounts[i].gone_at is not None), default=None)
    # A new account: created at or after `since`, or (creation unknown) first seen posting then.
    first = data.first_post or [None] * data.n

    def existed(i: int) -> int | None:
        c = data.accounts[i].created_at
        return c if c is not None else first[i]

    new = [i for i in range(data.n) if (t := existed(i)) is not None and (since is None or t >= since)]
    return find_returning([data.profile(i) for i in new], [data.profile(i) for i in gone], top_k=top_k,
                          threshold=threshold, max_gap_days=max_gap_days)


# --- plain summaries (for the CLI's --json and the web app) -------------------------------------------------


def account_summary(a: NetworkAnalysis, i: int, explain: bool = True) -> dict[str, Any]:
    acc = a.data.accounts[i]
    out: dict[str, Any] = {
        "account_id": acc.id, "platform": acc.platform, "external_id": acc.external_id, "handle": acc.handle,
        "status": acc.status, "community": int(a.communities.membership[i]),
        "risk": round(float(a.risk.score[i]), 4), "pagerank": float(a.pagerank[i]),
        "betweenness": round(float(a.betweenness[i]), 2), "posts": int(a.data.stats.posts[i]),
        "flagged_posts": int(a.data.stats.flagged_originals[i]),
        "flagged_reposts": int(a.data.stats.flagged_reposts[i]),
        "posts_per_day": round(float(a.risk.rate[i]), 3), "hyperactivity_z": round(float(a.risk.rate_z[i]), 2),
        "participation": round(float(a.bridges.participation[i]), 3),
    }
    if explain:
        out["risk_components"] = a.risk.contributions(i)
        out["why"] = a.risk.explain(i)
    return out


def key_actors(a: NetworkAnalysis, k: int = 20, by: str = "risk") -> list[dict[str, Any]]:
    """Top accounts by risk, pagerank, betweenness, hyperactivity or participation (bridges)."""
    values = {
        "risk": a.risk.score, "pagerank": a.pagerank, "betweenness": a.betweenness, "hyperactivity": a.risk.rate_z,
        "participation": a.bridges.participation * np.log1p(a.betweenness),
    }[by]
    order = np.argsort(-values, kind="stable")[:k]
    return [account_summary(a, int(i)) for i in order]


def community_summaries(a: NetworkAnalysis, *, min_size: int = 3, top_members: int = 5) -> list[dict[str, Any]]:
    """Communities of at least `min_size` accounts, riskiest first."""
    m = a.communities.membership
    out = []
    risk = a.risk.score
    e = a.graph.edges
    kinds_in = {}
    same = m[e.src] == m[e.dst]
    for k in EDGE_KINDS:
        sel = same & (e.kind == KIND[k])
        kinds_in[k] = np.bincount(m[e.src[sel]], minlength=a.communities.count)
    for c in range(a.communities.count):
        size = int(a.communities.sizes[c])
        if size < min_size:
            continue
        members = a.communities.members(c)
        top = members[np.argsort(-risk[members], kind="stable")[:top_members]]
        out.append({
            "community": c, "size": size, "mean_risk": round(float(risk[members].mean()), 4),
            "max_risk": round(float(risk[members].max()), 4),
            "accounts_posting_flagged": int(a.risk.community_flagged[c]),
            "flagged_posts": int(a.data.stats.flagged_originals[members].sum()),
            "suspended": int(sum(1 for i in members if a.data.accounts[i].gone)),
            "internal_edges": {k: int(v[c]) for k, v in kinds_in.items() if v[c]},
            "top_accounts": [{"handle": a.data.accounts[i].handle, "account_id": a.data.accounts[i].id,
                              "risk": round(float(risk[i]), 4)} for i in top],
        })
    out.sort(key=lambda d: (-d["mean_risk"] * np.log1p(d["size"]), d["community"]))
    return out


def group_summary(data: NetworkData, g: CoordinatedGroup, max_bursts: int = 20) -> dict[str, Any]:
    acc = data.accounts
    return {
        "accounts": [{"account_id": acc[i].id, "external_id": acc[i].external_id, "handle": acc[i].handle}
                     for i in g.accounts],
        "items": g.items, "score": round(g.score, 3),
        "bursts": [{
            "item": b.item, "kind": b.kind, "start": b.start, "end": b.end, "seconds": b.end - b.start,
            "shares": [{"handle": acc[x].handle, "post": data.post_external.get(p, str(p)), "time": t}
                       for x, p, t in zip(b.accounts, b.posts, b.times, strict=True)],
        } for b in g.bursts[:max_bursts]],
    }


def returning_summary(data: NetworkData, m: ReturningMatch) -> dict[str, Any]:
    acc = data.accounts
    new = acc[m.account]
    return {
        "account_id": new.id, "handle": new.handle, "likely_returning": m.likely,
        "candidates": [{"account_id": acc[c.account].id, "handle": acc[c.account].handle,
                        "status": acc[c.account].status, "score": c.score, "evidence_profile": c.profile,
                        "features": c.features,
                        "evidence": c.evidence} for c in m.candidates],
    }
