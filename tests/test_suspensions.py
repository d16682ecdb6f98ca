"""Suspensions as platforms export them: X API v2 suspended-user error objects keyed by the user id (not a
ghost account named after the username), the simulator's users lookup and suspended-accounts list, and the
returning accounts they let Basira find after an ordinary scan."""

from __future__ import annotations

import orjson

from basira.ingest import ingest_file
from basira.ingest.x_v2 import records_from_response
from basira.network.evaluate import evaluate
from basira.network.load import load_network_data

PROBLEM = "https://api.twitter.com/2/problems/resource-not-found"


def err(value: str, parameter: str, **extra) -> dict:
    return {"value": value, "detail": f"User has been suspended: [{value}].", "title": "Forbidden",
            "resource_type": "user", "parameter": parameter, "resource_id": value, "type": PROBLEM, **extra}


def accounts_of(resp: dict) -> list:
    return [r for _, r in records_from_response(resp, "f.jsonl", 1) if hasattr(r, "status")]


def test_suspended_user_errors_are_keyed_by_user_id():
    by_ids = accounts_of({"errors": [err("2881117795", "ids")]})
    assert [(a.external_id, a.status, a.match_handle) for a in by_ids] == [("2881117795", "suspended", False)]
    # An expansion by username: the response's own mention entity gives the id.
    resp = {"data": [{"id": "9", "text": "hi @gone_acc", "author_id": "1",
                      "entities": {"mentions": [{"start": 3, "end": 12, "username": "gone_acc", "id": "777"}]}}],
            "includes": {"users": [{"id": "1", "username": "alive"}]},
            "errors": [err("gone_acc", "entities.mentions.username", section="includes")]}
    sus = [a for a in accounts_of(resp) if a.status == "suspended"]
    assert [(a.external_id, a.handle) for a in sus] == [("777", "gone_acc")]
    # By username with nothing in the response to resolve it: the store resolves it by handle.
    (a,) = accounts_of({"errors": [err("Someone", "usernames")]})
    assert a.match_handle and a.handle == "Someone"


def test_username_suspension_lands_on_the_stored_account(store, tmp_path):
    f = tmp_path / "x.jsonl"
    f.write_bytes(orjson.dumps({"data": [{"id": "1", "text": "hello", "author_id": "42"}],
                                "includes": {"users": [{"id": "42", "username": "Umm_Asma"}]}}) + b"\n"
                  + orjson.dumps({"errors": [err("umm_asma", "usernames"), err("never_seen", "usernames")]}) + b"\n")
    ingest_file(store, str(f))
    rows = {a.external_id: vars(a) for a in load_network_data(store).accounts}
    assert rows["42"]["status"] == "suspended" and rows["42"]["handle"] == "Umm_Asma"
    assert "@umm_asma" not in rows  # no ghost
    assert rows["@never_seen"]["status"] == "suspended"  # kept, under its handle, until its id is known


def test_simulated_platform_exports_suspensions_and_returning_accounts_are_found(store, tmp_path):
    from basira.simulate import simulate_platform

    d = tmp_path / "p"
    s = simulate_platform(600, 5, str(d))
    assert (d / "users_lookup.jsonl").exists() and (d / "suspended_accounts.jsonl").exists()
    truth = orjson.loads((d / "ground_truth.json").read_bytes())
    suspended = {x for x, a in truth["accounts"].items() if a["status"] == "suspended"}
    line = orjson.loads((d / "users_lookup.jsonl").read_bytes().splitlines()[0])
    assert set(line) <= {"data", "errors"}
    listed = [orjson.loads(x) for x in (d / "suspended_accounts.jsonl").read_bytes().splitlines()]
    assert {x["id"] for x in listed} == suspended and all(x["suspended_at"] for x in listed)
    for name in ("tweets.jsonl", "follows.jsonl", "users_lookup.jsonl", "suspended_accounts.jsonl"):
        ingest_file(store, str(d / name))
    data = load_network_data(store)
    gone = {a.external_id for a in data.accounts if a.gone}
    assert gone == suspended == {a.external_id for a in data.accounts if a.gone_at is not None}
    r = evaluate(data, truth)["returning"]
    assert s.returning and r["true_pairs"] > 0 and r["correct"] > 0 and r["precision"] >= 0.9, r
    # What `basira demo` prints after its scan: the likely returning accounts, each with its evidence.
    from rich.console import Console

    from basira.cli.scan import _print_returning

    console = Console(record=True, width=300)
    _print_returning(console, store)
    text = console.export_text()
    assert f"{r['predicted']:,} likely returning accounts among {len(suspended):,} suspended" in text
    assert " was @" in text and "days later" in text


def test_stored_threads_make_co_activity_edges_and_reach_the_matcher(store, tmp_path):
    from basira.network.analysis import build
    from basira.network.graph import KIND

    rows = [{"type": "post", "platform": "forum", "id": f"p{i}", "account_id": a, "handle": h, "text": f"post {i}",
             "created_at": f"2024-05-01T10:{10 * i:02d}:00Z", "page": "Talk:Some page"}
            for i, (a, h) in enumerate((("1", "alpha"), ("2", "beta")))]
    f = tmp_path / "forum.jsonl"
    f.write_bytes(b"\n".join(orjson.dumps(r) for r in rows) + b"\n")
    ingest_file(store, str(f))
    data = load_network_data(store)
    g = build(data)
    assert int((g.edges.kind == KIND["co_thread"]).sum()) == 1
    assert data.profile(0).threads == frozenset({"Talk:Some page"})
