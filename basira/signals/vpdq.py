"""vPDQ: Meta's video hash, a PDQ hash per sampled frame (via the `vpdq` bindings, which need FFmpeg's
libraries: see scripts/system-deps.sh). Matching needs no native code: frames are PDQ hashes.

Signal string: python-threatexchange's form, a JSON list of "pdq_hex,quality,timestamp" strings.
A query video matches a bank video when at least 80% of the query's distinct frames are within PDQ distance 31
of some frame of the bank video (HMA's defaults); distance = 1 - that share.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from basira.core.i18n import N_
from basira.signals.base import Candidates, SignalError, SignalIndex, SignalType, register
from basira.signals.content import MediaContent
from basira.signals.index import HammingIndex, hex_to_words
from basira.signals.pdq import MIN_QUALITY, PdqSignal

FRAME_THRESHOLD = 31


@dataclass(frozen=True, slots=True)
class VpdqFrame:
    pdq: str
    quality: int
    timestamp: float

    def __str__(self) -> str:
        return f"{self.pdq},{self.quality},{self.timestamp:.3f}"


def parse_frames(signal: str) -> list[VpdqFrame]:
    """Frames of a vPDQ signal (JSON list of "hex,quality,timestamp"); raise SignalError if malformed."""
    try:
        raw = json.loads(signal)
        if not isinstance(raw, list):
            raise ValueError("not a list")
        frames = []
        for entry in raw:
            pdq_hex, quality, ts = str(entry).split(",")
            frames.append(VpdqFrame(PdqSignal.validate(pdq_hex), int(quality), float(ts)))
    except (ValueError, SignalError) as exc:
        raise SignalError.of(N_("not a vPDQ signal (JSON list of 'pdq,quality,timestamp'): %(signal)s"),
                             signal=repr(signal[:80])) from exc
    return frames


def frames_to_signal(frames: list[VpdqFrame]) -> str:
    return json.dumps([str(f) for f in frames], separators=(",", ":"))


def distinct_frame_hashes(signal: str, min_quality: int = MIN_QUALITY) -> list[str]:
    """The distinct PDQ hashes of a vPDQ signal's frames of good enough quality (what gets indexed)."""
    return list(dict.fromkeys(f.pdq for f in parse_frames(signal) if f.quality >= min_quality))


def frame_words(hashes: list[str]) -> np.ndarray:
    if not hashes:
        return np.zeros((0, 4), np.uint64)
    return np.frombuffer(bytes.fromhex("".join(hashes)), dtype=">u8").astype(np.uint64).reshape(-1, 4)


def query_match_share(query: list[str], target: list[str], threshold: int = FRAME_THRESHOLD) -> float:
    """Share of the query's frames within `threshold` of some target frame."""
    if not query or not target:
        return 0.0
    q, t = frame_words(query), frame_words(target)
    d = np.bitwise_count(q[:, None, :] ^ t[None, :, :]).sum(axis=2, dtype=np.int32)
    return float((d.min(axis=1) <= threshold).mean())


class VpdqIndex(SignalIndex):
    """Each video's distinct frames in one Hamming index (owner: the video's item id). A query's frames are
    searched at FRAME_THRESHOLD in one batch; a video's distance is 1 - the share of query frames it matched."""

    def __init__(self, signal_type: type[SignalType]) -> None:
        super().__init__(signal_type)
        self.hamming = HammingIndex()
        self._videos: set[int] = set()

    def __len__(self) -> int:
        return len(self._videos)

    def add(self, signals: Sequence[str], ids: Sequence[int]) -> None:
        hashes: list[str] = []
        owners: list[int] = []
        for signal, item_id in zip(signals, ids, strict=True):
            frames = distinct_frame_hashes(signal)
            hashes.extend(frames)
            owners.extend([int(item_id)] * len(frames))
            self._videos.add(int(item_id))
        self.hamming.add(hashes, owners)

    def remove(self, ids: Iterable[int]) -> None:
        ids = [int(i) for i in ids]
        self._videos.difference_update(ids)
        self.hamming.remove(ids)

    def query_many(self, signals: Sequence[str], max_distance: float) -> list[Candidates]:
        out: list[Candidates] = [[] for _ in signals]
        for n, signal in enumerate(signals):
            frames = distinct_frame_hashes(signal)
            if not frames:
                continue
            qi, ids, _ = self.hamming.search_arrays(hex_to_words(frames), FRAME_THRESHOLD)
            matched_frames: dict[int, set[int]] = defaultdict(set)
            for q, i in zip(qi.tolist(), ids.tolist(), strict=True):
                matched_frames[i].add(q)
            for i, qs in matched_frames.items():
                d = 1.0 - len(qs) / len(frames)
                if d <= max_distance + 1e-12:
                    out[n].append((i, d))
        return out


@register
class VpdqSignal(SignalType):
    """vPDQ video hash; distance = 1 - share of query frames matched (match: <= 0.2, i.e. >= 80% of frames)."""

    name = "vpdq"
    aliases: ClassVar[tuple[str, ...]] = ("video_vpdq", "vpdq_hash")
    index_kind = "vpdq"
    content = "video"
    post_content = MediaContent  # the vPDQ stored for each video
    default_threshold = 0.2

    @classmethod
    def validate(cls, signal: str) -> str:
        frames = parse_frames(signal)
        if not frames:
            raise SignalError.of(N_("vPDQ signal has no frames"))
        # Kept as written (a partner's float formatting and spacing differ from ours): an exported item is
        # byte for byte what was received; the frames are what is matched.
        return signal.strip()

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return 1.0 - query_match_share(distinct_frame_hashes(a), distinct_frame_hashes(b))

    @classmethod
    def get_index_cls(cls) -> type[SignalIndex]:
        return VpdqIndex

    @classmethod
    def hash_file(cls, path: str | Path, seconds_per_hash: float = 1.0) -> str:
        try:
            import vpdq
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise SignalError.of(N_("vPDQ hashing needs the vpdq package (and FFmpeg's libraries)")) from exc
        if not Path(path).is_file():
            raise SignalError.of(N_("%(path)s: no such file"), path=path)
        try:
            feats = vpdq.computeHash(str(path), seconds_per_hash=seconds_per_hash)
        except Exception as exc:  # noqa: BLE001 - the binding raises bare errors on undecodable input
            raise SignalError.of(N_("%(path)s: not a video vPDQ can hash (%(error)s)"), path=path, error=exc) from exc
        frames = [VpdqFrame(f.hex, int(f.quality), float(f.timestamp)) for f in feats]
        if not frames:
            raise SignalError.of(N_("%(path)s: no video frames"), path=path)
        return frames_to_signal(frames)
