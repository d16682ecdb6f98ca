"""Explainable indicators: lexicon matches on normalized text, by category."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from basira.detect.lexicon import LEXICON, STANCE_CATEGORIES, SUPPORT_CATEGORIES
from basira.text import normalize_text

CATEGORIES = SUPPORT_CATEGORIES + STANCE_CATEGORIES
_ARABIC = re.compile(r"[\u0600-\u06FF]")


@dataclass(frozen=True, slots=True)
class IndicatorHit:
    """A lexicon term found at [start, end) of the *normalized* text."""

    category: str
    start: int
    end: int
    term: str


@lru_cache(maxsize=1)
def _automaton() -> ahocorasick.Automaton:
    """One Aho–Corasick automaton over every normalized term: a single pass over the text finds them all."""
    automaton = ahocorasick.Automaton()
    entries: dict[str, list[tuple[str, bool]]] = {}
    for category in CATEGORIES:
        for terms in LEXICON[category].values():
            for term in terms:
                norm = normalize_text(term)
                if norm and (category, bool(_ARABIC.search(norm))) not in entries.get(norm, []):
                    entries.setdefault(norm, []).append((category, bool(_ARABIC.search(norm))))
    for term, owners in entries.items():
        automaton.add_word(term, (term, tuple(owners)))
    automaton.make_automaton()
    return automaton


def _at_word_start(text: str, start: int) -> bool:
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")


def find_indicators(normalized: str) -> list[IndicatorHit]:
    """All lexicon hits in an already-normalized text, in text order.

    Per category, the leftmost-longest non-overlapping matches. Arabic terms match inside words (clitics
    attach to them); Latin and Cyrillic terms only at a word start, with any inflection after.
    """
    return list(_hits(normalized))


# A detector batch looks each text up twice or more (the feature block, then signals, categories, the reporting
# frame and evidence): the latest batches' results are kept. 4,096 covers a batch of 512 with room for reposts.
@lru_cache(maxsize=4096)
def _hits(normalized: str) -> tuple[IndicatorHit, ...]:
    candidates: dict[str, list[tuple[int, int, str]]] = {}
    for end, (term, owners) in _automaton().iter(normalized):
        start = end - len(term) + 1
        for category, arabic in owners:
            if arabic or _at_word_start(normalized, start):
                candidates.setdefault(category, []).append((start, end + 1, term))
    hits = []
    for category, found in candidates.items():
        last_end = -1
        for start, end, term in sorted(found, key=lambda m: (m[0], -(m[1] - m[0]))):
            if start >= last_end:
                hits.append(IndicatorHit(category, start, end, term))
                last_end = end
    hits.sort(key=lambda h: (h.start, h.end))
    return tuple(hits)


def category_counts(normalized: str) -> dict[str, int]:
    """Hits per category, only the categories found (an empty dict for most texts)."""
    counts: dict[str, int] = {}
    for hit in _hits(normalized):
        counts[hit.category] = counts.get(hit.category, 0) + 1
    return counts


def count_indicators(normalized: str) -> dict[str, int]:
    """Hits per category (zero for none): the indicator block of the model's features."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for hit in _hits(normalized):
        counts[hit.category] += 1
    return counts
