"""Near-duplicate text: MinHash (datasketch) over character 5-grams of the normalized text.

Normalization (basira.text.normalize_text) folds Arabic letter variants, homoglyphs, leetspeak, spacing tricks and
links first, so a copied text that was disguised still lands on the same shingles.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import numpy as np

from basira.signals.base import SignalError, SignalType, register

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
        raise SignalError("text is empty after normalization: nothing to hash")
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


@register
class TextMinHashSignal(SignalType):
    """Near-duplicate text: 64 MinHash values (512 hex chars); distance = 1 - estimated Jaccard similarity."""

    name = "text_minhash"
    aliases: ClassVar[tuple[str, ...]] = ("minhash", "text", "text_near_dup")
    index_kind = "similarity"
    content = "text"
    default_threshold = 0.4  # Jaccard >= 0.6 over 5-grams: the same text with light edits

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip().lower()
        if len(s) != _HEX_LEN or not _HEX.issuperset(s):
            raise SignalError(f"not a text MinHash ({_HEX_LEN} hex characters): {signal[:80]!r}")
        return s

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return 1.0 - float(np.mean(minhash_from_hex(a) == minhash_from_hex(b)))

    @classmethod
    def similarity_values(cls, signal: str) -> np.ndarray:
        return minhash_from_hex(signal)

    @classmethod
    def hash_text(cls, text: str) -> str:
        return minhash_hex(minhash_values(text))

    @classmethod
    def hash_file(cls, path: str | Path) -> str:  # a text file: its UTF-8 content
        try:
            with open(path, encoding="utf-8") as f:
                return cls.hash_text(f.read())
        except (OSError, UnicodeDecodeError) as exc:
            raise SignalError(f"{path}: not a UTF-8 text file ({exc})") from exc


MAX_RAW_TEXT = 20_000  # characters: a shared text is a post or a phrase, not a document


@register
class RawTextSignal(SignalType):
    """A text as shared (python-threatexchange's `raw_text`): kept verbatim, so it goes back out unchanged, and
    matched as a near-duplicate on the MinHash of its normalized form (distance = 1 - estimated Jaccard)."""

    name = "raw_text"
    aliases: ClassVar[tuple[str, ...]] = ("raw_text_string", "debug_string")
    index_kind = "similarity"
    content = "text"
    default_threshold = 0.2  # Jaccard >= 0.8: partners share exact phrases, so stricter than text_minhash

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip()
        if not s:
            raise SignalError("empty raw_text")
        if len(s) > MAX_RAW_TEXT:
            raise SignalError(f"raw_text longer than {MAX_RAW_TEXT:,} characters ({len(s):,})")
        return s

    @classmethod
    def similarity_values(cls, signal: str) -> np.ndarray:
        return minhash_values(signal)

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return 1.0 - float(np.mean(minhash_values(a) == minhash_values(b)))

    @classmethod
    def hash_text(cls, text: str) -> str:
        return cls.validate(text)
