"""basira.text.script_of (one translate) picks the script a plain count of three regexes' matches does — the
implementation it replaced, kept here as the brute-force reference."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from basira.text import normalize_text, script_of

_PATTERNS = (("arabic", re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]")),
             ("cyrillic", re.compile(r"[\u0400-\u04FF]")), ("latin", re.compile(r"[A-Za-z\u00C0-\u024F]")))


def reference(text: str) -> str:
    text = text.replace("<url>", " ").replace("<user>", " ")
    counts = {name: len(p.findall(text)) for name, p in _PATTERNS}
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else "other"

CASES = [
    "", " ", "<url>", "<user> <url>", "<url>ا", "abc <user>", "<<url>user>", "<us<url>er>",
    "الدولة الإسلامية", "Мы победим", "hello", "ab вг", "аб cd", "ا b", "ا в", "ab вг ا",  # ties go first-listed
    "\u00d7\u00f7", "\u0500\u052f", "\u08a0\u0750\u077f\u08ff", "\u04ff\u0400", "\u024f\u00c0", "\U0001f600" * 3,
    "日本語", "١٢٣", "ﻻ ﷲ", "Σ ΣΑΣ", "l33t sp34k", "ІSІS іs bасk",
]
# Letters of each script and its edges, placeholders, astral chars, digits and punctuation.
ALPHABET = st.sampled_from(list("abzAZ\u00c0\u00d7\u024f\u0250\u03a3\u0400\u04ff\u0500\u052f\u0600\u06ff\u0700"
                                "\u0750\u077f\u08a0\u08ff\u0900 <>1_\U0001f600\U00010348") + ["<url>", "<user>"])


def test_cases_agree():
    for text in CASES:
        assert script_of(text) == reference(text), text
        assert script_of(normalize_text(text)) == reference(normalize_text(text)), text


@settings(max_examples=500, deadline=None)
@given(st.lists(ALPHABET, max_size=30).map("".join))
def test_random_texts_agree(text):
    assert script_of(text) == reference(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_any_text_agrees(text):
    assert script_of(text) == reference(text)
