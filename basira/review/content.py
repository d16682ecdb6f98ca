"""Safe display of hostile text: evidence highlighting, visible bidi controls, truncation. Pure; the templates
escape every segment."""

from __future__ import annotations

import re
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
    "\u2060": "WJ", "\u00ad": "SHY", "\u180e": "MVS", "\u3164": "HF", "\uffa0": "HWHF", "\u115f": "HCF",
    "\u1160": "HJF", "\u034f": "CGJ", "\u2028": "LSEP", "\u2029": "PSEP", "\u17b4": "KIVAQ", "\u17b5": "KIVAA",
    "\u2061": "FA", "\u2062": "IT", "\u2063": "IS", "\u2064": "IP", "\u206a": "ISS", "\u206b": "ASS",
    "\u206c": "IAFS", "\u206d": "AAFS", "\u206e": "NADS", "\u206f": "NODS", "\ufff9": "IAA", "\ufffa": "IAS",
    "\ufffb": "IAT", "\u2800": "BLANK",
}
# Also marked, by range: the other C0/C1 controls (not tab or newline), and the tag characters U+E0000–E007F,
# which carry hidden ASCII ("ASCII smuggling"): each shown with the letter it hides, e.g. [TAG:a]. Left alone:
# ZWJ/ZWNJ (needed by Persian, Indic scripts and emoji) and variation selectors.
_INVISIBLE = re.compile("[" + "".join(BIDI_CONTROLS) + "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\U000e0000-\U000e007f]")


def marker(ch: str) -> str:
    """The visible marker for one invisible or bidi character."""
    name = BIDI_CONTROLS.get(ch)
    if name:
        return f"[{name}]"
    cp = ord(ch)
    if 0xE0020 <= cp <= 0xE007E:
        return f"[TAG:{chr(cp - 0xE0000)}]"
    return f"[U+{cp:04X}]"


def mark_invisible(text: str) -> str:
    """Every invisible or bidi character replaced by its marker (newlines and tabs kept)."""
    return _INVISIBLE.sub(lambda m: marker(m.group()), text) if _INVISIBLE.search(text) else text


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
    pos = 0
    for m in _INVISIBLE.finditer(text):
        if m.start() > pos:
            out.append(Segment(text[pos:m.start()], why))
        out.append(Segment(marker(m.group()), why, control=True))
        pos = m.end()
    if pos < len(text):
        out.append(Segment(text[pos:], why))
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


def strip_controls(text: object) -> str:
    """Text for one-line contexts (titles, lists): controls replaced by markers, newlines by spaces. Any value:
    None is empty, a number its digits (templates pass `handle or account_id`)."""
    if text is None:
        return ""
    return mark_invisible(text if isinstance(text, str) else str(text)).replace("\r", " ").replace("\n", " ")


def escape_controls(text: str) -> str:
    """Control characters (NUL, newline, …) as `\\xNN` escapes: a hostile name kept legible in one line of a log."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def mark_output(value: Any) -> Any:
    """Jinja's `finalize`: every `{{ … }}` a page prints has its invisible and bidi characters marked, whatever the
    template — an author can no longer forget the filter. Markup (already-escaped HTML) stays Markup: markers are
    plain ASCII."""
    if isinstance(value, str) and _INVISIBLE.search(value):
        marked = mark_invisible(value)
        return type(value)(marked) if type(value) is not str else marked
    return value
