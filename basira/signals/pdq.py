"""PDQ: Meta's 256-bit perceptual image hash (via the `pdqhash` bindings), compared by Hamming distance."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import ClassVar

import numpy as np

from basira.core.i18n import N_
from basira.signals.base import Candidates, SignalError, SignalIndex, SignalType, register
from basira.signals.content import MediaContent
from basira.signals.index import HammingIndex, hex_to_words

#: PDQ's own advice: hashes of quality below 50 come from near-uniform images and match too much.
MIN_QUALITY = 50
_HEX = frozenset("0123456789abcdef")


def pdq_from_image(image: object) -> tuple[str, int]:
    """(hex hash, quality 0-100) of a PIL image or an RGB uint8 array."""
    import pdqhash

    if not isinstance(image, np.ndarray):
        image = np.asarray(image.convert("RGB"))  # type: ignore[attr-defined]
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    bits, quality = pdqhash.compute(np.ascontiguousarray(image, dtype=np.uint8))
    # Bit 0 is the most significant bit of the first hex digit, as python-threatexchange and HMA write it.
    return np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes().hex(), int(quality)


def pdq_from_file(path: str | Path, min_side: int = 256) -> tuple[str, int]:
    """(hex hash, quality) of an image file. Large images are decoded at reduced scale first (no smaller than
    `min_side`; `min_side=0` decodes at full size). PDQ filters every image down to 64x64 and its reference
    ports also shrink to ~512 px first, so this makes a 1000x1000 JPEG ~4x faster to hash for a small shift
    against a full-size decode (measured: median 4 bits, at most 8, on drawn shapes; median 8, at most 24, on
    noise-like textures — see docs/hash-matching.md)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            im: Image.Image = opened
            if min_side:
                im.draft("RGB", (min_side, min_side))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
                factor = min(im.size) // min_side
                if factor >= 2:  # other formats (or huge JPEGs): integer box reduction
                    im = im.reduce(factor)
            return pdq_from_image(im.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise SignalError.of(N_("%(path)s: not an image PDQ can hash (%(error)s)"), path=path, error=exc) from exc


def pdq_to_words(signal: str) -> np.ndarray:
    """A hex PDQ hash as 4 big-endian uint64 words (the layout HammingIndex stores)."""
    return np.frombuffer(bytes.fromhex(signal), dtype=">u8").astype(np.uint64)


def pdq_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


class PdqIndex(SignalIndex):
    """Every stored PDQ hash within the Hamming radius of a query, exactly (multi-index hashing: `HammingIndex`),
    a batch of queries in one pass."""

    def __init__(self, signal_type: type[SignalType]) -> None:
        super().__init__(signal_type)
        self.hamming = HammingIndex()

    def __len__(self) -> int:
        return len(self.hamming)

    def add(self, signals: Sequence[str], ids: Sequence[int]) -> None:
        self.hamming.add(list(signals), ids)

    def remove(self, ids: Iterable[int]) -> None:
        self.hamming.remove(ids)

    def query_many(self, signals: Sequence[str], max_distance: float) -> list[Candidates]:
        out: list[Candidates] = [[] for _ in signals]
        if not signals:
            return out
        qi, ids, dist = self.hamming.search_arrays(hex_to_words(list(signals)), int(max_distance))
        for q, i, d in zip(qi.tolist(), ids.tolist(), dist.tolist(), strict=True):
            out[q].append((i, float(d)))
        return out


@register
class PdqSignal(SignalType):
    """PDQ image hash: 64 hex characters; a match is Hamming distance <= 31 by default (HMA's default)."""

    name = "pdq"
    aliases: ClassVar[tuple[str, ...]] = ("pdq_hash", "hash_pdq", "photo_pdq", "pdq-hash", "image_pdq")
    index_kind = "hamming"
    content = "image"
    post_content = MediaContent  # the PDQ ingest stored for each photo
    default_threshold = 31

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip().lower()
        if len(s) != 64 or not _HEX.issuperset(s):
            raise SignalError.of(N_("not a %(type)s hash (%(n)s hex characters): %(signal)s"), type="PDQ", n=64,
                                     signal=repr(signal[:80]))
        return s

    @classmethod
    def distance(cls, a: str, b: str) -> int:
        return pdq_distance(a, b)

    @classmethod
    def get_index_cls(cls) -> type[SignalIndex]:
        return PdqIndex

    @classmethod
    def hash_file(cls, path: str | Path, *, full: bool = False) -> str:
        """`full`: decode the image at full resolution (what HMA and pdqhash hash; slower on large JPEGs)."""
        signal, quality = pdq_from_file(path, min_side=0 if full else 256)
        if quality < MIN_QUALITY:
            raise SignalError.of(N_("%(path)s: PDQ quality %(quality)s < %(min)s (image too flat to hash)"), path=path,
                                 quality=quality, min=MIN_QUALITY)
        return signal
