"""Follows ingest, the network store queries, network-level cases, and the pipeline on a small simulation."""

from __future__ import annotations

import orjson
import pytest

from basira.cases.intake import SubjectError
from basira.cases.network import open_network_case
from basira.core.errors import InputError
from basira.ingest import detect_format, ingest_file
from basira.ingest.repository import upsert_posts
from basira.ingest.x_v2 import image_identity
from basira.network.analysis import (
    analyze,
    community_summaries,
    coordinated_groups,
    group_summary,
    key_actors,
    returning_accounts,
    returning_summary,
)
from basira.network.evaluate import evaluate, mark_suspensions
from basira.network.export import write_gexf, write_graphml
from basira.network.load import load_network_data
from basira.network.repository import count_follows, iter_follows, iter_network_posts, network_accounts
from basira.store import open_store
from basira.store.detections import add_detections


@pytest.fixture
def store(tmp_path):
    s = open_store(str(tmp_path / "net.db"))
    yield s
    s.close()


def test_follows_format_is_detected_and_ingested_idempotently(store, tmp_path):
    f = tmp_path / "follows.jsonl"
    f.write_text('{"source_id":"1","target_id":"2"}\n{"source_id":"2","target_id":"1"}\n'
                 '{"source_id":"1","target_id":"2"}\n{"source_id":"3"}\n{"source_id":4,"target_id":"1","platform":"x"}\n')
    assert detect_format(str(f)).name == "follows"
    r = ingest_file(store, str(f))
    assert r.follows_new == 3 and r.error_count == 1 and r.errors[0]["field"] == "target_id"
    assert count_follows(store) == 3
    ids = {a["external_id"]: a["id"] for a in network_accounts(store)}
    assert set(ids) == {"1", "2", "4"}
    pairs = {p for batch in iter_follows(store) for p in batch}
    assert (ids["1"], ids["2"]) in pairs and (ids["4"], ids["1"]) in pairs
    f2 = tmp_path / "again.jsonl"
    f2.write_text('{"source_id":"1","target_id":"2"}\n')
    assert ingest_file(store, str(f2)).follows_new == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"source_id":"7","target_id":"8"}\n{"source_id":"7","target_id":true}\n')
    with pytest.raises(InputError):
        ingest_file(store, str(bad), fmt="follows", on_error="stop")
    assert count_follows(store) == 4  # the good edge before the bad one is kept


def test_image_identity_ignores_size_suffix():
    a = image_identity("https://pbs.twimg.com/profile_images/1/abc_normal.jpg")
    assert a == image_identity("https://pbs.twimg.com/profile_images/1/abc_400x400.jpg")
    assert a != image_identity("https://pbs.twimg.com/profile_images/2/abc_normal.jpg")
    assert image_identity(None) is None


def test_open_network_case_once_per_anchor(store, tmp_path):
    f = tmp_path / "follows.jsonl"
    f.write_text('{"source_id":"1","target_id":"2"}\n')
    ingest_file(store, str(f))
    anchor = network_accounts(store)[0]["id"]
    cid, new = open_network_case(store, "community", anchor, "community 3: 12 accounts", priority=0.8,
                                 details={"members": [1, 2]})
    assert new
    cid2, new2 = open_network_case(store, "community", anchor, "again")
    assert (cid2, new2) == (cid, False)
    assert store.count_events("case.opened") == 1
    with pytest.raises(SubjectError):
        open_network_case(store, "planet", anchor, "x")


@pytest.fixture(scope="module")
def simulated(tmp_path_factory):
    """A small simulated platform in a store, posts flagged by their ground-truth labels (no detector)."""
    from basira.simulate import simulate_platform

    d = tmp_path_factory.mktemp("sim")
    simulate_platform(1500, 5, str(d / "p"))
    s = open_store(str(d / "sim.db"))
    ingest_file(s, str(d / "p" / "tweets.jsonl"))
    ingest_file(s, str(d / "p" / "follows.jsonl"))
    truth = orjson.loads((d / "p" / "ground_truth.json").read_bytes())
    mark_suspensions(s, truth)
    post_ids = s.post_ids("x", truth["posts"])
    with s.transaction() as tx:
        add_detections(tx, [{"post_id": pid, "model_version": "truth", "score": float(truth["posts"][ext]["label"])}
                          for ext, pid in post_ids.items()])
    data = load_network_data(s, flag_threshold=0.5)
    yield s, truth, data, d
    s.close()


def test_loader_builds_all_edge_kinds(simulated):
    s, truth, data, _ = simulated
    assert data.n == len(network_accounts(s))
    from basira.network.graph import EDGE_KINDS

    present = {EDGE_KINDS[k] for k in set(data.edges.kind.tolist())}
    assert {"mention", "reply", "repost", "quote", "follow"} <= present
    assert len(data.shares) > 0
    posts = [p for b in iter_network_posts(s, batch_size=500) for p in b]
    assert len(posts) == truth["summary"]["tweets"] and all("score" in p for p in posts)
    assert sum(1 for a in data.accounts if a.gone) == truth["summary"]["suspended"]
    assert all(a.image for a in data.accounts if a.handle)  # profile image identity from the URL


def test_pipeline_on_simulation_meets_targets(simulated, tmp_path):
    s, truth, data, _ = simulated
    a = analyze(data)
    r = evaluate(data, truth, analysis=a)
    assert r["nmi_networks"] >= 0.9
    assert r["network_precision_at_50"] >= 0.8
    ret = r["returning"]
    assert ret["precision"] >= 0.9 and ret["recall"] >= 0.8, ret
    assert r["coordinated"]["precision"] >= 0.8, r["coordinated"]
    top = key_actors(a, 5)
    assert top[0]["why"] and top[0]["risk"] >= top[-1]["risk"]
    comms = community_summaries(a)
    assert comms and comms[0]["accounts_posting_flagged"] > 0
    groups = coordinated_groups(data)
    g = group_summary(data, groups[0])
    assert g["bursts"] and all(len(b["shares"]) >= 2 for b in g["bursts"])
    rs = [returning_summary(data, m) for m in returning_accounts(data)]
    assert any(x["likely_returning"] and x["candidates"][0]["evidence"] for x in rs)
    gexf, graphml = tmp_path / "g.gexf", tmp_path / "g.graphml"
    write_gexf(a, str(gexf))
    write_graphml(a, str(graphml))
    import xml.etree.ElementTree as ET

    for p in (gexf, graphml):
        root = ET.parse(p).getroot()
        assert root is not None
    assert gexf.read_text().count("<node ") == data.n
    import igraph as ig

    g2 = ig.Graph.Read_GraphML(str(graphml))
    assert g2.vcount() == data.n and g2.ecount() == a.graph.n_edges
    assert "risk" in g2.vs.attributes()


def test_loader_uses_the_detectors_own_decision(store):
    from datetime import UTC, datetime

    from basira.ingest.records import PostRecord

    t0 = datetime(2024, 3, 1, tzinfo=UTC)
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("x", f"p{i}", "a1", f"text {i}", created_at=t0, handle="a") for i in range(3)])
    ids = store.post_ids("x", ["p0", "p1", "p2"])
    with store.transaction() as tx:
        add_detections(tx, [
            {"post_id": ids["p0"], "model_version": "m1", "score": 0.2, "evidence": {"flagged": True}},  # low-threshold model
            {"post_id": ids["p1"], "model_version": "m1", "score": 0.97, "evidence": {"flagged": False}},
            {"post_id": ids["p2"], "model_version": "m1", "score": 0.97},  # no decision stored: the threshold decides
        ])
    rows = {p["external_id"]: p for b in iter_network_posts(store) for p in b}
    assert (rows["p0"]["flagged"], rows["p1"]["flagged"], rows["p2"]["flagged"]) == (True, False, None)
    data = load_network_data(store, flag_threshold=0.9)
    assert data.stats.flagged_originals.sum() == 2  # p0 by decision, p2 by threshold
