"""An explainable account risk score: the detector's verdicts on the account's own posts plus its neighbourhood.

risk = sum of weight x component, each component in [0, 1] (see RISK_WEIGHTS and docs/network.md):
  content       1 - exp(-flagged original posts / 5)
  amplified     1 - exp(-flagged reposts/quotes/forwards of its posts by others / 20)
  neighbourhood share of its interaction weight spent with accounts that post flagged material
  community     mean "posts flagged material" of its community (communities of 3+ accounts)
  centrality    PageRank percentile
  hyperactivity robust z-score of posts per active day, / 3, clipped to [0, 1]
  lineage       the final risk of the suspended account this one is likely the return of (0 if none)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from basira.network.graph import AMPLIFYING, Graph

RISK_WEIGHTS: dict[str, float] = {
    "content": 0.30,
    "amplified": 0.17,
    "neighbourhood": 0.13,
    "community": 0.08,
    "centrality": 0.08,
    "hyperactivity": 0.09,
    "lineage": 0.15,
}
# Scales chosen on the tuning seeds (docs/network.md): a member with 10 flagged posts should not look like
# a hub with 100.
CONTENT_SCALE = 20.0
AMPLIFIED_SCALE = 60.0


@dataclass
class ActivityStats:
    """Per-node counts from the posts in the window."""

    posts: np.ndarray  # all posts, reposts included
    flagged_originals: np.ndarray  # flagged posts that are not reposts
    flagged_reposts: np.ndarray
    active_days: np.ndarray  # days between first and last post (at least 1)

    @classmethod
    def zeros(cls, n: int) -> ActivityStats:
        z = np.zeros(n)
        return cls(z.copy(), z.copy(), z.copy(), np.ones(n))


@dataclass
class RiskScores:
    score: np.ndarray
    components: dict[str, np.ndarray]
    weights: dict[str, float]
    stats: ActivityStats
    membership: np.ndarray
    community_sizes: np.ndarray
    community_flagged: np.ndarray  # accounts posting flagged material, per community
    amplifications: np.ndarray  # flagged amplifying edges into each node
    amplifiers: np.ndarray  # distinct accounts behind them
    amplifier_community: np.ndarray  # the community most of them belong to (-1: none)
    rate: np.ndarray
    rate_z: np.ndarray
    pagerank_pct: np.ndarray
    neighbour_share: np.ndarray = field(default=None)  # type: ignore[assignment]
    predecessor: np.ndarray = field(default=None)  # type: ignore[assignment]  # node this one returns as, -1
    labels: list[str] | None = None  # node names for explanations

    def top(self, k: int = 10) -> np.ndarray:
        return np.argsort(-self.score, kind="stable")[:k]

    def contributions(self, node: int) -> dict[str, float]:
        return {name: round(float(self.weights[name] * c[node]), 4) for name, c in self.components.items()}

    def explain(self, node: int, limit: int = 4) -> list[str]:
        """Plain-language reasons for the node's score, strongest first, in the current language
        (basira.core.i18n: English unless a face chose one; plural forms and numbers by language)."""
        from basira.core.i18n import gettext as _
        from basira.core.i18n import ngettext, number

        s = self.stats
        parts: list[tuple[float, str]] = []
        w = self.contributions(node)
        flagged, posts = int(s.flagged_originals[node]), int(s.posts[node])
        if flagged or s.flagged_reposts[node]:
            reposts = int(s.flagged_reposts[node])
            msg = (ngettext("%(num)s flagged post of %(posts)s (and %(reposts)s flagged reposts)",
                            "%(num)s flagged posts of %(posts)s (and %(reposts)s flagged reposts)", flagged,
                            num=number(flagged), posts=number(posts), reposts=number(reposts)) if reposts else
                   ngettext("%(num)s flagged post of %(posts)s", "%(num)s flagged posts of %(posts)s", flagged,
                            num=number(flagged), posts=number(posts)))
            parts.append((w["content"] + 1e-9, msg))
        if self.amplifications[node]:
            times, by = int(self.amplifications[node]), int(self.amplifiers[node])
            if self.amplifier_community[node] >= 0:
                msg = ngettext("flagged posts amplified %(times)s times by %(num)s account, mostly community %(c)s",
                               "flagged posts amplified %(times)s times by %(num)s accounts, mostly community %(c)s",
                               by, num=number(by), times=number(times), c=int(self.amplifier_community[node]))
            else:
                msg = ngettext("flagged posts amplified %(times)s times by %(num)s account",
                               "flagged posts amplified %(times)s times by %(num)s accounts", by, num=number(by),
                               times=number(times))
            parts.append((w["amplified"], msg))
        if self.components["neighbourhood"][node] > 0:
            parts.append((w["neighbourhood"], _("%(share)s of its interactions are with accounts posting flagged "
                                                "material", share=_percent(self.components["neighbourhood"][node]))))
        c = int(self.membership[node])
        if self.components["community"][node] > 0:
            parts.append((w["community"], ngettext(
                "community %(c)s: %(flagged)s of %(num)s account post flagged material",
                "community %(c)s: %(flagged)s of %(num)s accounts post flagged material",
                int(self.community_sizes[c]), num=number(int(self.community_sizes[c])), c=c,
                flagged=number(int(self.community_flagged[c])))))
        if self.pagerank_pct[node] >= 0.9:
            top = max(1, round(100 * (1 - self.pagerank_pct[node])))
            parts.append((w["centrality"], _("PageRank in the top %(share)s", share=_percent(top / 100))))
        if self.predecessor is not None and self.predecessor[node] >= 0:
            p = int(self.predecessor[node])
            name = self.labels[p] if self.labels else _("account %(id)s", id=p)
            parts.append((w["lineage"], _("likely the return of %(name)s (risk %(risk)s)", name=name,
                                          risk=number(round(float(self.score[p]), 2), 2))))
        if self.rate_z[node] >= 2:
            parts.append((w["hyperactivity"], _("hyperactive: %(rate)s posts/day (z = %(z)s)",
                                                rate=number(round(float(self.rate[node]), 1), 1),
                                                z=number(round(float(self.rate_z[node]), 1), 1))))
        parts.sort(key=lambda p: -p[0])
        return [m for _, m in parts[:limit]]


def _percent(share: float) -> str:
    from basira.core.i18n import percent

    return percent(float(share), 0)


def risk_scores(
    graph: Graph,
    membership: np.ndarray,
    stats: ActivityStats,
    pagerank_values: np.ndarray,
    *,
    weights: dict[str, float] | None = None,
    lineage: Sequence[tuple[int, int]] = (),
    labels: list[str] | None = None,
) -> RiskScores:
    """Score every node; see the module docstring for the components. `lineage` lists (new node, suspended
    node it likely returns as) pairs, oldest first, so a chain of returns carries its risk forward."""
    from basira.network.structure import hyperactivity, percentile_rank

    n = graph.n
    wts = dict(RISK_WEIGHTS)
    wts.update(weights or {})
    content = 1 - np.exp(-stats.flagged_originals / CONTENT_SCALE)
    e = graph.edges
    amp = np.isin(e.kind, AMPLIFYING) & e.flagged & (e.src != e.dst)
    amplifications = np.bincount(e.dst[amp], minlength=n).astype(float)
    pairs = np.unique(np.column_stack((e.dst[amp], e.src[amp])), axis=0) if amp.any() else np.zeros((0, 2), np.int64)
    amplifiers = np.bincount(pairs[:, 0], minlength=n).astype(float) if len(pairs) else np.zeros(n)
    amplified = 1 - np.exp(-amplifications / AMPLIFIED_SCALE)
    # An account "posts flagged material" if it wrote or reposted a few flagged posts.
    posts_flagged = np.maximum(content, 1 - np.exp(-stats.flagged_reposts / CONTENT_SCALE))
    u, v, w = graph.undirected()
    strength = np.bincount(u, w, n) + np.bincount(v, w, n)
    risky_w = np.bincount(u, w * posts_flagged[v], n) + np.bincount(v, w * posts_flagged[u], n)
    neighbourhood = np.divide(risky_w, strength, out=np.zeros(n), where=strength > 0)
    sizes = np.bincount(membership, minlength=int(membership.max()) + 1 if n else 0)
    comm_mean = np.divide(np.bincount(membership, posts_flagged, len(sizes)), sizes,
                          out=np.zeros(len(sizes)), where=sizes > 0)
    comm_mean[sizes < 3] = 0.0
    community = comm_mean[membership] if n else np.zeros(0)
    community_flagged = np.bincount(membership, posts_flagged >= 0.5, len(sizes))
    pr_pct = percentile_rank(pagerank_values)
    rate, z = hyperactivity(stats.posts, stats.active_days)
    hyper = np.clip(z / 3, 0, 1)
    components = {
        "content": content,
        "amplified": amplified,
        "neighbourhood": neighbourhood,
        "community": community,
        "centrality": pr_pct,
        "hyperactivity": hyper,
        "lineage": np.zeros(n),
    }
    score = np.asarray(sum(wts[k] * c for k, c in components.items()), float)
    predecessor = np.full(n, -1, np.int64)
    for new, old in lineage:
        components["lineage"][new] = score[old]
        score[new] += wts["lineage"] * score[old]
        predecessor[new] = old
    amp_comm = np.full(n, -1, np.int64)
    if amp.any():
        dc = np.column_stack((e.dst[amp], membership[e.src[amp]]))
        uniq, counts = np.unique(dc, axis=0, return_counts=True)
        order = np.lexsort((-counts, uniq[:, 0]))
        uniq = uniq[order]
        first = np.ones(len(uniq), bool)
        first[1:] = uniq[1:, 0] != uniq[:-1, 0]
        amp_comm[uniq[first, 0]] = uniq[first, 1]
    return RiskScores(
        score=score, components=components, weights=wts, stats=stats, membership=membership,
        community_sizes=sizes, community_flagged=community_flagged, amplifications=amplifications,
        amplifiers=amplifiers, amplifier_community=amp_comm, rate=rate, rate_z=z, pagerank_pct=pr_pct,
        neighbour_share=neighbourhood, predecessor=predecessor, labels=labels,
    )
