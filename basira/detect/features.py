"""Feature extraction: hashed char and word n-grams with learned IDF, plus the indicator block.

Hashing keeps the model free of a vocabulary (nothing to unpickle, constant memory); the IDF vector and
the feature parameters are plain arrays and JSON, saved beside the weights.

The n-grams are scikit-learn's HashingVectorizer features (char_wb and word analyzers, MurmurHash3 x86-32,
seed 0, no alternate sign), computed here on a whole batch at once with numpy: the n-grams are spans of one
UTF-8 buffer and the hash runs over all of them together. sklearn builds every n-gram as a Python string and
hashes it one at a time, which was 54 % of the detector's CPU; tests/test_detect_features.py checks that the
two give the same matrix, entry for entry.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import scipy.sparse as sp

from basira.detect.indicators import CATEGORIES, category_counts
from basira.detect.lexicon import SUPPORT_CATEGORIES


@dataclass(frozen=True)
class FeatureConfig:
    char_ngram_min: int = 2
    char_ngram_max: int = 5
    char_features: int = 2**20
    word_ngram_max: int = 2
    word_features: int = 2**18
    indicator_scale: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


_CATEGORY_INDEX = {c: j for j, c in enumerate(CATEGORIES)}
_WORD_TOKEN = r"(?u)\b\w\w+\b|<url>|<user>"
_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
_TAIL_MASK = np.array([0, 0xFF, 0xFFFF, 0xFFFFFF], dtype=np.uint32)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def _murmur3_32(buf: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """MurmurHash3 x86-32 (seed 0) of every span buf[starts[i]:starts[i] + lengths[i]], as int32.

    The spans run together, block by block; sorted by block count, the spans still hashing a block are a
    prefix, so a long word costs its own blocks only.
    """
    raw = np.frombuffer(buf + b"\0\0\0\0", dtype=np.uint8)
    b = raw.astype(np.uint32)
    words = b[:-3] | (b[1:-2] << np.uint32(8)) | (b[2:-1] << np.uint32(16)) | (b[3:] << np.uint32(24))
    nblocks = lengths >> 2
    # a stable sort of 16-bit keys is a radix sort: linear
    order = np.argsort(-nblocks.astype(np.int16) if len(nblocks) and nblocks.max() < 2**15 else -nblocks, kind="stable")
    starts, lengths, nblocks = starts[order], lengths[order], nblocks[order]
    h = np.zeros(len(starts), dtype=np.uint32)
    if len(starts):
        ends = np.searchsorted(-nblocks, -np.arange(int(nblocks[0]) + 1), side="left")  # spans with > k blocks
        for k in range(int(nblocks[0])):
            n = int(ends[k])
            k1 = words[starts[:n] + 4 * k]
            k1 *= _C1
            k1 = _rotl(k1, 15)
            k1 *= _C2
            hk = h[:n] ^ k1
            hk = _rotl(hk, 13)
            h[:n] = hk * np.uint32(5) + np.uint32(0xE6546B64)
    k1 = words[starts + 4 * nblocks] & _TAIL_MASK[lengths & 3]  # 0 when there is no tail: h is unchanged
    k1 *= _C1
    k1 = _rotl(k1, 15)
    k1 *= _C2
    h ^= k1
    h ^= lengths.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    out = np.empty_like(h)
    out[order] = h
    return out.view(np.int32)


def _ragged_arange(counts: np.ndarray) -> np.ndarray:
    """0..c-1 for each c in counts, concatenated."""
    total = int(counts.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)


def _utf8_offsets(cps: np.ndarray) -> np.ndarray:
    """Byte offset in the UTF-8 encoding of each code point (and of the end)."""
    size = 1 + (cps >= 0x80).astype(np.int64) + (cps >= 0x800) + (cps >= 0x10000)
    out = np.zeros(len(cps) + 1, dtype=np.int64)
    np.cumsum(size, out=out[1:])
    return out


def _csr(rows: np.ndarray, hashes: np.ndarray, n_rows: int, n_features: int) -> sp.csr_matrix:
    """Counts of hashed features per row, as FeatureHasher builds them (abs(h) % n, duplicates summed, sorted)."""
    if n_features & (n_features - 1) == 0:
        # A power of two: the remainder is the low bits (no int64 copy and division: 0.75 → 0.02 ms per 90,000
        # n-grams). abs(-2**31) stays -2**31 in int32, whose low bits are 0, as 2**31 % n_features is.
        cols = np.abs(hashes) & np.int32(n_features - 1)
    else:
        cols = np.abs(hashes.astype(np.int64)) % n_features
    wide = n_rows * n_features >= 2**31
    keys = np.sort(rows.astype(np.int64) * n_features + cols if wide else (rows * n_features + cols).astype(np.int32))
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    starts = np.flatnonzero(first)
    distinct = keys[starts]
    counts = np.diff(np.append(starts, len(keys))).astype(np.float32)
    indptr = np.searchsorted(distinct, np.arange(n_rows + 1, dtype=np.int64) * n_features).astype(np.int32)
    m = sp.csr_matrix((counts, (distinct % n_features).astype(np.int32), indptr), shape=(n_rows, n_features))
    m.has_canonical_format = True  # sorted and summed, as sum_duplicates leaves it
    return m


def _spans(pieces: list[str]) -> tuple[bytes, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The pieces joined, UTF-8; each piece's runs of non-space chars as (start char, length) and their piece."""
    joined = "".join(pieces)
    cps = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    space = np.concatenate(([True], cps == 32, [True]))
    edges = np.flatnonzero(space[1:] != space[:-1])  # run starts and ends alternate
    run_start, run_end = edges[0::2], edges[1::2]
    piece_ends = np.cumsum([len(p) for p in pieces])
    piece_of = np.searchsorted(piece_ends, run_start, side="right")
    return joined.encode("utf-8"), _utf8_offsets(cps), run_start, run_end - run_start, piece_of


_GUARD = 2.0**-52  # twice the unit roundoff of float64: see l2_normalize_rows


def l2_normalize_rows(m: sp.csr_matrix) -> sp.csr_matrix:
    """Each row scaled to unit L2 norm, in place: exactly sklearn.preprocessing.normalize(m, copy=False).

    sklearn's loop squares each float32 value in float32, adds the squares left to right in double, and
    divides each value by the root in double; numpy adds them pairwise. Two orders of adding n values differ by
    at most about 2·n·u of the sum (u = 2**-53), so a float32 result can differ only where the double quotient
    lies that close to a float32 rounding boundary (about 1 value in 50,000 here): those rows are redone in
    sklearn's order. The features (and the shipped weights) stay bit for bit what sklearn made them, without
    importing sklearn, which was half of the detector's start-up.
    """
    data, indptr = m.data, m.indptr
    lens = np.diff(indptr)
    sq = (data * data).astype(np.float64)
    sums = np.zeros(len(lens))
    if len(sq):
        sums = np.add.reduceat(sq, np.minimum(indptr[:-1], len(sq) - 1))
        sums[lens == 0] = 0.0
    norms = np.where(sums == 0.0, 1.0, np.sqrt(sums))  # an empty row stays as it is
    q = data.astype(np.float64) / np.repeat(norms, lens)
    out = q.astype(np.float32)
    wide = out.astype(np.float64)
    up = (wide + np.nextafter(out, np.float32(np.inf))) * 0.5  # the rounding boundaries around each result
    down = (wide + np.nextafter(out, np.float32(-np.inf))) * 0.5
    near = np.minimum(up - q, q - down) <= np.repeat((lens + 8) * _GUARD, lens) * np.abs(q)
    if near.any():
        for row in np.unique(np.searchsorted(indptr, np.flatnonzero(near), side="right") - 1):
            a, b = indptr[row], indptr[row + 1]
            total = float(np.cumsum(sq[a:b])[-1])  # cumsum adds in order
            out[a:b] = (data[a:b].astype(np.float64) / (np.sqrt(total) if total else 1.0)).astype(np.float32)
    m.data = out.astype(data.dtype, copy=False)
    return m


class FeatureExtractor:
    """normalized texts -> sparse feature matrix; `fit_idf` learns document frequencies once."""

    def __init__(self, config: FeatureConfig, idf: np.ndarray | None = None):
        self.config = config
        self.idf = idf
        self._tokens = re.compile(_WORD_TOKEN).findall

    @property
    def n_features(self) -> int:
        return self.config.char_features + self.config.word_features + 2 * len(CATEGORIES)

    def _counts(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, sp.csr_matrix]:
        """Raw n-gram counts: the char_wb block and the word block (see the module docstring)."""
        if isinstance(texts, str) or not len(texts):
            raise ValueError("FeatureExtractor needs a non-empty sequence of texts")
        return self._char_counts(texts), self._word_counts(texts)

    def _char_counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        # sklearn's char_wb: each whitespace-separated word padded with one space each side; n-grams of each
        # length n inside it, and a padded word shorter than n counted once, whole (then no longer n-grams):
        # both are max(len - n + 1, 0) n-grams of length n at offsets 0, 1, ... with at most one of length len.
        buf, offsets, run_start, run_len, rows = _spans([" " + "  ".join(t.split()) + " " for t in texts])
        start, length = run_start - 1, run_len + 2  # the padded words
        all_rows, hashes = [], []
        cfg = self.config
        for n in range(cfg.char_ngram_min, cfg.char_ngram_max + 1):
            counts = np.maximum(length - n + 1, 0)
            first = np.repeat(start, counts) + _ragged_arange(counts)  # first char of each n-gram
            b0 = offsets[first]
            hashes.append(_murmur3_32(buf, b0, offsets[first + n] - b0))
            all_rows.append(np.repeat(rows, counts))
        return _csr(np.concatenate(all_rows), np.concatenate(hashes), len(texts), cfg.char_features)

    def _word_counts(self, texts: Sequence[str]) -> sp.csr_matrix:
        # sklearn's word analyzer: tokens, then the n-grams of 2..max tokens joined by one space. The tokens,
        # joined by spaces, are the runs of non-space chars; an n-gram is the span from one token to another.
        buf, offsets, start, length, rows = _spans([" ".join(self._tokens(t)) + " " for t in texts])
        end = start + length
        all_rows, hashes = [rows], [_murmur3_32(buf, offsets[start], offsets[end] - offsets[start])]
        for n in range(2, self.config.word_ngram_max + 1):
            if len(rows) < n:
                break
            same = rows[n - 1:] == rows[: len(rows) - n + 1]  # n consecutive tokens of one text
            first, last = start[: len(rows) - n + 1][same], end[n - 1:][same]
            hashes.append(_murmur3_32(buf, offsets[first], offsets[last] - offsets[first]))
            all_rows.append(rows[: len(rows) - n + 1][same])
        return _csr(np.concatenate(all_rows), np.concatenate(hashes), len(texts), self.config.word_features)

    def fit_idf(self, texts: Sequence[str]) -> np.ndarray:
        char, word = self._counts(texts)
        n = len(texts)
        df = np.concatenate([np.bincount(m.indices, minlength=m.shape[1]) for m in (char, word)])
        self.idf = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
        return self.idf

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.transform_with_indicators(texts)[0]

    def transform_with_indicators(self, texts: Sequence[str]) -> tuple[sp.csr_matrix, np.ndarray]:
        """The feature matrix, and its indicator block (the last n_indicator_columns) as a dense array."""
        if self.idf is None:
            raise RuntimeError("FeatureExtractor.transform called before fit_idf")
        char, word = self._counts(texts)
        nc = self.config.char_features
        blocks = []
        for m, idf in ((char, self.idf[:nc]), (word, self.idf[nc:])):
            m.data = np.log1p(m.data)  # sublinear tf: long articles do not drown in repeats
            m.data *= idf[m.indices]  # what m.multiply(idf) computes, without its COO round trip
            blocks.append(l2_normalize_rows(m))
        indicators = self.indicator_array(texts)
        blocks.append(sp.csr_matrix(indicators))
        return sp.hstack(blocks, format="csr", dtype=np.float32), indicators

    def indicator_block(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Per category: log(1 + hits) and a presence flag, language-independent by design."""
        return sp.csr_matrix(self.indicator_array(texts))

    def indicator_array(self, texts: Sequence[str]) -> np.ndarray:
        """indicator_block, dense."""
        k = len(CATEGORIES)
        out = np.zeros((len(texts), 2 * k), dtype=np.float32)
        s = self.config.indicator_scale
        for i, text in enumerate(texts):
            for category, c in category_counts(text).items():  # most texts have none
                j = _CATEGORY_INDEX[category]
                out[i, j] = s * math.log1p(c)
                out[i, k + j] = s
        return out

    @property
    def n_indicator_columns(self) -> int:
        return 2 * len(CATEGORIES)

    @property
    def support_columns(self) -> list[int]:
        """Columns of the indicator block's presence flags for the support categories."""
        k = len(CATEGORIES)
        start = self.config.char_features + self.config.word_features + k
        return [start + j for j, c in enumerate(CATEGORIES) if c in SUPPORT_CATEGORIES]

    def feature_names_tail(self) -> list[str]:
        return [f"ind_log:{c}" for c in CATEGORIES] + [f"ind_any:{c}" for c in CATEGORIES]
