"""Scoring long texts in bounded memory: the detector sees at most CHUNK_CHARS characters at a time.

A post of a million characters once peaked at 576 MB in the detector (a 4 MB one at 1.9 GB). Here a long
text is cut into overlapping chunks (at whitespace where it can be), the chunks are scored a few at a time,
and the results are folded into one detection: the highest chunk score, flagged when any chunk is, the
categories and signals of the flagged chunks, evidence spans shifted back onto the original text. Short
texts (the usual case) go to the detector unchanged, in one batch.

A wrapper around `Detector.detect`, so the detector's internals can change underneath it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

CHUNK_CHARS = 8_000  # a long forum post or a page of a document
OVERLAP_CHARS = 200  # a phrase cut at a chunk edge is still whole in one of the two chunks
CHUNKS_PER_CALL = 16  # chunks scored together: bounds the detector's working memory
MAX_EVIDENCE = 20  # spans kept for one long text


def chunk_bounds(n: int, size: int = CHUNK_CHARS, overlap: int = OVERLAP_CHARS, text: str = "") -> list[tuple[int, int]]:
    """(start, end) of the chunks covering [0, n): each at most `size` long, consecutive ones overlapping by
    about `overlap`, ends moved back to whitespace when there is some in the chunk's last tenth."""
    if n <= size:
        return [(0, n)]
    out = []
    start = 0
    while start < n:
        end = min(n, start + size)
        if end < n and text:
            floor = end - size // 10
            cut = max(text.rfind(" ", floor, end), text.rfind("\n", floor, end))
            if cut > start + overlap:
                end = cut + 1
        out.append((start, end))
        if end >= n:
            break
        start = max(end - overlap, start + 1)
    return out


def _fold(det: Any, text: str, parts: list[tuple[int, Any]]) -> Any:
    """One detection for the whole text from its chunks' (offset, detection)."""
    best = max(parts, key=lambda p: p[1].score)[1]
    flagged = [d for _, d in parts if d.flagged]
    cats: list[str] = []
    sigs: list[str] = []
    for d in flagged or [best]:
        cats += [c for c in d.categories if c not in cats]
    for _, d in parts:
        sigs += [s for s in d.signals if s not in sigs]
    spans: dict[tuple[int, int], Any] = {}
    for off, d in sorted(parts, key=lambda p: -p[1].score):
        for e in d.evidence:
            key = (e.start + off, e.end + off)
            if key not in spans and len(spans) < MAX_EVIDENCE:
                spans[key] = replace(e, start=key[0], end=key[1], text=text[key[0] : key[1]])
    lang = Counter(d.lang for _, d in parts).most_common(1)[0][0]
    return replace(
        best,
        flagged=bool(flagged),
        lang=lang,
        categories=cats,
        signals=sigs,
        evidence=sorted(spans.values(), key=lambda e: e.start),
    )


def detect_bounded(
    det: Any,
    texts: Sequence[str],
    langs: Sequence[str | None],
    chunk_chars: int = CHUNK_CHARS,
    overlap: int = OVERLAP_CHARS,
) -> list[Any]:
    """`det.detect(texts, langs=langs)`, with texts longer than `chunk_chars` scored chunk by chunk."""
    out: list[Any] = [None] * len(texts)
    short = [i for i, t in enumerate(texts) if len(t) <= chunk_chars]
    if short:
        for i, d in zip(short, det.detect([texts[i] for i in short], langs=[langs[i] for i in short]), strict=True):
            out[i] = d
    for i, text in enumerate(texts):
        if out[i] is not None:
            continue
        bounds = chunk_bounds(len(text), chunk_chars, overlap, text)
        parts: list[tuple[int, Any]] = []
        for k in range(0, len(bounds), CHUNKS_PER_CALL):
            group = bounds[k : k + CHUNKS_PER_CALL]
            results = det.detect([text[a:b] for a, b in group], langs=[langs[i]] * len(group))
            parts += [(a, d) for (a, _), d in zip(group, results, strict=True)]
        out[i] = _fold(det, text, parts)
    return out
