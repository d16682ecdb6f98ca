"""Near-duplicate text: MinHash (datasketch) over character 5-grams of the normalized text.

Normalization (basira.text.normalize_text) folds Arabic letter variants, homoglyphs, leetspeak, spacing tricks and
links first, so a copied text that was disguised still lands on the same shingles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from basira.core.i18n import N_
from basira.signals.base import Candidates, SignalError, SignalIndex, SignalType, register
from basira.signals.content import TextContent

NUM_PERM = 64
SHINGLE = 5
_SEED = 1
_SCHEME = "affine32"  # pinned: a change of scheme would change every stored text signal
_HEX_LEN = NUM_PERM * 8
_HEX = frozenset("0123456789abcdef")
_PERMS: list[object] = []  # datasketch's permutations, made once (they depend on num_perm and seed only)


def shingles(normalized: str, k: int = SHINGLE) -> set[bytes]:
    """Character k-grams of a normalized text (the whole text when shorter than k)."""
    s = normalized.strip()
    if len(s) <= k:
        return {s.encode("utf-8")} if s else set()
    return {s[i : i + k].encode("utf-8") for i in range(len(s) - k + 1)}


def minhash_values(text: str, *, normalized: bool = False) -> np.ndarray:
    """The NUM_PERM MinHash values (uint32) of a text's 5-gram set."""
    from datasketch import MinHash

    if not normalized:
        from basira.text import normalize_text

        text = normalize_text(text)
    grams = shingles(text)
    if not grams:
        raise SignalError.of(N_("text is empty after normalization: nothing to hash"))
    if not _PERMS:
        _PERMS.append(MinHash(num_perm=NUM_PERM, seed=_SEED, scheme=_SCHEME).permutations)
    m = MinHash(num_perm=NUM_PERM, seed=_SEED, permutations=_PERMS[0], scheme=_SCHEME)
    m.update_batch(list(grams))
    out: np.ndarray = m.hashvalues.astype(np.uint32)
    return out


def minhash_hex(values: np.ndarray) -> str:
    return values.astype(">u4").tobytes().hex()


def minhash_from_hex(signal: str) -> np.ndarray:
    return np.frombuffer(bytes.fromhex(signal), dtype=">u4").astype(np.uint32)


class MinHashIndex:
    """LSH over MinHash values (32 bands of 2 rows): candidates are then checked exactly.

    A pair with Jaccard similarity 0.5 shares a band with probability 1 - (1 - 0.5**2)**32 > 0.9998, so at the
    default threshold (Jaccard >= 0.6) misses are below one in ten million pairs.
    """

    BANDS = 32
    ROWS = 2

    def __init__(self) -> None:
        self._bands: list[dict[int, list[int]]] = [{} for _ in range(self.BANDS)]
        self._values: dict[int, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._values)

    def _keys(self, values: np.ndarray) -> list[int]:
        v = values.astype(np.uint64).reshape(self.BANDS, self.ROWS)
        keys: list[int] = ((v[:, 0] << np.uint64(32)) | v[:, 1]).tolist()
        return keys

    def add(self, id_: int, values: np.ndarray) -> None:
        self._values[int(id_)] = values
        for band, key in zip(self._bands, self._keys(values), strict=True):
            band.setdefault(key, []).append(int(id_))

    def remove(self, ids: Iterable[int]) -> None:
        for i in ids:
            self._values.pop(int(i), None)

    def search(self, values: np.ndarray, max_distance: float) -> list[tuple[int, float]]:
        """(id, distance = 1 - estimated Jaccard) of stored texts within max_distance, nearest first."""
        cands: set[int] = set()
        for band, key in zip(self._bands, self._keys(values), strict=True):
            cands.update(band.get(key, ()))
        out = []
        for c in cands:
            stored = self._values.get(c)
            if stored is None:
                continue
            d = 1.0 - float(np.mean(stored == values))
            if d <= max_distance + 1e-12:
                out.append((c, d))
        out.sort(key=lambda t: (t[1], t[0]))
        return out


class MinHashSignalIndex(SignalIndex):
    """A text type's index: its signals' MinHash values (`similarity_values`) in a MinHashIndex."""

    def __init__(self, signal_type: type[SignalType]) -> None:
        super().__init__(signal_type)
        self.minhash = MinHashIndex()
        values = getattr(signal_type, "similarity_values", None)
        if values is None:
            raise TypeError(f"signal type {signal_type.name} has no similarity_values for a MinHash index")
        self._values = values

    def __len__(self) -> int:
        return len(self.minhash)

    def add(self, signals: Sequence[str], ids: Sequence[int]) -> None:
        for signal, item_id in zip(signals, ids, strict=True):
            self.minhash.add(item_id, self._values(signal))

    def remove(self, ids: Iterable[int]) -> None:
        self.minhash.remove(ids)

    def query_many(self, signals: Sequence[str], max_distance: float) -> list[Candidates]:
        return [self.minhash.search(self._values(s), max_distance) for s in signals]


@register
class TextMinHashSignal(SignalType):
    """Near-duplicate text: 64 MinHash values (512 hex chars); distance = 1 - estimated Jaccard similarity."""

    name = "text_minhash"
    aliases: ClassVar[tuple[str, ...]] = ("minhash", "text", "text_near_dup")
    index_kind = "similarity"
    content = "text"
    post_content = TextContent
    default_threshold = 0.4  # Jaccard >= 0.6 over 5-grams: the same text with light edits

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip().lower()
        if len(s) != _HEX_LEN or not _HEX.issuperset(s):
            raise SignalError.of(N_("not a text MinHash (%(n)s hex characters): %(signal)s"), n=_HEX_LEN,
                                     signal=repr(signal[:80]))
        return s

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return 1.0 - float(np.mean(minhash_from_hex(a) == minhash_from_hex(b)))

    @classmethod
    def similarity_values(cls, signal: str) -> np.ndarray:
        return minhash_from_hex(signal)

    @classmethod
    def get_index_cls(cls) -> type[SignalIndex]:
        return MinHashSignalIndex

    @classmethod
    def hash_text(cls, text: str) -> str:
        return minhash_hex(minhash_values(text))

    @classmethod
    def signal_from(cls, value: str) -> str:  # a post's text: its MinHash
        return cls.hash_text(value)

    @classmethod
    def hash_file(cls, path: str | Path) -> str:  # a text file: its UTF-8 content
        try:
            with open(path, encoding="utf-8") as f:
                return cls.hash_text(f.read())
        except (OSError, UnicodeDecodeError) as exc:
            raise SignalError.of(N_("%(path)s: not a UTF-8 text file (%(error)s)"), path=path, error=exc) from exc


MAX_RAW_TEXT = 20_000  # characters: a shared text is a post or a phrase, not a document


@register
class RawTextSignal(SignalType):
    """A text as shared (python-threatexchange's `raw_text`): kept verbatim, so it goes back out unchanged, and
    matched as a near-duplicate on the MinHash of its normalized form (distance = 1 - estimated Jaccard)."""

    name = "raw_text"
    aliases: ClassVar[tuple[str, ...]] = ("raw_text_string", "debug_string")
    index_kind = "similarity"
    content = "text"
    post_content = TextContent  # the text itself: its index hashes it
    default_threshold = 0.2  # Jaccard >= 0.8: partners share exact phrases, so stricter than text_minhash

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip()
        if not s:
            raise SignalError.of(N_("empty raw_text"))
        if len(s) > MAX_RAW_TEXT:
            raise SignalError.of(N_("raw_text longer than %(limit)s characters (%(n)s)"), limit=f"{MAX_RAW_TEXT:,}",
                                     n=f"{len(s):,}")
        return s

    @classmethod
    def similarity_values(cls, signal: str) -> np.ndarray:
        return minhash_values(signal)

    @classmethod
    def get_index_cls(cls) -> type[SignalIndex]:
        return MinHashSignalIndex

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return 1.0 - float(np.mean(minhash_values(a) == minhash_values(b)))

    @classmethod
    def hash_text(cls, text: str) -> str:
        return cls.validate(text)
