"""Pure network algorithms: graph building, communities, key actors, risk, coordination, returning accounts."""

from __future__ import annotations

import numpy as np
import pytest

from basira.network.coordinated import find_bursts, find_coordinated_groups
from basira.network.graph import KIND, NO_TIME, Edges, build_graph, kind_counts
from basira.network.returning import Profile, find_returning, fold_handle, skeleton
from basira.network.risk import ActivityStats, risk_scores
from basira.network.sharing import co_sharing_edges, content_key, shares_from_rows
from basira.network.structure import (
    approximate_betweenness,
    detect_communities,
    find_bridges,
    hyperactivity,
    pagerank,
)


def two_cliques(size: int = 6, bridge: bool = True) -> Edges:
    rows = []
    for base in (0, size):
        for i in range(size):
            for j in range(size):
                if i != j:
                    rows.append((base + i, base + j, "repost", 100))
    if bridge:
        rows.append((0, size, "mention", 100))
    return Edges.from_rows(rows)


def test_build_graph_aggregates_and_windows():
    e = Edges.from_rows([(0, 1, "repost", 10), (0, 1, "repost", 20), (0, 1, "mention", 30), (1, 1, "reply", 10),
                         (2, 0, "follow", NO_TIME), (1, 2, "quote", 99)])
    g = build_graph(e, 3)
    pairs = {(int(s), int(d)): w for s, d, w in zip(g.src, g.dst, g.weight, strict=True)}
    assert pairs == {(0, 1): 2 * 2.0 + 1.0, (2, 0): 0.5, (1, 2): 1.5}  # self-loop dropped
    g2 = build_graph(e, 3, since=15, until=50)
    pairs2 = {(int(s), int(d)) for s, d in zip(g2.src, g2.dst, strict=True)}
    assert pairs2 == {(0, 1), (2, 0)}  # follows have no time and stay
    assert kind_counts(g.edges, 3, "repost").tolist() == [0, 2, 0]
    g3 = build_graph(e, 3, weights={"repost": 10}, kinds=["repost"])
    assert g3.weight.tolist() == [20.0]


def test_communities_split_cliques_and_are_reproducible():
    g = build_graph(two_cliques(), 12)
    c = detect_communities(g, seed=1)
    assert c.count == 2
    assert len(set(c.membership[:6])) == 1 and len(set(c.membership[6:])) == 1
    assert c.modularity > 0.4
    assert np.array_equal(c.membership, detect_communities(g, seed=1).membership)
    c2 = detect_communities(g, method="leidenalg")
    assert c2.count == 2
    with pytest.raises(ValueError):
        detect_communities(g, method="nope")


def test_pagerank_betweenness_bridges():
    # A star: everyone reposts node 0; node 0 and node 6 bridge two cliques.
    g = build_graph(two_cliques(), 12)
    pr = pagerank(g)
    assert pr.sum() == pytest.approx(1.0)
    star = build_graph(Edges.from_rows([(i, 0, "repost", 1) for i in range(1, 6)]), 6)
    assert int(np.argmax(pagerank(star))) == 0
    bt = approximate_betweenness(g, samples=100)
    assert set(np.argsort(-bt)[:2].tolist()) == {0, 6}
    bt_sampled = approximate_betweenness(g, samples=6, seed=3)
    assert bt_sampled.shape == (12,)
    comms = detect_communities(g)
    br = find_bridges(g, comms.membership)
    assert br.participation[0] > 0 and br.participation[1] == 0
    assert br.links and br.links[0][:2] == (0, 1)


def test_hyperactivity_flags_the_outlier():
    posts = np.array([1, 2, 1, 3, 2, 1, 200.0])
    rate, z = hyperactivity(posts, np.full(7, 10.0))
    assert rate[-1] == 20
    assert z[-1] > 3 > z[:-1].max()


def test_risk_score_explains_itself():
    # Node 0 posts flagged material that nodes 1-5 repost; node 6 is a bystander that mentions 0 once.
    rows = [(i, 0, "repost", 10 + i, True) for i in range(1, 6) for _ in range(8)] + [(6, 0, "mention", 5, False)]
    g = build_graph(Edges.from_rows(rows), 7)
    stats = ActivityStats(np.array([60, 8, 8, 8, 8, 8, 1.0]), np.array([30, 0, 0, 0, 0, 0, 0.0]),
                          np.array([0, 8, 8, 8, 8, 8, 0.0]), np.full(7, 10.0))
    m = np.zeros(7, np.int64)
    r = risk_scores(g, m, stats, pagerank(g))
    assert int(r.top(1)[0]) == 0
    assert r.score[0] > r.score[6]
    why = r.explain(0)
    assert why[0].startswith("30 flagged posts of 60")
    assert any("amplified 40 times by 5 accounts, mostly community 0" in w for w in why)
    assert sum(r.contributions(0).values()) == pytest.approx(r.score[0], abs=1e-3)


def test_content_key_ignores_links_mentions_and_retweet_prefix():
    a = content_key("rt <user>: the caravan is leaving, join before it is too late <url>")
    b = content_key("the caravan is leaving, join before it is too late")
    assert a == b is not None
    assert content_key("amen <url>") is None


def test_co_sharing_edges_link_only_within_window():
    s = shares_from_rows([(0, 100, "url", "u1"), (1, 200, "url", "u1"), (2, 99999, "url", "u1"),
                          (3, 100, "content", "c1"), (4, 150, "content", "c1"), (4, 160, "content", "c1")])
    e = co_sharing_edges(s, window=3600)
    pairs = {(int(a), int(b), int(k)) for a, b, k in zip(e.src, e.dst, e.kind, strict=True)}
    assert pairs == {(0, 1, KIND["co_url"]), (3, 4, KIND["co_content"])}


def test_coordinated_groups_need_repeats_and_keep_evidence():
    rows = []
    for item in range(4):  # accounts 0,1,2 share four items within a minute each
        for acc in (0, 1, 2):
            rows.append((acc, 1000 * item + 10 * acc, "repost", f"p{item}"))
    rows += [(7, 0, "repost", "p0"), (8, 5000, "repost", "p9"), (9, 5010, "repost", "p9")]  # once only
    rows += [(5, 0, "url", "x"), (6, 5000, "url", "x")]  # same link, far apart
    s = shares_from_rows(rows)
    assert len(find_bursts(s, window=600)) == 5
    groups = find_coordinated_groups(s, window=600, min_repeats=2, min_items=3)
    assert len(groups) == 1
    g = groups[0]
    assert g.accounts == [0, 1, 2] and g.items == 4
    assert all(b.end - b.start <= 600 for b in g.bursts)
    assert {b.item for b in g.bursts} >= {"repost: p0", "repost: p3"}


def test_handle_folding_and_skeletons():
    assert fold_handle("abu_khal1d") == "abukhalid"
    assert fold_handle("Bint_Safiyya2") == "bintsafiyya"
    for variants in (("sumayya", "sumaya", "somaya", "sumaiya"), ("khadija", "khadeeja", "khadijah", "hadija"),
                     ("muhammad", "mohammed", "mohamed", "mhmd")):
        assert len({skeleton(v) for v in variants}) == 1


def test_returning_accounts_ranked_with_evidence():
    day = 86_400
    old = [
        Profile(1, "umm_khadija", "أم خديجة", "الهجرة طريقي | الحساب 1", 0, 10 * day, "img1",
                followers=frozenset({50, 51, 52}), followees=frozenset({60, 61, 62, 63})),
        Profile(2, "news_daily", "Daily News", "breaking news", 0, 10 * day, "img2",
                followees=frozenset({70, 71})),
        Profile(3, "umm_khadija", "أم خديجة", "x", 0, 40 * day, "img9"),  # suspended after the new one appeared
    ]
    new = [
        Profile(10, "umm_khadeeja2", "أم خديـجة عودة", "الهجرة طريقي | الحساب 2", 11 * day, None, "img1",
                followers=frozenset({50, 51}), followees=frozenset({60, 61, 62, 99})),
        Profile(11, "someone_else", "Ordinary", "coffee", 12 * day, None, "img5", followees=frozenset({1000})),
    ]
    matches = find_returning(new, old)
    assert [m.account for m in matches] == [10]
    m = matches[0]
    assert m.likely and m.best is not None and m.best.account == 1
    assert all(c.account != 3 for c in m.candidates)  # a later suspension cannot be the origin
    ev = " ".join(m.best.evidence)
    assert "same profile image" in ev and "respelling" in ev and "shared follows" in ev
    assert m.best.features["handle_skeleton"] > 0  # scaled by the skeleton's length (4 consonants: 0.8)


def test_overlapping_squads_stay_apart():
    # Squad A = 0-3 and squad B = 3-6 share account 3; each shares its own items in lockstep.
    rows = []
    for item in range(4):
        for acc in (0, 1, 2, 3):
            rows.append((acc, 10_000 * item + acc, "content", f"a{item}"))
        for acc in (3, 4, 5, 6):
            rows.append((acc, 10_000 * item + 5_000 + acc, "content", f"b{item}"))
    groups = find_coordinated_groups(shares_from_rows(rows))
    assert sorted(g.accounts for g in groups) == [[0, 1, 2, 3], [3, 4, 5, 6]]
