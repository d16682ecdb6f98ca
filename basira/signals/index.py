"""Exact-radius Hamming search over 256-bit hashes: the index under PDQ's and vPDQ's (`PdqIndex`, `VpdqIndex`).

HammingIndex finds every stored 256-bit hash within distance T of a query (100% recall, no approximation) by
multi-index hashing: the hash is cut into 16 segments of 16 bits; if two hashes differ in at most T bits, then
by the pigeonhole principle some segment differs in at most floor(T/16) bits (1 bit for PDQ's usual T = 31).
For each segment a bucket table (a stable sort of the rows by segment value plus 65,537 offsets) lists the rows
whose segment equals a probe value; the probes are the query's segment with up to floor(T/16) bits flipped
(17 probes per segment at T <= 31). Candidates are then checked exactly with `np.bitwise_count`.

Rows live in an immutable main block plus a small append-only delta block that is scanned by brute force.
Lookups read one snapshot (a tuple swapped atomically), so adds, removals and rebuilds of the main block (in a
background thread) never block or disturb them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from basira.signals import _hamming_kernel as _kernel

BITS = 256
WORDS = 4
SEGMENTS = 16
SEG_BITS = 16
_SEG_VALUES = 1 << SEG_BITS
_MAX_SEG_RADIUS = 3  # beyond this (T > 63) probing costs more than a scan
# Candidates checked per chunk of a batch: small chunks stay in the CPU caches (measured: 64k is ~2.5x faster
# per query than 4M), and batches are split across threads (numpy releases the GIL in the heavy loops).
_CANDIDATE_BUDGET = 1 << 16
_SCAN_BUDGET = 1 << 22  # distance-matrix cells per brute-force chunk
_PARALLEL_MIN = 64  # queries in a batch before it is split across threads
_POOL: list[ThreadPoolExecutor] = []
USE_KERNEL = True  # the compiled inner loop (_hamming_kernel); False: the numpy one (tests check both)
# Blocks up to this size also keep 16 B per row per segment (256 B a row: 0.24 GiB at 1M) for sequential
# candidate checks, ~2x faster; larger ones (10M: 2.4 GiB more) do without, to stay well inside memory.
INLINE_MAX_ROWS = 4_000_000


def _pool() -> ThreadPoolExecutor:
    if not _POOL:
        _POOL.append(ThreadPoolExecutor(max_workers=max(1, min(4, os.cpu_count() or 1)),
                                        thread_name_prefix="basira-hamming"))
    return _POOL[0]


def hex_to_words(hashes: Sequence[str] | str) -> np.ndarray:
    """256-bit hex hashes as an (n, 4) uint64 array (word 0 = the first 16 hex digits)."""
    if isinstance(hashes, str):
        hashes = [hashes]
    if len(hashes) == 0:
        return np.zeros((0, WORDS), np.uint64)
    raw = bytes.fromhex("".join(hashes))
    if len(raw) != 32 * len(hashes):
        raise ValueError("every hash must be 64 hex characters")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, WORDS)


def words_to_hex(words: np.ndarray) -> list[str]:
    raw = np.ascontiguousarray(words, dtype=np.uint64).astype(">u8").tobytes()
    return [raw[i : i + 32].hex() for i in range(0, len(raw), 32)]


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise Hamming distances between broadcastable (..., 4) uint64 arrays."""
    c = np.bitwise_count(a ^ b)
    out: np.ndarray = c[..., 0].astype(np.int32) + c[..., 1] + c[..., 2] + c[..., 3]
    return out


def brute_force(words: np.ndarray, queries: np.ndarray, threshold: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Reference search: for each query, (row positions, distances) of all rows within `threshold`, by row."""
    out = []
    step = max(1, _SCAN_BUDGET // max(1, len(words)))
    for i in range(0, len(queries), step):
        d = hamming(words[None, :, :], queries[i : i + step, None, :])
        for row in d:
            pos = np.flatnonzero(row <= threshold)
            out.append((pos, row[pos]))
    return out


def _segments(words: np.ndarray) -> np.ndarray:
    """(n, 16) uint16 segment values; segment s holds bits 16s..16s+15 (most significant first)."""
    be = np.ascontiguousarray(words, dtype=np.uint64).astype(">u8")
    return be.view(">u2").reshape(-1, SEGMENTS).astype(np.uint16)


_MASKS: dict[int, np.ndarray] = {}


def _flip_masks(radius: int) -> np.ndarray:
    """All 16-bit values with at most `radius` bits set."""
    m = _MASKS.get(radius)
    if m is None:
        vals = [0]
        for r in range(1, radius + 1):
            vals.extend(sum(1 << b for b in bits) for bits in combinations(range(SEG_BITS), r))
        m = _MASKS[radius] = np.array(vals, dtype=np.uint16)
    return m


@dataclass(frozen=True, eq=False)
class _Block:
    """An immutable, multi-index-hashed block of rows."""

    words: np.ndarray  # (n, 4) uint64
    ids: np.ndarray  # (n,) int64
    order: np.ndarray  # (16 * n,) uint32: for segment s, rows sorted by segment value, at [s*n, (s+1)*n)
    offsets: np.ndarray  # (16, 65537) int64: bucket v of segment s is order[s*n + offsets[s, v] : ...]
    inline: np.ndarray  # (16 * n, 2) uint64 or empty: see _hamming_kernel (blocks of <= INLINE_MAX_ROWS rows)

    @classmethod
    def build(cls, words: np.ndarray, ids: np.ndarray) -> _Block:
        n = len(words)
        if n >= 1 << 32:
            raise ValueError("a block holds at most 2**32 - 1 rows")
        order = np.empty(SEGMENTS * n, dtype=np.uint32)
        offsets = np.zeros((SEGMENTS, _SEG_VALUES + 1), dtype=np.int64)
        be = np.ascontiguousarray(words).astype(">u8").view(">u2").reshape(-1, SEGMENTS)
        for s in range(SEGMENTS):
            keys = be[:, s].astype(np.uint16)
            order[s * n : (s + 1) * n] = np.argsort(keys, kind="stable")
            np.cumsum(np.bincount(keys, minlength=_SEG_VALUES), out=offsets[s, 1:])
        words = np.ascontiguousarray(words, dtype=np.uint64)
        use_inline = USE_KERNEL and _kernel.available() and 0 < n <= INLINE_MAX_ROWS
        inline = _kernel.inline_words(words, order) if use_inline else np.zeros((0, 2), np.uint64)
        return cls(words, np.asarray(ids, dtype=np.int64), order, offsets, inline)

    @classmethod
    def empty(cls) -> _Block:
        return cls.build(np.zeros((0, WORDS), np.uint64), np.zeros(0, np.int64))

    def __len__(self) -> int:
        return len(self.words)

    @property
    def nbytes(self) -> int:
        return self.words.nbytes + self.ids.nbytes + self.order.nbytes + self.offsets.nbytes + self.inline.nbytes

    def search(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query index, row position, distance) of every row within `threshold` of a query, deduplicated."""
        n = len(self.words)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32))
        if n == 0 or len(queries) == 0 or threshold < 0:
            return empty
        radius = threshold // SEGMENTS
        if radius > _MAX_SEG_RADIUS:
            return _scan(self.words, queries, threshold)
        masks = _flip_masks(radius)
        if USE_KERNEL and _kernel.available():
            return _kernel.search(self.words, self.order, self.offsets, self.inline,
                                  np.ascontiguousarray(queries, dtype=np.uint64), masks, threshold, radius)
        qseg = _segments(queries)  # (Q, 16)
        probes = (qseg[:, :, None] ^ masks[None, None, :]).astype(np.int64)  # (Q, 16, P)
        seg_idx = np.arange(SEGMENTS)[None, :, None]
        starts = self.offsets[seg_idx, probes]
        lens = self.offsets[seg_idx, probes + 1] - starts
        starts = starts + seg_idx * n  # into the flat order array
        per_query = lens.reshape(len(queries), -1).sum(axis=1)
        parts = []
        q0 = 0
        while q0 < len(queries):  # chunks of queries whose candidates fit the budget
            q1 = q0 + 1
            total = int(per_query[q0])
            while q1 < len(queries) and total + per_query[q1] <= _CANDIDATE_BUDGET:
                total += int(per_query[q1])
                q1 += 1
            parts.append(self._check(queries, q0, q1, starts[q0:q1].ravel(), lens[q0:q1].ravel(), threshold))
            q0 = q1
        qi = np.concatenate([p[0] for p in parts])
        rows = np.concatenate([p[1] for p in parts])
        dist = np.concatenate([p[2] for p in parts])
        if len(qi) == 0:
            return empty
        # A row found through several segments appears once per segment: keep one.
        key = qi * n + rows
        _, first = np.unique(key, return_index=True)
        return qi[first], rows[first], dist[first]

    def _check(
        self, queries: np.ndarray, q0: int, q1: int, starts: np.ndarray, lens: np.ndarray, threshold: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        total = int(lens.sum())
        if total == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
        # Flatten the candidate ranges: position j of range k is starts[k] + j.
        before = np.cumsum(lens) - lens
        flat = np.repeat(starts - before, lens)
        flat += np.arange(total)
        rows = self.order[flat]
        qi = np.repeat(np.arange(q0, q1), lens.reshape(q1 - q0, -1).sum(axis=1))
        dist = hamming(self.words[rows], queries[qi])
        keep = np.flatnonzero(dist <= threshold)
        return qi[keep], rows[keep].astype(np.int64), dist[keep]


def _scan(words: np.ndarray, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Brute-force (query index, row, distance) triples, for small blocks and large thresholds."""
    qs, rs, ds = [], [], []
    if len(words) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int32)
    step = max(1, _SCAN_BUDGET // len(words))
    for i in range(0, len(queries), step):
        d = hamming(words[None, :, :], queries[i : i + step, None, :])
        q, r = np.nonzero(d <= threshold)
        qs.append(q + i)
        rs.append(r)
        ds.append(d[q, r])
    return (np.concatenate(qs).astype(np.int64), np.concatenate(rs).astype(np.int64),
            np.concatenate(ds).astype(np.int32))


@dataclass(frozen=True, eq=False)
class _Snapshot:
    main: _Block
    delta_words: np.ndarray  # capacity rows; only the first delta_n are valid (and never change)
    delta_ids: np.ndarray
    delta_n: int
    removed: frozenset[int]


@dataclass(frozen=True, slots=True)
class HammingHit:
    id: int
    distance: int


class HammingIndex:
    """Exact Hamming-radius search over 256-bit hashes with 100% recall; safe to add to while searching.

    `ids` are the caller's integers (e.g. bank item ids); the same id may be added more than once (vPDQ frames).
    """

    def __init__(self, delta_limit: int = 50_000, background: bool = True) -> None:
        self.delta_limit = delta_limit
        self.background = background
        self._lock = threading.Lock()
        self._rebuilding: threading.Thread | None = None
        self._snap = _Snapshot(_Block.empty(), np.zeros((1024, WORDS), np.uint64), np.zeros(1024, np.int64), 0,
                               frozenset())
        self.rebuilds = 0

    @classmethod
    def from_words(cls, words: np.ndarray, ids: np.ndarray | None = None, **kwargs: object) -> HammingIndex:
        """Build straight into the main block (no copy of `words` beyond a dtype change)."""
        index = cls(**kwargs)  # type: ignore[arg-type]
        if ids is None:
            ids = np.arange(len(words), dtype=np.int64)
        s = index._snap
        index._snap = _Snapshot(_Block.build(words, ids), s.delta_words, s.delta_ids, 0, frozenset())
        return index

    def __len__(self) -> int:
        s = self._snap
        return len(s.main) + s.delta_n

    @property
    def nbytes(self) -> int:
        s = self._snap
        return s.main.nbytes + s.delta_words.nbytes + s.delta_ids.nbytes

    def add(self, hashes: Sequence[str] | np.ndarray, ids: Iterable[int]) -> None:
        """Add hashes (hex strings or an (n, 4) uint64 array) with their ids."""
        words = hashes if isinstance(hashes, np.ndarray) else hex_to_words(list(hashes))
        ids_arr = np.fromiter(ids, dtype=np.int64) if not isinstance(ids, np.ndarray) else ids.astype(np.int64)
        if len(words) != len(ids_arr):
            raise ValueError("hashes and ids differ in length")
        if len(words) == 0:
            return
        with self._lock:
            s = self._snap
            n, k = s.delta_n, len(words)
            dw, di = s.delta_words, s.delta_ids
            if n + k > len(dw):
                cap = max(2 * len(dw), n + k)
                dw = np.concatenate([dw[:n], np.zeros((cap - n, WORDS), np.uint64)])
                di = np.concatenate([di[:n], np.zeros(cap - n, np.int64)])
            dw[n : n + k] = words
            di[n : n + k] = ids_arr
            removed = s.removed - set(ids_arr.tolist()) if s.removed else s.removed
            self._snap = _Snapshot(s.main, dw, di, n + k, removed)
            grow = n + k >= self.delta_limit
        if grow:
            self.rebuild(wait=not self.background)

    def remove(self, ids: Iterable[int]) -> None:
        """Stop returning these ids (they are dropped for good at the next rebuild)."""
        with self._lock:
            s = self._snap
            self._snap = _Snapshot(s.main, s.delta_words, s.delta_ids, s.delta_n, s.removed | set(ids))

    def rebuild(self, wait: bool = True) -> None:
        """Fold the delta block (less removed ids) into a new main block and swap it in."""
        with self._lock:
            if self._rebuilding is not None and self._rebuilding.is_alive():
                thread = self._rebuilding
            else:
                thread = threading.Thread(target=self._rebuild, name="basira-hamming-rebuild", daemon=True)
                self._rebuilding = thread
                thread.start()
        if wait:
            thread.join()

    def _rebuild(self) -> None:
        s = self._snap
        words = np.concatenate([s.main.words, s.delta_words[: s.delta_n]])
        ids = np.concatenate([s.main.ids, s.delta_ids[: s.delta_n]])
        if s.removed:
            keep = ~np.isin(ids, np.fromiter(s.removed, dtype=np.int64))
            words, ids = words[keep], ids[keep]
        block = _Block.build(words, ids)
        with self._lock:
            cur = self._snap
            tail = cur.delta_n - s.delta_n  # rows added while we were building
            cap = max(1024, 2 * tail)
            dw = np.zeros((cap, WORDS), np.uint64)
            di = np.zeros(cap, np.int64)
            dw[:tail] = cur.delta_words[s.delta_n : cur.delta_n]
            di[:tail] = cur.delta_ids[s.delta_n : cur.delta_n]
            self._snap = _Snapshot(block, dw, di, tail, cur.removed - s.removed)
            self.rebuilds += 1

    def search(
        self, queries: Sequence[str] | np.ndarray, threshold: int = 31
    ) -> list[list[HammingHit]]:
        """For each query, every (id, distance) within `threshold`, nearest first."""
        q = queries if isinstance(queries, np.ndarray) else hex_to_words(list(queries))
        qi, ids, dist = self.search_arrays(q, threshold)
        out: list[list[HammingHit]] = [[] for _ in range(len(q))]
        order = np.lexsort((ids, dist, qi))
        for i, id_, d in zip(qi[order].tolist(), ids[order].tolist(), dist[order].tolist(), strict=True):
            out[i].append(HammingHit(id_, d))
        return out

    def search_arrays(self, queries: np.ndarray, threshold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Vectorized search: (query index, id, distance) arrays over all queries."""
        s = self._snap  # one consistent view for the whole lookup
        workers = _pool()._max_workers
        if len(queries) >= _PARALLEL_MIN and workers > 1:
            bounds = np.linspace(0, len(queries), 4 * workers + 1).astype(int)
            chunks = [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
            parts = list(_pool().map(lambda ab: s.main.search(queries[ab[0] : ab[1]], threshold), chunks))
            qi = np.concatenate([p[0] + a for p, (a, _) in zip(parts, chunks, strict=True)])
            rows = np.concatenate([p[1] for p in parts])
            dist = np.concatenate([p[2] for p in parts])
        else:
            qi, rows, dist = s.main.search(queries, threshold)
        ids = s.main.ids[rows]
        if s.delta_n:
            dq, dr, dd = _scan(s.delta_words[: s.delta_n], queries, threshold)
            qi = np.concatenate([qi, dq])
            ids = np.concatenate([ids, s.delta_ids[dr]])
            dist = np.concatenate([dist, dd])
        if s.removed and len(ids):
            keep = ~np.isin(ids, np.fromiter(s.removed, dtype=np.int64))
            qi, ids, dist = qi[keep], ids[keep], dist[keep]
        return qi, ids, dist
