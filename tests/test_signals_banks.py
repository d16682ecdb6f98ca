"""Bank policy: thresholds per bank and signal, sampling, disabled-until, negative banks, opinions, quarantine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from basira.signals.banks import (
    Bank,
    BankItem,
    Matcher,
    MatchRateMonitor,
    match_file,
    match_post_media_and_text,
)
from basira.signals.base import SignalError
from basira.signals.index import words_to_hex
from basira.signals.text import TextMinHashSignal

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, t: datetime = T0) -> None:
        self.t = t

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw: float) -> None:
        self.t += timedelta(**kw)


def pdq_at(base: str, k: int, seed: int = 0) -> str:
    """A PDQ hash exactly k bits away from base."""
    v = int(base, 16)
    for b in np.random.default_rng(seed).choice(256, k, replace=False):
        v ^= 1 << int(b)
    return f"{v:064x}"


RNG = np.random.default_rng(42)
H = words_to_hex(RNG.integers(0, 2**64, size=(4, 4), dtype=np.uint64))


def matcher(clock=None, **kw) -> Matcher:
    banks = [
        Bank("gifct", thresholds={"pdq": 31}),
        Bank("strict", thresholds={"pdq": 10}),
        Bank("allow", negative=True, thresholds={"pdq": 5}),
    ]
    items = [
        BankItem(1, "gifct", "pdq", H[0], labels={"entity": "IS", "ideology": "jihadist"}, source="gifct"),
        BankItem(2, "strict", "pdq", H[0]),
        BankItem(3, "gifct", "pdq", H[1]),
        BankItem(4, "allow", "pdq", H[2]),
        BankItem(5, "gifct", "pdq", H[2]),
        BankItem(6, "gifct", "md5", "d41d8cd98f00b204e9800998ecf8427e"),
        BankItem(7, "gifct", "url", "https://www.example.org/propaganda/?utm_source=x"),
    ]
    return Matcher(banks, items, clock=clock or FakeClock(), **kw)


def test_per_bank_thresholds_and_labels():
    m = matcher()
    r = m.match("pdq", pdq_at(H[0], 20))
    assert [(x.bank, x.item_id, x.distance) for x in r.matches] == [("gifct", 1, 20.0)]
    assert r.matches[0].labels == {"entity": "IS", "ideology": "jihadist"}
    r = m.match("pdq", pdq_at(H[0], 8))
    assert {x.bank for x in r.matches} == {"gifct", "strict"}
    assert not m.match("pdq", pdq_at(H[0], 32)).matched


def test_exact_types_and_url_canonical_match():
    m = matcher()
    assert m.match("video_md5", "D41D8CD98F00B204E9800998ECF8427E").matches[0].item_id == 6
    assert m.match("url", "http://example.org/propaganda").matches[0].item_id == 7


def test_negative_bank_vetoes_positive_matches():
    m = matcher()
    r = m.match("pdq", pdq_at(H[2], 3))
    assert not r.matched
    assert [x.item_id for x in r.vetoed] == [5] and [x.item_id for x in r.allowed_by] == [4]
    # Beyond the allow-list's own threshold the veto does not apply.
    r = m.match("pdq", pdq_at(H[2], 12))
    assert [x.item_id for x in r.matches] == [5]


def test_opinions_negative_dismisses_disputed_flags():
    m = matcher()
    m.update_item(3, opinion="negative")
    r = m.match("pdq", H[1])
    assert not r.matched and [x.item_id for x in r.dismissed] == [3]
    m.update_item(3, opinion="disputed")
    r = m.match("pdq", H[1])
    assert r.matches[0].disputed


def test_disabled_until_uses_the_clock():
    clock = FakeClock()
    m = matcher(clock)
    m.update_item(3, disabled_until=T0 + timedelta(hours=2))
    assert [x.item_id for x in m.match("pdq", H[1]).disabled] == [3]
    clock.advance(hours=3)
    assert m.match("pdq", H[1]).matched


def test_sampled_bank_is_consulted_for_its_share_of_content_stably():
    bank = Bank("trial", enabled_ratio=0.3)
    items = [BankItem(i, "trial", "md5", f"{i:032x}") for i in range(1, 2001)]
    m = Matcher([bank], items, clock=FakeClock(), monitor=MatchRateMonitor(min_matches=10**9))
    hits = [m.match("md5", f"{i:032x}").matched for i in range(1, 2001)]
    assert 0.25 < sum(hits) / len(hits) < 0.35
    again = [m.match("md5", f"{i:032x}").matched for i in range(1, 2001)]
    assert hits == again  # the same content is always in or out
    assert m.match("md5", f"{1:032x}", key="post-1").matched in (True, False)
    with pytest.raises(SignalError):
        Bank("bad", enabled_ratio=1.5)


def test_quarantine_when_one_item_suddenly_floods():
    clock = FakeClock()
    mon = MatchRateMonitor(window=timedelta(hours=1), min_matches=20, spike_factor=5)
    m = matcher(clock, monitor=mon)
    # A steady rate: 10 an hour for a day, never quarantined.
    for _ in range(24):
        for _ in range(10):
            assert m.match("pdq", H[1]).matched
            clock.advance(minutes=6)
    # Then a flood: 200 in ten minutes.
    results = []
    for _ in range(200):
        results.append(m.match("pdq", H[1]))
        clock.advance(seconds=3)
    assert results[0].matched and not results[-1].matched
    assert [x.item_id for x in results[-1].quarantined] == [3]
    assert mon.events and mon.events[0].item_id == 3 and mon.events[0].window_matches > 50
    # Other items are unaffected; a reviewer's release lifts it.
    assert m.match("pdq", H[0]).matched
    m.update_item(3, quarantined=False)
    assert m.match("pdq", H[1]).matched


def test_text_and_vpdq_through_the_matcher():
    text = "join the caravan now brothers, the road to victory starts here, share this message widely"
    frames = [pdq_at(H[3], 0, s) for s in range(3)] + [H[0]]
    vsig = '["' + '","'.join(f"{f},100,{i}.000" for i, f in enumerate(frames)) + '"]'
    m = Matcher(
        [Bank("b")],
        [BankItem(1, "b", "text_minhash", TextMinHashSignal.hash_text(text)), BankItem(2, "b", "vpdq", vsig)],
        clock=FakeClock(),
    )
    got = match_post_media_and_text(
        m, text=text.upper() + "!!", urls=["nothing.example"], media=[{"vpdq": vsig}], key="post:1"
    )
    assert [w for w, _ in got] == ["text", "media:0:vpdq"]
    q = '["' + f"{pdq_at(H[3], 4)},100,0.000" + '"]'
    assert m.match("vpdq", q).matches[0].distance == 0.0


def test_match_file_hashes_images(tmp_path):
    from PIL import Image

    from tests.test_signals_types import make_image

    p = tmp_path / "x.png"
    make_image(5).save(p)
    pdq = get_pdq(p)
    m = Matcher([Bank("b")], [BankItem(1, "b", "pdq", pdq_at(pdq, 6))], clock=FakeClock())
    res = {r.signal_type: r for r in match_file(m, str(p))}
    assert set(res) == {"md5", "sha256", "pdq"} and res["pdq"].matches[0].distance == 6
    Image.new("RGB", (10, 10)).save(tmp_path / "y.png")
    assert all(not r.matched for r in match_file(m, str(tmp_path / "y.png")))


def get_pdq(path) -> str:
    from basira.signals import get_signal_type

    return get_signal_type("pdq").hash_file(path)
