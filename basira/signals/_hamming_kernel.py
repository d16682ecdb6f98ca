"""The multi-index Hamming search's inner loop, compiled (numba, `nogil`): probe, gather, check, deduplicate.

The numpy version in `index.py` makes several passes over arrays of candidates (~130 ns each); this loop touches
each candidate once (mostly the memory read of its hash, or only a sequential read of two inlined words), and
releases the GIL so the index's thread pool uses every core. `available()` is False when numba cannot be imported; the index then uses numpy.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from typing import Any

import numpy as np

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


@functools.cache
def available() -> bool:
    """Whether numba is installed (it is a pinned dependency; without it the index uses numpy)."""
    return importlib.util.find_spec("numba") is not None


def search(*args: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`_search`, compiled on first use (numba is imported then, not when basira.signals is)."""
    out: tuple[np.ndarray, np.ndarray, np.ndarray] = _compiled()(*args)
    return out


_COMPILE_LOCK = threading.Lock()
_COMPILED: list[Any] = []


def _compiled() -> Any:
    if not _COMPILED:
        with _COMPILE_LOCK:  # the index's threads may all ask first
            if not _COMPILED:
                global _popcount
                from numba import njit

                _popcount = njit(inline="always", cache=True)(_popcount)
                _COMPILED.append(njit(nogil=True, cache=True)(_search))
    return _COMPILED[0]


def _popcount(x: np.uint64) -> np.uint64:
    # SWAR popcount; LLVM turns it into one POPCNT instruction on CPUs that have it.
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return (x * _H01) >> np.uint64(56)


def _search(words, order, offsets, inline, queries, masks, threshold, seg_radius):  # type: ignore[no-untyped-def]  # pragma: no cover - numba compiles it; its types are numba's
    """(query index, row, distance) of rows within `threshold`, each once: a row is reported from the first
    segment (in order) whose value is within `seg_radius` of the query's, so no later probe repeats it.

    `inline` (16n x 2, or empty): for each segment's sorted order, two of the row's words that do not hold the
    segment (words 2, 3 for segments in words 0, 1; else words 0, 1). Their distance is a lower bound read
    sequentially; a random candidate (~64 of those 128 bits differ) is rejected without the random read of its
    hash."""
    n = words.shape[0]
    nq = queries.shape[0]
    cap = 1024
    out_q = np.empty(cap, np.int64)
    out_r = np.empty(cap, np.int64)
    out_d = np.empty(cap, np.int32)
    k = 0
    use_inline = inline.shape[0] == 16 * n and n > 0
    t = np.uint64(threshold)
    sr = np.uint64(seg_radius)
    ffff = np.uint64(0xFFFF)
    for qi in range(nq):
        q0 = queries[qi, 0]
        q1 = queries[qi, 1]
        q2 = queries[qi, 2]
        q3 = queries[qi, 3]
        for s in range(16):
            w = s // 4
            shift = np.uint64(48 - 16 * (s % 4))
            qs = (queries[qi, w] >> shift) & ffff
            base = s * n
            a0 = q2 if w < 2 else q0
            a1 = q3 if w < 2 else q1
            for p in range(masks.shape[0]):
                v = np.int64(qs ^ np.uint64(masks[p]))
                a = offsets[s, v]
                b = offsets[s, v + 1]
                for j in range(a, b):
                    if use_inline and _popcount(inline[base + j, 0] ^ a0) + _popcount(inline[base + j, 1] ^ a1) > t:
                        continue
                    r = np.int64(order[base + j])
                    x0 = words[r, 0] ^ q0
                    x1 = words[r, 1] ^ q1
                    x2 = words[r, 2] ^ q2
                    x3 = words[r, 3] ^ q3
                    d = _popcount(x0) + _popcount(x1) + _popcount(x2) + _popcount(x3)
                    if d > t:
                        continue
                    dup = False
                    for s2 in range(s):
                        w2 = s2 // 4
                        xw = x0 if w2 == 0 else (x1 if w2 == 1 else (x2 if w2 == 2 else x3))
                        if _popcount((xw >> np.uint64(48 - 16 * (s2 % 4))) & ffff) <= sr:
                            dup = True
                            break
                    if dup:
                        continue
                    if k == cap:
                        cap *= 2
                        nq_ = np.empty(cap, np.int64)
                        nr_ = np.empty(cap, np.int64)
                        nd_ = np.empty(cap, np.int32)
                        nq_[:k] = out_q[:k]
                        nr_[:k] = out_r[:k]
                        nd_[:k] = out_d[:k]
                        out_q, out_r, out_d = nq_, nr_, nd_
                    out_q[k] = qi
                    out_r[k] = r
                    out_d[k] = np.int32(d)
                    k += 1
    return out_q[:k], out_r[:k], out_d[:k]



def inline_words(words: np.ndarray, order: np.ndarray) -> np.ndarray:
    """The `inline` array for `_search`: per segment s, in s's sorted order, the two words not holding s."""
    n = len(words)
    out = np.empty((16 * n, 2), np.uint64)
    for s in range(16):
        rows = order[s * n : (s + 1) * n]
        first = 2 if s // 4 < 2 else 0
        out[s * n : (s + 1) * n, 0] = words[rows, first]
        out[s * n : (s + 1) * n, 1] = words[rows, first + 1]
    return out
