"""Each signal type brings its own index (as python-threatexchange's SignalType.get_index_cls) and says what of a
stored post it reads (its content type, as python-threatexchange pairs SignalType and ContentType): a new type
is one class (and its index) registered, and banks, the Matcher, its policy and the scan's pass over stored posts
take it with no other change."""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from typing import ClassVar

import numpy as np
import pytest

from basira.signals import base
from basira.signals.banks import Bank, BankItem, Matcher
from basira.signals.base import (
    Candidates,
    SignalError,
    SignalIndex,
    SignalType,
    get_signal_type,
    signal_types,
)
from basira.signals.content import PostContent, TextContent
from basira.signals.index import words_to_hex
from basira.signals.text import minhash_hex, minhash_values


class NumberLineIndex(SignalIndex):
    """Sorted values with bisect: every item within the distance of a query (synthetic test type)."""

    queries = 0

    def __init__(self, signal_type: type[SignalType]) -> None:
        super().__init__(signal_type)
        self._values: list[tuple[int, int]] = []  # (value, item id), sorted
        self._removed: set[int] = set()

    def __len__(self) -> int:
        return len(self._values) - len(self._removed)

    def add(self, signals: Sequence[str], ids: Sequence[int]) -> None:
        for s, i in zip(signals, ids, strict=True):
            bisect.insort(self._values, (int(s), int(i)))
            self._removed.discard(int(i))

    def remove(self, ids: Iterable[int]) -> None:
        self._removed.update(int(i) for i in ids)

    def query_many(self, signals: Sequence[str], max_distance: float) -> list[Candidates]:
        type(self).queries += len(signals)
        out: list[Candidates] = []
        for s in signals:
            q, r = int(s), int(max_distance)
            lo = bisect.bisect_left(self._values, (q - r, -1))
            hi = bisect.bisect_right(self._values, (q + r, 1 << 62))
            out.append([(i, float(abs(v - q))) for v, i in self._values[lo:hi] if i not in self._removed])
        return out


class NumberLineSignal(SignalType):
    """A synthetic signal type: a decimal number; distance |a - b| (stands in for, say, an audio fingerprint).
    Of a stored post it reads the text, and its signal is the text's length in characters."""

    name = "test_number_line"
    aliases: ClassVar[tuple[str, ...]] = ("test_numbers",)
    content = "audio"
    post_content = TextContent
    default_threshold = 3

    @classmethod
    def signal_from(cls, value: str) -> str:
        return str(len(value))

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip()
        if not s.isdigit():
            raise SignalError(f"not a number: {signal!r}")
        return str(int(s))

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return float(abs(int(a) - int(b)))

    @classmethod
    def get_index_cls(cls) -> type[SignalIndex]:
        return NumberLineIndex


@pytest.fixture
def registered(monkeypatch: pytest.MonkeyPatch) -> type[SignalType]:
    """The test type registered for one test only (the registry is put back afterwards)."""
    signal_types()  # the built-in types first, so they are in the copies
    monkeypatch.setattr(base, "_REGISTRY", dict(base._REGISTRY))
    monkeypatch.setattr(base, "_ALIASES", dict(base._ALIASES))
    return base.register(NumberLineSignal)


def brute(items: list[BankItem], bank: Bank, query: str) -> list[tuple[int, float]]:
    st = get_signal_type(items[0].signal_type)
    limit = bank.threshold(st.name)
    return sorted((it.id, float(st.distance(query, it.signal))) for it in items
                  if st.distance(query, it.signal) <= limit)


def test_a_new_signal_type_plugs_into_banks_and_the_matcher(registered: type[SignalType]) -> None:
    assert get_signal_type("TEST_NUMBERS") is NumberLineSignal and "test_number_line" in signal_types()
    rng = np.random.default_rng(3)
    loose = Bank("loose", thresholds={"test_numbers": 10})
    strict = Bank("strict")  # the type's default threshold, 3
    values = rng.integers(0, 2_000, 400)
    items = [BankItem(i, "loose" if i % 2 else "strict", "test_number_line", f" {v} ") for i, v in enumerate(values)]
    matcher = Matcher([loose, strict], items)
    before = NumberLineIndex.queries
    queries = [str(v) for v in rng.integers(0, 2_000, 200)]
    results = matcher.match_many("test_numbers", queries)
    assert NumberLineIndex.queries - before == len(queries)  # the type's own index answered
    for q, res in zip(queries, results, strict=True):
        want = sorted(brute([it for it in items if it.bank == "loose"], loose, q)
                      + brute([it for it in items if it.bank == "strict"], strict, q))
        assert sorted((m.item_id, m.distance) for m in res.matches) == want
    matcher.remove_items([0, 1])
    assert {m.item_id for m in matcher.match("test_number_line", items[0].signal).matches} & {0, 1} == set()
    with pytest.raises(SignalError):
        matcher.match("test_number_line", "not a number")


def test_a_new_signal_type_matches_stored_posts_end_to_end(registered: type[SignalType], store) -> None:
    """Posts stored by ingest, a bank of the new type, the scan's hash pass: the matches recorded on each post
    (and the cases opened) are what brute force over the posts' texts finds, and no other code named the type."""
    from basira import banks
    from basira.ingest.records import PostRecord
    from basira.ingest.repository import upsert_posts
    from basira.scan.hashes import match_ingested_posts
    from basira.signals.exchange import BankEntry

    rng = np.random.default_rng(11)
    texts = ["synthetic test post " + "x" * int(n) for n in rng.integers(0, 400, 150)]
    values = sorted({int(v) for v in rng.integers(20, 420, 40)})
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("test", f"p{i}", None, t) for i, t in enumerate(texts)])
        banks.create_bank(tx, "numbers", thresholds={"test_numbers": 2})
        banks.add_entries(tx, "numbers", [BankEntry.make("test_numbers", f"{v}") for v in values])
    ids = store.post_ids("test", [f"p{i}" for i in range(len(texts))])
    items = {it.signal: it.id for it in banks.iter_items(store, "numbers")}
    assert set(items) == {str(v) for v in values}

    before = NumberLineIndex.queries
    res = match_ingested_posts(store)
    assert NumberLineIndex.queries - before == len(texts)  # every post's text, through the type's own index

    want = {(ids[f"p{i}"], items[str(v)], float(abs(len(t) - v))) for i, t in enumerate(texts) for v in values
            if abs(len(t) - v) <= 2}
    got = {(pid, m.item_id, m.distance) for pid in ids.values()
           for m in banks.matches_for(store, f"post:{pid}")}
    assert got == want and want  # some posts match, exactly the ones brute force finds
    assert {m.signal_type for pid in ids.values() for m in banks.matches_for(store, f"post:{pid}")} == {
        "test_number_line"}
    assert res.matches_new == len(want) and res.cases_new == len({pid for pid, _, _ in want})
    assert match_ingested_posts(store).matches_new == 0  # a re-run records nothing twice


def test_a_types_post_content_decides_what_it_reads(registered: type[SignalType]) -> None:
    post = PostContent(1, "  ", ["https://example.org/a"], [{"sha256": "ab" * 32}])
    assert list(NumberLineSignal.signals_of(post)) == []  # a blank text: nothing to read
    post = PostContent(2, "twelve chars", ["https://example.org/a"], [{"pdq": "cd" * 32}])
    assert list(NumberLineSignal.signals_of(post)) == [("text", "12")]
    assert list(get_signal_type("url_md5").signals_of(post))[0][0] == "url:0"
    assert list(get_signal_type("pdq").signals_of(post)) == [("media:0:pdq", "cd" * 32)]
    assert list(get_signal_type("sha256").signals_of(post)) == []


def test_the_type_leaves_the_registry_with_its_test() -> None:
    with pytest.raises(SignalError, match="unknown signal type"):
        get_signal_type("test_number_line")


def _samples(name: str, rng: np.random.Generator) -> list[str]:
    """Signals of a built-in type, many of them near one another."""
    if name in ("pdq",):
        base_words = rng.integers(0, 2**64, size=(8, 4), dtype=np.uint64)
        near = base_words[rng.integers(0, 8, 40)].copy()
        for row in near:
            for b in rng.choice(256, int(rng.integers(0, 40)), replace=False):
                row[b // 64] ^= np.uint64(1) << np.uint64(int(b) % 64)
        return words_to_hex(np.vstack([base_words, near]))
    if name == "vpdq":
        frames = words_to_hex(rng.integers(0, 2**64, size=(12, 4), dtype=np.uint64))
        return [json.dumps([f"{frames[j]},100,{k:.3f}" for k, j in enumerate(rng.choice(12, int(rng.integers(1, 6)),
                                                                                         replace=False))])
                for _ in range(30)]
    if name == "url_md5":
        return [f"{int(x):032x}" for x in rng.integers(0, 6, 30)]
    hex_len = getattr(get_signal_type(name), "hex_len", None)
    if hex_len:  # md5, sha256, sha512
        return [f"{int(x):0{hex_len}x}" for x in rng.integers(0, 6, 30)]
    if name == "url":
        return [f"{p}example.org/page/{int(x)}{q}" for p, x, q in
                zip(rng.choice(["https://", "http://www.", ""], 30), rng.integers(0, 6, 30),
                    rng.choice(["", "?utm_source=x", "/"], 30), strict=True)]
    words = [f"w{i}" for i in range(40)]
    texts = [" ".join(rng.choice(words, 12)) for _ in range(6)]
    texts += [t + " " + str(rng.choice(words)) for t in texts for _ in range(4)]
    return [minhash_hex(minhash_values(t)) for t in texts] if name == "text_minhash" else texts


@pytest.mark.parametrize("name", sorted(signal_types()))
def test_every_built_in_index_agrees_with_the_types_distance(name: str) -> None:
    """Each type's index returns what brute force over `distance` finds (MinHash LSH: a subset, never a
    wrong distance), at the type's default threshold."""
    st = get_signal_type(name)
    signals = [st.validate(s) for s in _samples(name, np.random.default_rng(len(name)))]
    idx = st.new_index()
    assert isinstance(idx, SignalIndex)
    idx.add(signals, list(range(len(signals))))
    assert len(idx) == len(signals) or st.get_index_cls() is not type(idx)
    limit = float(st.default_threshold)
    for q, got in zip(signals, idx.query_many(signals, limit), strict=True):
        want = {i: float(st.distance(q, s)) for i, s in enumerate(signals) if st.distance(q, s) <= limit + 1e-12}
        found = dict(got)
        assert found.keys() <= want.keys() and all(found[i] == pytest.approx(want[i]) for i in found)
        if name not in ("text_minhash", "raw_text"):
            assert found.keys() == want.keys()
        else:
            assert signals.index(q) in found  # itself, at distance 0, always
    idx.remove([0])
    assert all(0 not in dict(c) for c in idx.query_many(signals, limit))
