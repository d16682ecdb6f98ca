"""Safe display of hostile text: evidence highlighting, visible bidi controls, truncation. Pure; the templates
escape every segment."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DISPLAY_LIMIT = 20_000  # characters shown inline; the rest is one click away as text/plain
# Characters that reorder or hide text: shown as visible markers so they cannot disguise what a post says
# or spill into the page around it.
BIDI_CONTROLS = {
    "\u202a": "LRE", "\u202b": "RLE", "\u202c": "PDF", "\u202d": "LRO", "\u202e": "RLO",
    "\u2066": "LRI", "\u2067": "RLI", "\u2068": "FSI", "\u2069": "PDI",
    "\u200e": "LRM", "\u200f": "RLM", "\u061c": "ALM", "\u200b": "ZWSP", "\ufeff": "BOM",
}


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    why: str | None = None  # set: an evidence span
    control: bool = False  # a bidi/invisible control shown as a marker


def _spans(evidence: Iterable[Mapping[str, Any]], n: int) -> list[tuple[int, int, str]]:
    out = []
    for e in evidence:
        try:
            s, t = int(e["start"]), int(e["end"])
        except (KeyError, TypeError, ValueError):
            continue
        s, t = max(0, s), min(n, t)
        if s < t:
            out.append((s, t, str(e.get("why", ""))))
    out.sort()
    merged: list[tuple[int, int, str]] = []
    for s, t, why in out:  # overlapping spans merge; their reasons join
        if merged and s < merged[-1][1]:
            ps, pt, pw = merged[-1]
            merged[-1] = (ps, max(pt, t), pw if why in pw else f"{pw}; {why}")
        else:
            merged.append((s, t, why))
    return merged


def _split_controls(text: str, why: str | None) -> list[Segment]:
    out: list[Segment] = []
    buf: list[str] = []
    for ch in text:
        name = BIDI_CONTROLS.get(ch)
        if name is None:
            buf.append(ch)
            continue
        if buf:
            out.append(Segment("".join(buf), why))
            buf = []
        out.append(Segment(f"[{name}]", why, control=True))
    if buf:
        out.append(Segment("".join(buf), why))
    return out


def highlight(text: str, evidence: Iterable[Mapping[str, Any]] = (), limit: int = DISPLAY_LIMIT) -> tuple[list[Segment], bool]:
    """Split text into plain and evidence segments (bidi controls made visible); return (segments, truncated)."""
    truncated = len(text) > limit
    shown = text[:limit]
    segs: list[Segment] = []
    pos = 0
    for s, t, why in _spans(evidence, len(shown)):
        if pos < s:
            segs.extend(_split_controls(shown[pos:s], None))
        segs.extend(_split_controls(shown[s:t], why or "evidence"))
        pos = t
    if pos < len(shown):
        segs.extend(_split_controls(shown[pos:], None))
    return segs, truncated


def strip_controls(text: str) -> str:
    """Text for one-line contexts (titles, lists): controls replaced by markers, newlines by spaces."""
    return "".join(f"[{BIDI_CONTROLS[c]}]" if c in BIDI_CONTROLS else c for c in text).replace("\n", " ")


def escape_controls(text: str) -> str:
    """Control characters (NUL, newline, …) as `\\xNN` escapes: a hostile name kept legible in one line of a log."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)
