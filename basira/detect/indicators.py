"""Explainable indicators: lexicon matches on normalized text, by category."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

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


def _term_pattern(term: str) -> str:
    body = re.escape(term).replace(r"\ ", r"\s+")
    if _ARABIC.search(term):
        return body  # Arabic clitics attach to the word: match inside words
    return rf"(?<!\w){body}"  # Latin/Cyrillic: at a word start, any inflection may follow


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    compiled = []
    for category in CATEGORIES:
        terms = {normalize_text(t) for by_lang in (LEXICON[category],) for ts in by_lang.values() for t in ts}
        terms.discard("")
        # Longest first so that the alternation prefers the fullest phrase.
        alternation = "|".join(_term_pattern(t) for t in sorted(terms, key=len, reverse=True))
        compiled.append((category, re.compile(alternation)))
    return tuple(compiled)


def find_indicators(normalized: str) -> list[IndicatorHit]:
    """All lexicon hits in an already-normalized text, in text order."""
    hits = [
        IndicatorHit(category, m.start(), m.end(), m.group(0))
        for category, pattern in _patterns()
        for m in pattern.finditer(normalized)
    ]
    hits.sort(key=lambda h: (h.start, h.end))
    return hits


def count_indicators(normalized: str) -> dict[str, int]:
    """Hits per category (zero for none): the indicator block of the model's features."""
    return {category: sum(1 for _ in pattern.finditer(normalized)) for category, pattern in _patterns()}
