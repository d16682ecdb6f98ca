"""What the account and community pages show, computed from one analysis: ego and community subgraphs,
community profiles, and per-account indexes of returning candidates and coordinated groups. Pure: plain
data in, JSON-ready dicts out (account ids are the store's; the web layer adds links and escaping)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from basira.network.analysis import NetworkAnalysis, account_summary, group_summary, returning_summary
from basira.network.coordinated import CoordinatedGroup
from basira.network.graph import DEFAULT_WEIGHTS, EDGE_KINDS
from basira.network.returning import THRESHOLD, ReturningMatch

GRAPH_CAP = 150  # nodes drawn at most: beyond that a force layout is unreadable and slow in the browser
EDGE_CAP = 1500
_KIND_WEIGHT = np.array([DEFAULT_WEIGHTS[k] for k in EDGE_KINDS])


@dataclass
class NetworkView:
    """An analysis plus the indexes the pages need (built once per analysis, then read-only)."""

    analysis: NetworkAnalysis
    returning: list[ReturningMatch] = field(default_factory=list)
    groups: list[CoordinatedGroup] = field(default_factory=list)

    def __post_init__(self) -> None:
        from scipy import sparse

        a = self.analysis
        n = a.data.n
        self.index = a.data.index_of()
        u, v, w = a.graph.undirected()
        self.adjacency = sparse.csr_matrix((np.concatenate([w, w]), (np.concatenate([u, v]), np.concatenate([v, u]))),
                                           shape=(n, n))
        self.returning_of: dict[int, ReturningMatch] = {m.account: m for m in self.returning}
        self.successors: dict[int, list[tuple[int, Any]]] = {}  # gone node → [(new node, candidate)]
        for m in self.returning:
            for c in m.candidates:
                self.successors.setdefault(c.account, []).append((m.account, c))
        self.groups_of: dict[int, list[int]] = {}
        for gi, g in enumerate(self.groups):
            for i in g.accounts:
                self.groups_of.setdefault(int(i), []).append(gi)
        self.community_of_node = a.communities.membership

    def node(self, account_id: int) -> int | None:
        return self.index.get(int(account_id))

    # --- graphs -----------------------------------------------------------------------------------------------

    def ego(self, i: int, *, hops: int = 2, cap: int = GRAPH_CAP) -> dict[str, Any]:
        """The account's neighbourhood: its strongest direct ties, then (with hops=2) the accounts most tied to
        those, up to `cap` nodes."""
        adj = self.adjacency
        row = adj.getrow(i)
        first = row.indices[np.argsort(-row.data, kind="stable")]
        first = first[first != i]
        keep = [i, *first[: cap - 1].tolist()]
        hop = {i: 0, **{int(j): 1 for j in keep[1:]}}
        second_total = 0
        if hops >= 2 and len(keep) < cap and len(first):
            score = np.asarray(adj[first].sum(axis=0)).ravel()
            score[first] = 0
            score[i] = 0
            cand = np.nonzero(score)[0]
            second_total = len(cand)
            cand = cand[np.argsort(-score[cand], kind="stable")][: cap - len(keep)]
            for j in cand.tolist():
                hop[int(j)] = 2
            keep += cand.tolist()
        out = self.subgraph(np.array(keep, np.int64), hop=hop)
        out.update(center=self.analysis.data.accounts[i].id, neighbours=int(len(first)),
                   second_hop=second_total, truncated=bool(len(first) + second_total + 1 > len(keep)))
        return out

    def community_graph(self, c: int, *, cap: int = GRAPH_CAP) -> dict[str, Any]:
        """The community's members, the top `cap` by PageRank when it is bigger."""
        members = self.analysis.communities.members(c)
        top = members[np.argsort(-self.analysis.pagerank[members], kind="stable")[:cap]]
        out = self.subgraph(top)
        out.update(community=c, size=int(len(members)), truncated=bool(len(members) > len(top)))
        return out

    def subgraph(self, nodes: np.ndarray, hop: dict[int, int] | None = None) -> dict[str, Any]:
        """Nodes (with risk, community, PageRank) and the aggregated edges among them, each with its total
        weight, its strongest kind and the count of interactions of every kind."""
        a = self.analysis
        n = a.data.n
        inside = np.zeros(n, bool)
        inside[nodes] = True
        e = a.graph.edges
        m = inside[e.src] & inside[e.dst] & (e.src != e.dst)
        src, dst, kind, w = e.src[m], e.dst[m], e.kind[m].astype(np.int64), e.weight[m] * _KIND_WEIGHT[e.kind[m]]
        edges: list[dict[str, Any]] = []
        if len(src):  # one row per (src, dst, kind), then per pair: weight, strongest kind, counts by kind
            k = len(EDGE_KINDS)
            key = (src * n + dst) * k + kind
            uniq, inv, counts = np.unique(key, return_inverse=True, return_counts=True)
            wsum = np.bincount(inv.ravel(), w, len(uniq))
            pairs: dict[int, dict[str, Any]] = {}
            for q, cnt, ws in zip(uniq.tolist(), counts.tolist(), wsum.tolist(), strict=True):
                pair, kk = divmod(q, k)
                d = pairs.setdefault(pair, {"weight": 0.0, "kinds": {}, "best": (-1.0, "")})
                d["weight"] += ws
                d["kinds"][EDGE_KINDS[kk]] = cnt
                if ws > d["best"][0]:
                    d["best"] = (ws, EDGE_KINDS[kk])
            ids = [x.id for x in a.data.accounts]
            for pair, d in sorted(pairs.items(), key=lambda it: -it[1]["weight"])[:EDGE_CAP]:
                s, t = divmod(pair, n)
                edges.append({"source": ids[s], "target": ids[t], "weight": round(d["weight"], 3),
                              "kind": d["best"][1], "kinds": d["kinds"]})
        risk, pr, memb = a.risk.score, a.pagerank, a.communities.membership
        out_nodes = []
        for j in nodes.tolist():
            acc = a.data.accounts[j]
            node = {"id": acc.id, "label": acc.label, "status": acc.status, "risk": round(float(risk[j]), 4),
                    "community": int(memb[j]), "pagerank": float(pr[j]),
                    "flagged_posts": int(a.data.stats.flagged_originals[j])}
            if hop is not None:
                node["hop"] = hop.get(j, 0)
            out_nodes.append(node)
        return {"nodes": out_nodes, "edges": edges}

    # --- profiles ---------------------------------------------------------------------------------------------

    def account(self, i: int) -> dict[str, Any]:
        """The account's risk (components, reasons), community, key-actor metrics and ranks, returning-account
        candidates (if new) or successors (if gone), and its coordinated groups."""
        a = self.analysis
        out = account_summary(a, i)
        n = a.data.n
        for name, values in (("risk", a.risk.score), ("pagerank", a.pagerank), ("betweenness", a.betweenness)):
            out[f"{name}_rank"] = int((values > values[i]).sum()) + 1
        out["accounts"] = n
        out["community_size"] = int(a.communities.sizes[out["community"]])
        out["amplified"] = int(a.risk.amplifications[i])
        m = self.returning_of.get(i)
        out["returning"] = returning_summary(a.data, m) if m is not None and m.candidates else None
        succ = sorted(self.successors.get(i, []), key=lambda t: -t[1].score)
        out["successors"] = [{"account_id": a.data.accounts[j].id, "handle": a.data.accounts[j].handle,
                              "status": a.data.accounts[j].status, "score": c.score, "evidence": c.evidence,
                              "evidence_profile": c.profile,
                              "likely": bool(c.score >= THRESHOLD)} for j, c in succ]
        out["groups"] = [{"group": gi, **group_summary(a.data, self.groups[gi], max_bursts=5)}
                         for gi in self.groups_of.get(i, [])]
        return out

    def community(self, c: int, *, top: int = 10) -> dict[str, Any]:
        """Size, risk, key actors (by risk and by PageRank), bridging members, links to other communities and
        how much of the members' posting the detector flagged."""
        a = self.analysis
        members = a.communities.members(c)
        st = a.data.stats
        posts = float(st.posts[members].sum())
        flagged = float(st.flagged_originals[members].sum() + st.flagged_reposts[members].sum())
        memb = a.communities.membership
        u, v, w = a.graph.undirected()
        cu, cv = memb[u], memb[v]
        out_w = np.concatenate([w[(cu == c) & (cv != c)], w[(cv == c) & (cu != c)]])
        other = np.concatenate([cv[(cu == c) & (cv != c)], cu[(cv == c) & (cu != c)]])
        links = []
        if len(other):
            tot = np.bincount(other, out_w)
            for o in np.argsort(-tot)[:10]:
                if tot[o] > 0:
                    links.append({"community": int(o), "weight": round(float(tot[o]), 2),
                                  "size": int(a.communities.sizes[o])})
        part = a.bridges.participation[members]
        bridging = members[np.argsort(-part * np.log1p(a.betweenness[members]), kind="stable")[:top]]
        by_risk = members[np.argsort(-a.risk.score[members], kind="stable")[:top]]
        by_pr = members[np.argsort(-a.pagerank[members], kind="stable")[:top]]
        internal = float(w[(cu == c) & (cv == c)].sum())
        return {
            "community": c, "size": int(len(members)),
            "mean_risk": round(float(a.risk.score[members].mean()), 4) if len(members) else 0.0,
            "max_risk": round(float(a.risk.score[members].max()), 4) if len(members) else 0.0,
            "accounts_posting_flagged": int((st.flagged_originals[members] > 0).sum()),
            "posts": int(posts), "flagged_posts": int(flagged),
            "flagged_share": round(flagged / posts, 4) if posts else 0.0,
            "suspended": int(sum(1 for i in members if a.data.accounts[i].gone)),
            "internal_weight": round(internal, 2), "external_weight": round(float(out_w.sum()), 2),
            "key_actors": [account_summary(a, int(i)) for i in by_risk],
            "by_pagerank": [account_summary(a, int(i), explain=False) for i in by_pr],
            "bridges": [account_summary(a, int(i), explain=False) for i in bridging if a.bridges.participation[i] > 0],
            "links": links,
            "groups": sorted({gi for i in members.tolist() for gi in self.groups_of.get(i, [])}),
        }
