"""HammingIndex: 100% recall against brute force, batches, incremental adds and rebuilds during lookups."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from basira.signals.base import ExactIndex
from basira.signals.index import HammingIndex, brute_force, hex_to_words, words_to_hex
from basira.signals.text import MinHashIndex, minhash_values


def random_words(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)


def flip(rng: np.random.Generator, w: np.ndarray, k: int) -> np.ndarray:
    w = w.copy()
    for b in rng.choice(256, k, replace=False):
        w[b // 64] ^= np.uint64(1) << np.uint64(63 - b % 64)
    return w


def queries_near(rng, words, n, max_flip=48):
    rows = rng.integers(0, len(words), n)
    return np.stack([flip(rng, words[r], int(rng.integers(0, max_flip + 1))) for r in rows])


def as_sets(results):
    return [set(zip(p.tolist(), d.tolist(), strict=True)) for p, d in results]


@pytest.mark.parametrize("path", ["numba", "numba-no-inline", "numpy"])
@pytest.mark.parametrize("threshold", [0, 15, 31, 40, 63, 70])
def test_recall_equals_brute_force(threshold, path, monkeypatch):
    from basira.signals import index as index_module

    monkeypatch.setattr(index_module, "USE_KERNEL", path != "numpy")
    if path == "numba-no-inline":  # what blocks above INLINE_MAX_ROWS use
        monkeypatch.setattr(index_module, "INLINE_MAX_ROWS", 0)
    rng = np.random.default_rng(threshold)
    words = random_words(rng, 20_000)
    # Clustered near-duplicates too: real banks hold many variants of one image.
    words[:2000] = np.stack([flip(rng, words[0], int(k)) for k in rng.integers(0, 40, 2000)])
    index = HammingIndex.from_words(words)
    assert (len(index._snap.main.inline) > 0) == (path == "numba")
    q = np.concatenate([queries_near(rng, words, 150), random_words(rng, 20)])
    qi, ids, dist = index.search_arrays(q, threshold)
    got = [set() for _ in q]
    for i, id_, d in zip(qi.tolist(), ids.tolist(), dist.tolist(), strict=True):
        got[i].add((id_, d))
    assert got == as_sets(brute_force(words, q, threshold))
    assert sum(len(g) for g in got) > 0
    assert len(qi) == sum(len(g) for g in got)  # each row once per query, however many segments found it


def test_hex_round_trip_and_search_api():
    rng = np.random.default_rng(1)
    words = random_words(rng, 100)
    hexes = words_to_hex(words)
    assert np.array_equal(hex_to_words(hexes), words)
    index = HammingIndex()
    index.add(hexes, range(1000, 1100))
    hits = index.search([hexes[5], words_to_hex(flip(rng, words[5], 10)[None])[0]], 31)
    assert hits[0][0].id == 1005 and hits[0][0].distance == 0
    assert hits[1][0].id == 1005 and hits[1][0].distance == 10


def test_incremental_adds_removals_and_rebuild_keep_exact_results():
    rng = np.random.default_rng(2)
    words = random_words(rng, 6000)
    index = HammingIndex(delta_limit=1000, background=False)
    for start in range(0, 6000, 700):
        index.add(words[start : start + 700], np.arange(start, min(start + 700, 6000)))
    assert index.rebuilds >= 4 and len(index) == 6000
    index.remove(range(0, 6000, 2))
    q = queries_near(rng, words, 100, 31)
    qi, ids, dist = index.search_arrays(q, 31)
    expected = {(i, int(p)) for i, (ps, _) in enumerate(brute_force(words, q, 31)) for p in ps if p % 2}
    assert set(zip(qi.tolist(), ids.tolist(), strict=True)) == expected
    index.rebuild()
    assert len(index) == 3000
    qi2, ids2, _ = index.search_arrays(q, 31)
    assert set(zip(qi2.tolist(), ids2.tolist(), strict=True)) == expected


def test_lookups_continue_while_adding_and_rebuilding_in_background():
    rng = np.random.default_rng(3)
    words = random_words(rng, 40_000)
    index = HammingIndex.from_words(words[:20_000], delta_limit=2000, background=True)
    probe = words[:200]
    errors: list[str] = []
    stop = threading.Event()

    def lookups():
        while not stop.is_set():
            qi, ids, dist = index.search_arrays(probe, 0)
            # Every original row must be found, exactly once, at every moment.
            if not (len(ids) == 200 and np.array_equal(np.sort(ids), np.arange(200))):
                errors.append(f"{len(ids)} hits")

    t = threading.Thread(target=lookups)
    t.start()
    for start in range(20_000, 40_000, 500):
        index.add(words[start : start + 500], np.arange(start, start + 500))
    index.rebuild()
    stop.set()
    t.join()
    assert not errors
    assert index.rebuilds >= 1 and len(index) == 40_000
    _, ids, _ = index.search_arrays(words[39_990:], 0)
    assert sorted(ids.tolist()) == list(range(39_990, 40_000))


def test_exact_index():
    idx = ExactIndex()
    idx.add(["a", "b", "a"], [1, 2, 3])
    assert idx.lookup("a") == [1, 3]
    idx.remove([1])
    assert idx.lookup("a") == [3] and idx.lookup("zz") == []


def test_minhash_index_finds_near_duplicates():
    idx = MinHashIndex()
    texts = [f"message number {i} about the convoy leaving at dawn from the northern gate" for i in range(50)]
    for i, t in enumerate(texts):
        idx.add(i, minhash_values(t))
    hits = idx.search(minhash_values(texts[7] + " today"), 0.4)
    assert hits[0][0] == 7
    assert idx.search(minhash_values("completely unrelated words about gardening and tomatoes"), 0.4) == []
