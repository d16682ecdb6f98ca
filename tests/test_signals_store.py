"""Bank tables: create/list, add/remove entries, items round trip, matches recorded, sync checkpoints, events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from basira import banks as repo
from basira.signals.banks import MatchRateMonitor
from basira.signals.exchange import BankEntry, get_format

PDQ = "f" * 16 + "0" * 16 + "a5" * 16
MD5 = "d41d8cd98f00b204e9800998ecf8427e"


def near(k: int) -> str:
    v = int(PDQ, 16)
    for b in range(k):
        v ^= 1 << (b * 7)
    return f"{v:064x}"


def test_banks_items_matches_and_events(store):
    with store.transaction() as tx:
        repo.create_bank(tx, "tat", thresholds={"pdq": 20}, description="TAT list")
        repo.create_bank(tx, "allow", negative=True)
    with pytest.raises(repo.BankError, match="already exists"):
        with store.transaction() as tx:
            repo.create_bank(tx, "tat")
    with store.transaction() as tx:
        added, removed = repo.add_entries(tx, "tat", [
            BankEntry.make("pdq", PDQ, labels={"entity": "IS"}, source="tat"),
            BankEntry.make("video_md5", MD5),
            BankEntry.make("pdq", PDQ),  # duplicate in the batch
        ])
    assert (added, removed) == (2, 0)
    with store.transaction() as tx:
        assert repo.add_entries(tx, "tat", [BankEntry.make("pdq", PDQ)]) == (0, 0)
    with pytest.raises(repo.BankError, match="no bank"):
        with store.transaction() as tx:
            repo.add_entries(tx, "nope", [BankEntry.make("md5", MD5)])
    assert [(b.name, n) for b, n in repo.list_banks(store)] == [("allow", 0), ("tat", 2)]
    assert repo.get_bank(store, "tat").thresholds == {"pdq": 20.0}

    items = list(repo.iter_items(store, "tat"))
    pdq_item = next(i for i in items if i.signal_type == "pdq")
    assert pdq_item.labels == {"entity": "IS"} and pdq_item.source == "tat"

    m = repo.load_matcher(store)
    res = m.match("pdq", near(12))
    assert [x.item_id for x in res.matches] == [pdq_item.id]
    assert not m.match("pdq", near(25)).matched  # the bank's own threshold, 20
    with store.transaction() as tx:
        assert repo.record_matches(tx, "post:7", [res]) == 1
    (row,) = repo.matches_for(store, "post:7")
    assert row.bank == "tat" and row.labels == {"entity": "IS"} and row.distance == 12 and row.status == "match"

    later = datetime.now(UTC) + timedelta(days=1)
    with store.transaction() as tx:
        repo.update_item(tx, pdq_item.id, opinion="disputed", disabled_until=later)
    it = next(i for i in repo.iter_items(store, "tat") if i.id == pdq_item.id)
    assert it.opinion == "disputed" and it.disabled_until is not None
    with pytest.raises(repo.BankError):
        with store.transaction() as tx:
            repo.update_item(tx, pdq_item.id, opinion="maybe")

    with store.transaction() as tx:
        assert repo.add_entries(tx, "allow", [BankEntry.make("md5", MD5, labels={"note": "news report"})])[0] == 1
    assert repo.load_matcher(store).match("md5", MD5).vetoed

    with store.transaction() as tx:
        assert repo.add_entries(tx, "tat", [BankEntry.make("md5", MD5, deleted=True)]) == (0, 1)
    kinds = [e["kind"] for e in store.iter_events()]
    assert kinds.count("bank.created") == 2 and "bank.items_added" in kinds and "bank.item_changed" in kinds
    assert "bank.items_removed" in kinds


def test_quarantine_is_saved(store):
    with store.transaction() as tx:
        repo.create_bank(tx, "b")
        repo.add_entries(tx, "b", [BankEntry.make("md5", MD5)])
    mon = MatchRateMonitor(min_matches=3, spike_factor=2)
    m = repo.load_matcher(store, monitor=mon)
    results = [m.match("md5", MD5) for _ in range(5)]
    assert results[-1].quarantined
    with store.transaction() as tx:
        repo.record_matches(tx, "file:x", results, monitor=mon)
    (it,) = repo.iter_items(store, "b")
    assert it.quarantined
    assert "bank.item_quarantined" in [e["kind"] for e in store.iter_events()]
    assert not repo.load_matcher(store).match("md5", MD5).matched  # still held after a reload


def test_sync_bank_moves_checkpoint_with_items(store, tmp_path):
    with store.transaction() as tx:
        repo.create_bank(tx, "feed")
    p = tmp_path / "feed.jsonl"
    fmt = get_format("basira-jsonl")
    p.write_text(fmt.write([BankEntry.make("md5", MD5)]))
    assert repo.sync_bank(store, "feed", str(p)) == (1, 0, True)
    with p.open("a") as f:
        f.write(fmt.write([BankEntry.make("pdq", PDQ), BankEntry.make("md5", MD5, deleted=True)]))
    assert repo.sync_bank(store, "feed", str(p)) == (1, 1, False)
    assert repo.get_sync_checkpoint(store, "feed", str(p))["offset"] == p.stat().st_size
    # The source deleted the MD5: its item stays, withdrawn: a match on it is reported disabled, never acted on.
    assert [(i.signal_type, i.withdrawn) for i in repo.iter_items(store, "feed")] == [("md5", True), ("pdq", False)]
    res = repo.load_matcher(store).match("md5", MD5)
    assert not res.matched and [m.signal_type for m in res.disabled] == ["md5"]
    assert [e.deleted for e in repo.entries_of(store, "feed")] == [True, False]
    # Shared again: live again.
    with p.open("a") as f:
        f.write(fmt.write([BankEntry.make("md5", MD5)]))
    repo.sync_bank(store, "feed", str(p))
    assert repo.load_matcher(store).match("md5", MD5).matched


def test_bank_writes_commit_or_roll_back_with_the_callers_unit_of_work(store):
    """The bank repository writes through the caller's Tx: a later step of the same unit of work failing takes
    the bank, its items and their events back out; nothing commits on its own."""
    with pytest.raises(RuntimeError), store.transaction() as tx:
        repo.create_bank(tx, "b")
        assert repo.add_entries(tx, "b", [BankEntry.make("md5", MD5)]) == (1, 0)
        raise RuntimeError("the caller's next step failed")
    assert repo.get_bank(store, "b") is None and not list(repo.iter_items(store))
    assert not [e for e in store.iter_events() if e["kind"].startswith("bank.")]
    with store.transaction() as tx:
        repo.create_bank(tx, "b")
        repo.add_entries(tx, "b", [BankEntry.make("md5", MD5)])
    assert [it.signal for it in repo.iter_items(store, "b")] == [MD5]


def test_refusals_are_bank_errors_with_a_kind(store):
    from basira.core.errors import BasiraError, http_status

    with store.transaction() as tx:
        repo.create_bank(tx, "b")
    for call, kind in ((lambda tx: repo.create_bank(tx, "b"), "conflict"),
                       (lambda tx: repo.add_entries(tx, "nope", []), "not_found"),
                       (lambda tx: repo.update_item(tx, 10**9, opinion="negative"), "not_found"),
                       (lambda tx: repo.add_entries(tx, "b", [], on_deleted="keep"), "invalid")):
        with pytest.raises(repo.BankError) as got, store.transaction() as tx:
            call(tx)
        assert got.value.kind == kind and isinstance(got.value, BasiraError) and not isinstance(got.value, ValueError)
        assert http_status(got.value) in (404, 409, 422)
