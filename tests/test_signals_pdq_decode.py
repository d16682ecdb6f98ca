"""Per-bank PDQ decode (full | fast): full resolution is the hash python-threatexchange (HMA) computes, the bank's
choice is used when media is hashed for it, a bank an exchange feeds becomes full, and the CLI sets it."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from basira import banks as repo
from basira.cli import app
from basira.signals.banks import Bank, Matcher, hash_file, match_file
from basira.signals.base import SignalError
from basira.signals.exchange import BankEntry
from basira.signals.pdq import PdqSignal
from tests.test_signals_types import make_image


def _jpegs(tmp_path, n=6, size=1200):
    paths = []
    for seed in range(n):
        p = tmp_path / f"img{seed}.jpg"
        make_image(seed, size).save(p, quality=90)
        paths.append(str(p))
    return paths


def test_full_decode_is_threatexchanges_hash_and_fast_is_not_always(tmp_path):
    from threatexchange.signal_type.pdq.signal import PdqSignal as TePdq

    paths = _jpegs(tmp_path)
    full = [hash_file(p, ("pdq",), pdq_decode="full")["pdq"] for p in paths]
    fast = [hash_file(p, ("pdq",), pdq_decode="fast")["pdq"] for p in paths]
    assert full == [TePdq.hash_from_file(Path(p)) for p in paths]  # bit-identical to what HMA computes
    drift = [PdqSignal.distance(a, b) for a, b in zip(full, fast, strict=True)]
    assert any(drift) and max(drift) <= 31  # fast moves some hashes a few bits, inside the margin


def test_a_full_bank_makes_the_matcher_hash_at_full_resolution(tmp_path):
    paths = _jpegs(tmp_path, n=6)
    fast = [hash_file(p, ("pdq",), pdq_decode="fast")["pdq"] for p in paths]
    full = [hash_file(p, ("pdq",), pdq_decode="full")["pdq"] for p in paths]
    i = next(n for n in range(len(paths)) if fast[n] != full[n])  # an image where the two decodes differ
    item = dict(id=1, bank="partner", signal_type="pdq", signal=full[i])
    strict = {"pdq": 0}  # exact PDQ only, to see which hash was used

    from basira.signals.banks import BankItem

    fast_bank = Matcher([Bank("partner", thresholds=strict)], [BankItem(**item)])
    assert fast_bank.pdq_decode == "fast"
    assert not any(r.matched for r in match_file(fast_bank, paths[i], ("pdq",)))
    full_bank = Matcher([Bank("partner", thresholds=strict, pdq_decode="full"), Bank("local")], [BankItem(**item)])
    assert full_bank.pdq_decode == "full"
    (res,) = match_file(full_bank, paths[i], ("pdq",))
    assert res.matched and res.matches[0].distance == 0


def test_store_keeps_the_choice_and_an_exchange_feed_makes_it_full(store, tmp_path):
    with store.transaction() as tx:
        assert repo.create_bank(tx, "local").pdq_decode == "fast"
        repo.create_bank(tx, "chosen_fast", pdq_decode="fast")
        repo.create_bank(tx, "fed")
        assert repo.create_bank(tx, "hma", pdq_decode="full").pdq_decode == "full"
    feed = tmp_path / "feed.jsonl"
    feed.write_text('{"signal_type": "pdq", "signal": "' + "ab" * 32 + '"}\n')
    for name in ("fed", "chosen_fast"):
        repo.sync_bank(store, name, str(feed))
    got = {b.name: b.pdq_decode for b, _ in repo.list_banks(store)}
    assert got == {"local": "fast", "chosen_fast": "fast", "fed": "full", "hma": "full"}
    assert repo.exchange_fed_banks(store) == ["chosen_fast", "fed"]
    with store.transaction() as tx:
        assert repo.update_bank(tx, "fed", pdq_decode="fast").pdq_decode == "fast"
    assert repo.load_matcher(store).pdq_decode == "full"  # the hma bank
    try:
        with store.transaction() as tx:
            repo.update_bank(tx, "fed", pdq_decode="half")
        raise AssertionError("accepted a bad decode")
    except SignalError as exc:  # the bank's own setting check (no longer a ValueError: one error base)
        assert "pdq_decode must be one of full, fast" in str(exc)
    with store.transaction() as tx:
        repo.add_entries(tx, "local", [BankEntry.make("pdq", "cd" * 32)])


def test_cli_banks_create_pdq_decode(tmp_path):
    r = CliRunner()
    db = str(tmp_path / "b.db")
    assert r.invoke(app, ["banks", "create", "gifct", "--pdq-decode", "full", "--db", db]).exit_code == 0
    assert r.invoke(app, ["banks", "create", "mine", "--db", db]).exit_code == 0
    out = r.invoke(app, ["banks", "list", "--db", db]).output
    assert "gifct\t0 items\tpositive pdq-decode=full" in out and "mine\t0 items\tpositive pdq-decode=fast" in out
    bad = r.invoke(app, ["banks", "create", "x", "--pdq-decode", "half", "--db", db])
    assert bad.exit_code == 2 and "pdq_decode must be one of full, fast" in bad.output
