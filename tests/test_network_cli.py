"""`basira network ...` on a small simulated platform (posts flagged by their ground-truth labels)."""

from __future__ import annotations

import orjson
import pytest
from typer.testing import CliRunner

from basira.cli import app
from basira.ingest import ingest_file
from basira.network.evaluate import mark_suspensions
from basira.store import open_store
from basira.store.detections import add_detections


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    from basira.simulate import simulate_platform

    d = tmp_path_factory.mktemp("netcli")
    simulate_platform(800, 3, str(d / "p"))
    path = str(d / "net.db")
    s = open_store(path)
    ingest_file(s, str(d / "p" / "tweets.jsonl"))
    ingest_file(s, str(d / "p" / "follows.jsonl"))
    truth = orjson.loads((d / "p" / "ground_truth.json").read_bytes())
    mark_suspensions(s, truth)
    ids = s.post_ids("x", truth["posts"])
    with s.transaction() as tx:
        add_detections(tx, [{"post_id": pid, "model_version": "truth", "score": 0.99 * truth["posts"][ext]["label"]}
                          for ext, pid in ids.items()])
    s.close()
    return path, str(d / "p" / "ground_truth.json"), d


def run(*args: str) -> dict:
    r = CliRunner().invoke(app, ["network", *args])
    assert r.exit_code == 0, r.output
    return orjson.loads(r.stdout)


def test_build_and_export(db):
    path, _, d = db
    out = run("build", "--db", path, "--json", "--gexf", str(d / "g.gexf"), "--graphml", str(d / "g.graphml"))
    assert out["edges"] > 0 and out["by_kind"]["follow"] > 0 and out["by_kind"]["repost"] > 0
    assert (d / "g.gexf").exists() and (d / "g.graphml").exists()
    windowed = run("build", "--db", path, "--json", "--since", "2024-04-01", "--until", "2024-04-15")
    assert windowed["by_kind"]["repost"] < out["by_kind"]["repost"]


def test_communities_actors_and_cases(db):
    path, _, _ = db
    out = run("communities", "--db", path, "--json", "--open-cases", "0.4")
    assert out["cases_opened"], out["communities"][:3]
    again = run("communities", "--db", path, "--json", "--open-cases", "0.4")
    assert again["cases_opened"] == []  # one open case per community anchor
    actors = run("actors", "--db", path, "--json", "--top", "5")["actors"]
    assert len(actors) == 5 and actors[0]["why"]
    assert run("actors", "--db", path, "--json", "--by", "bridges")["actors"]
    r = CliRunner().invoke(app, ["network", "actors", "--db", path, "--by", "nonsense"])
    assert r.exit_code == 2


def test_returning_coordinated_evaluate(db):
    path, truth, _ = db
    ret = run("returning", "--db", path, "--json")["returning"]
    assert ret and all(r["likely_returning"] for r in ret)
    assert ret[0]["candidates"][0]["evidence"]
    groups = run("coordinated", "--db", path, "--json")["groups"]
    assert groups and groups[0]["bursts"][0]["shares"]
    report = run("evaluate", "--db", path, "--truth", truth, "--json")
    assert {"nmi_all", "hub_precision_at_10", "returning", "coordinated"} <= report.keys()
    r = CliRunner().invoke(app, ["network", "returning", "--db", path])
    assert r.exit_code == 0 and "returning accounts" in r.stdout
