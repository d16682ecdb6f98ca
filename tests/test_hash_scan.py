"""`basira scan` matches ingested posts against the banks: cases opened or raised, vetoes, no duplicates."""

from __future__ import annotations

import orjson
from typer.testing import CliRunner

from basira import banks as repo
from basira.cases.manual import open_case_for
from basira.cases.priority import HASH_MATCH_CONFIDENCE, WEIGHTS, PrioritySignals, components
from basira.cases.records import TopCase
from basira.cases.views import top_cases
from basira.cli import app
from basira.scan import scan_paths
from basira.signals.exchange import BankEntry

PDQ = "f" * 16 + "0" * 16 + "a5" * 16
SHA = "ab" * 32
BANKED_TEXT = ("Brothers, the caravan is leaving: pack your bags and message the recruiter on the usual channel "
               "before the border closes this winter")
ALLOWED_TEXT = "Reuters report: authorities arrested a cell that published recruitment calls in the north"


def near(k: int) -> str:
    v = int(PDQ, 16)
    for b in range(k):
        v ^= 1 << (b * 7)
    return f"{v:064x}"


def write_posts(path, posts) -> str:
    lines = [{"type": "post", "platform": "forum", "account_id": f"a{p['id']}", **p} for p in posts]
    path.write_bytes(b"\n".join(orjson.dumps(x) for x in lines) + b"\n")
    return str(path)


def fixture_posts() -> list[dict]:
    return [
        # light edits of the banked text: a near-duplicate
        {"id": "1", "text": BANKED_TEXT.replace("winter", "winter!!").upper()},
        {"id": "2", "text": "a photo from my holiday", "media": [{"url": "x.jpg", "kind": "photo", "pdq": near(9)}]},
        {"id": "3", "text": "another picture", "media": [{"url": "y.jpg", "kind": "photo", "sha256": SHA}]},
        {"id": "4", "text": ALLOWED_TEXT},  # in the bank and in the allow-list: vetoed
        {"id": "5", "text": "nothing to see here, just the weather"},
    ]


def setup_banks(store) -> dict[str, int]:
    with store.transaction() as tx:
        repo.create_bank(tx, "tat", thresholds={"pdq": 20})
        repo.create_bank(tx, "allow", negative=True)
        repo.add_entries(tx, "tat", [
            BankEntry.make("text_minhash", _minhash(BANKED_TEXT), labels={"entity": "IS", "content_type": "call"}),
            BankEntry.make("pdq", PDQ, labels={"entity": "IS", "behaviour": "recruitment"}),
            BankEntry.make("sha256", SHA, labels={"entity": "AQ"}),
            BankEntry.make("text_minhash", _minhash(ALLOWED_TEXT), labels={"entity": "news"}),
        ])
        repo.add_entries(tx, "allow", [BankEntry.make("text_minhash", _minhash(ALLOWED_TEXT))])
    return {it.signal_type + ":" + it.bank + ":" + str(it.labels.get("entity")): it.id
            for it in repo.iter_items(store)}


def _minhash(text: str) -> str:
    from basira.signals import get_signal_type

    return get_signal_type("text_minhash").hash_text(text)


def post_case(store, external_id: str) -> TopCase | None:
    cases = [c for c in top_cases(store, 100) if c.post_external_id == external_id]
    return cases[0] if cases else None


def match_rows(store, external_id: str) -> list[dict]:
    return repo.matches_for(store, f"post:{store.get_post('forum', external_id)['id']}")


def test_scan_matches_posts_opens_cases_vetoes_and_rescan_adds_nothing(store, tmp_path):
    items = setup_banks(store)
    src = write_posts(tmp_path / "posts.jsonl", fixture_posts())
    s = scan_paths(store, [src], workers=1)
    assert s.hash_matches == 3
    for ext, signal_type, entity in (("1", "text_minhash", "IS"), ("2", "pdq", "IS"), ("3", "sha256", "AQ")):
        case = post_case(store, ext)
        assert case is not None and "hash match: bank 'tat'" in case.reason, ext
        assert f"item {items[f'{signal_type}:tat:{entity}']}" in case.reason
        # The harm term is at least a lone hash match's (confidence 0.97, severity 0.5 unless a label names one)
        floor = WEIGHTS["harm"] * components(PrioritySignals(hash_matches=1))["harm"]
        assert case.priority >= floor - 1e-6 and floor > 0.4 * 55 * HASH_MATCH_CONFIDENCE * 0.5
        (row,) = match_rows(store, ext)
        assert row.bank == "tat" and row.status == "match" and row.signal_type == signal_type
    assert match_rows(store, "2")[0].distance == 9
    # The PDQ item is labelled behaviour=recruitment: severity 0.9 instead of the default 0.5.
    assert post_case(store, "2").priority > post_case(store, "3").priority
    from basira.cases.prioritize import explain  # after the scan's own priority pass, from what is stored
    assert explain(store, post_case(store, "2").case_id).inputs["categories"] == ("recruitment",)
    assert explain(store, post_case(store, "3").case_id).inputs["categories"] == ()
    # Post 4 matches the bank and the allow-list: recorded as vetoed, no case from the hash.
    assert {r.status for r in match_rows(store, "4")} == {"vetoed"}
    assert post_case(store, "4") is None or "hash match" not in post_case(store, "4").reason
    assert match_rows(store, "5") == []

    def state():
        c = store.counts()
        c.pop("events")  # each scan logs scan.completed
        return c, store.count_events("case.opened"), store.count_events("case.hash_matched"), top_cases(store, 100)

    before = state()
    again = scan_paths(store, [src], workers=1)
    assert again.hash_matches == 0 and again.cases_new == 0
    assert state() == before
    assert [len(match_rows(store, e)) for e in "12345"] == [1, 1, 1, 1, 0]
    # A new item sends the pass back over every post; what was matched before is not recorded again.
    with store.transaction() as tx:
        repo.add_entries(tx, "tat", [BankEntry.make("md5", "0" * 32)])
    assert repo.scan_resume_point(store)[0] == 0
    assert scan_paths(store, [src], workers=1).hash_matches == 0
    assert state() == before and [len(match_rows(store, e)) for e in "12345"] == [1, 1, 1, 1, 0]
    assert repo.scan_resume_point(store)[0] == store.get_post("forum", "5")["id"]
    assert store.verify_events() == (True, None)


def test_scan_raises_an_open_case_and_new_bank_items_find_old_posts(store, tmp_path):
    src = write_posts(tmp_path / "posts.jsonl", fixture_posts())
    first = scan_paths(store, [src], workers=1)  # no banks: nothing matched, no checkpoint
    assert first.hash_matches == 0
    post = store.get_post("forum", "5")
    with store.transaction() as tx:
        case_id, opened = open_case_for(tx, "post", post["id"], "reported by a user", priority=5.0)
    assert opened
    with store.transaction() as tx:
        repo.create_bank(tx, "late")
        repo.add_entries(tx, "late", [BankEntry.make("text_minhash", _minhash(fixture_posts()[4]["text"]),
                                                        labels={"entity": "<b>x</b>"})])
    s = scan_paths(store, [src], workers=1)  # nothing new to ingest; the new item is matched against old posts
    assert (s.hash_matches, s.hash_cases_raised, s.cases_new) == (1, 1, 0)
    case = post_case(store, "5")
    assert case.case_id == case_id and case.priority > 5.0
    assert case.reason.startswith("reported by a user; hash match: bank 'late' item ")
    assert store.count_events("case.hash_matched") == 1
    assert scan_paths(store, [src], workers=1).hash_matches == 0
    assert store.count_events("case.hash_matched") == 1


def test_scan_json_reports_hash_matches(tmp_path):
    db = f"sqlite:///{tmp_path / 'b.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["banks", "create", "tat", "--db", db]).exit_code == 0
    bank_file = tmp_path / "bank.te"
    bank_file.write_text(f"sha256 {SHA}\n")
    assert runner.invoke(app, ["banks", "import", "tat", str(bank_file), "--db", db]).exit_code == 0
    src = write_posts(tmp_path / "posts.jsonl", fixture_posts())
    res = runner.invoke(app, ["scan", src, "--db", db, "--json"])
    assert res.exit_code == 0, res.output
    out = orjson.loads(res.stdout)
    assert out["hash_matches"] == 1 and out["cases_new"] >= 1
