"""Live exchanges through python-threatexchange's clients, against local fakes of TAT's hash list v2 and the
ThreatExchange Graph API (tests/exchange_fakes.py): incremental checkpoints stored, `deleted` honoured,
opinions written back."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from basira import banks as repo
from basira.core.settings import Settings
from basira.signals.exchange import ExchangeError
from tests.exchange_fakes import FakeTat, FakeThreatExchange, te_descriptor, te_update

pytest.importorskip("threatexchange")
from basira.signals.partners.live import open_source  # noqa: E402

TOKEN = "12345678|abcdefghijklmnopqrstuvwxyz012345"
APP = 12345678
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"  # threatexchange's own example hash


def _md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def tat_rec(i: int, alg: str, digest: str, updated: float, *, deleted: bool = False) -> dict:
    return {"hash_digest": digest, "algorithm": alg, "ideology": "islamist", "file_type": "mp4", "deleted": deleted,
            "updated_on": updated, "created_on": "2025-12-01T00:00:00Z", "id": i}


def tat_settings(fake: FakeTat, password: str = "tcap-pass") -> Settings:
    return Settings.from_env({"BASIRA_TAT_USERNAME": "tcap-user", "BASIRA_TAT_PASSWORD": password,
                              "BASIRA_TAT_URL": fake.base})


def test_tat_sync_pages_checkpoint_deleted_and_errors(store):
    with store.transaction() as tx:
        repo.create_bank(tx, "tat")
    sha512 = hashlib.sha512(b"synthetic-3").hexdigest()
    with FakeTat() as fake:
        fake.records = [tat_rec(1, "MD5", _md5("synthetic-1"), 100.0),
                        tat_rec(2, "SHA256", hashlib.sha256(b"synthetic-2").hexdigest(), 101.0),
                        tat_rec(3, "SHA512", sha512, 102.0),
                        tat_rec(4, "PDQ", PDQ, 103.0),
                        tat_rec(5, "MD5", _md5("synthetic-5"), 104.0, deleted=True)]
        res = repo.sync_exchange(store, "tat", open_source("tat", tat_settings(fake)), actor="test")
        assert (res.pages, res.entries, res.added, res.withdrawn, res.full) == (3, 5, 4, 1, True)
        assert repo.get_sync_checkpoint(store, "tat", "tat")["after"] == "104.0,5"
        items = {it.signal: it for it in repo.iter_items(store, "tat")}
        assert items[sha512].signal_type == "sha512" and items[sha512].labels["ideology"] == "islamist"
        m = repo.load_matcher(store)
        assert m.match("pdq", PDQ).matched and m.match("sha512", sha512).matched
        assert not m.match("md5", _md5("synthetic-5")).matched  # deleted=true: withdrawn, never a positive
        assert [e.external_id for e in repo.entries_of(store, "tat")] == ["1", "2", "3", "4", "5"]

        # TAT withdraws the PDQ and adds one: the next sync asks only for what came after its checkpoint.
        fake.records += [tat_rec(4, "PDQ", PDQ, 105.0, deleted=True), tat_rec(6, "MD5", _md5("synthetic-6"), 106.0)]
        n = len(fake.requests)
        res = repo.sync_exchange(store, "tat", open_source("tat", tat_settings(fake)), actor="test")
        gets = [q for method, path, q, _ in fake.requests[n:] if method == "GET"]
        assert gets and all(q.get("after") == ["104.0,5"] for q in gets)
        assert (res.entries, res.added, res.withdrawn, res.full) == (2, 1, 1, False)
        m = repo.load_matcher(store)
        assert not m.match("pdq", PDQ).matched and m.match("pdq", PDQ).disabled
        assert m.match("md5", _md5("synthetic-6")).matched

        with pytest.raises(ExchangeError, match="tat: HTTP 400"):
            repo.sync_exchange(store, "tat", open_source("tat", tat_settings(fake, "wrong")))
    with pytest.raises(ExchangeError, match="BASIRA_TAT_USERNAME"):
        open_source("tat", Settings.from_env({}))
    assert repo.get_sync_checkpoint(store, "tat", "tat")["after"] == "106.0,6"


def _te_group() -> list[dict]:
    return [
        te_update(1, "HASH_PDQ", PDQ, 1000, descriptors=[te_descriptor(11, 777, tags=("synthetic_tag",)),
                                                          te_descriptor(12, 888)]),
        te_update(2, "HASH_VIDEO_MD5", _md5("te-video"), 1001, descriptors=[te_descriptor(21, 777)]),
        te_update(3, "URI", "https://Example.org/Synthetic?utm_source=x", 1002,
                  descriptors=[te_descriptor(31, 777, status="NON_MALICIOUS")]),
        te_update(4, "HASH_PDQ", "0" * 63 + "1", 1003, should_delete=True),  # a tombstone for something never held
    ]


def test_threatexchange_sync_checkpoint_delete_and_react(store, db_url, monkeypatch):
    with store.transaction() as tx:
        repo.create_bank(tx, "te")
    with FakeThreatExchange(TOKEN) as fake:
        fake.groups[303] = _te_group()
        s = Settings.from_env({"BASIRA_TE_TOKEN": TOKEN, "BASIRA_TE_URL": fake.base})
        res = repo.sync_exchange(store, "te", open_source("threatexchange:303", s), actor="test")
        assert res.pages == 2 and res.full and res.added == 3
        first = [q for m, p, q, _ in fake.requests if m == "GET"][0]
        assert "start_time" not in first and "descriptors{" in first["fields"][0]
        cp = repo.get_sync_checkpoint(store, "te", "threatexchange:303")
        assert cp["update_time"] == 1003
        items = {it.signal_type: it for it in repo.iter_items(store, "te") if not it.withdrawn}
        assert items["pdq"].labels["te_descriptors"] == [11, 12] and items["pdq"].opinion == "positive"
        assert items["pdq"].labels["tags"] == "synthetic_tag"
        assert items["md5"].signal == _md5("te-video")
        assert items["url"].signal == "https://Example.org/Synthetic?utm_source=x"  # as received
        assert items["url"].opinion == "negative"  # NON_MALICIOUS
        assert "0" * 63 + "1" in {it.signal for it in repo.iter_items(store, "te") if it.withdrawn}

        # The PDQ is deleted upstream; the next sync starts at the checkpoint's time.
        fake.groups[303].append(te_update(1, "HASH_PDQ", PDQ, 1010, should_delete=True))
        n = len(fake.requests)
        res = repo.sync_exchange(store, "te", open_source("threatexchange:303", s), actor="test")
        assert [q["start_time"] for m, p, q, _ in fake.requests[n:] if m == "GET"][0] == ["1003"]
        assert res.withdrawn == 1 and not res.full
        assert repo.load_matcher(store).match("pdq", PDQ).disabled

        # Opinions go back as reactions on the item's descriptors, through the CLI.
        monkeypatch.setenv("BASIRA_TE_TOKEN", TOKEN)
        monkeypatch.setenv("BASIRA_TE_URL", fake.base)
        from basira.cli import app

        r = CliRunner().invoke(app, ["banks", "react", str(items["pdq"].id), "false-positive", "--db", db_url])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(app, ["banks", "react", str(items["md5"].id), "seen", "--db", db_url])
        assert r.exit_code == 0, r.output
        assert fake.reactions == [(11, "DISAGREE_WITH_TAGS"), (12, "DISAGREE_WITH_TAGS"), (21, "SAW_THIS_TOO")]
        assert [e["kind"] for e in store.iter_events()].count("bank.item_reported") == 2

        # Nothing new (an empty page): up to date, the checkpoint kept.
        fake.groups[505] = []
        res = repo.sync_exchange(store, "te", open_source("threatexchange:505", s))
        assert (res.pages, res.entries) == (0, 0)

        r = CliRunner().invoke(app, ["banks", "sync", "te", "threatexchange:404", "--db", db_url])
        assert r.exit_code == 2 and "HTTP 400" in r.output and "Traceback" not in r.output
    monkeypatch.setenv("BASIRA_TE_TOKEN", "not-a-token")
    r = CliRunner().invoke(app, ["banks", "sync", "te", "threatexchange:303", "--db", db_url])
    assert r.exit_code == 2 and "not an app token" in r.output


def test_cli_sync_tat_reports_pages_and_counts(store, db_url, monkeypatch):
    from basira.cli import app

    with store.transaction() as tx:
        repo.create_bank(tx, "tat")
    with FakeTat() as fake:
        fake.records = [tat_rec(1, "MD5", _md5("a"), 1.0), tat_rec(2, "TLSH", "T1" + "A" * 70, 2.0)]
        for k, v in {"BASIRA_TAT_USERNAME": "tcap-user", "BASIRA_TAT_PASSWORD": "tcap-pass",
                     "BASIRA_TAT_URL": fake.base}.items():
            monkeypatch.setenv(k, v)
        r = CliRunner().invoke(app, ["banks", "sync", "tat", "tat", "--db", db_url])
    assert r.exit_code == 0, r.output
    assert "1 pages, 1 read, 1 added, 0 withdrawn, 1 skipped (from the start)" in r.output
    assert "unknown algorithm 'TLSH'" in r.output
    assert json.loads(json.dumps(repo.get_sync_checkpoint(store, "tat", "tat")))["after"] == "2.0,2"
