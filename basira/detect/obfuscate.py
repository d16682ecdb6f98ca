"""Deterministic obfuscations that evaders use, to measure how robust the detector is to them."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable

_HARAKAT = ["\u064e", "\u064f", "\u0650", "\u0651", "\u0652", "\u064b"]
_INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]
_BIDI = ["\u200f", "\u202b", "\u202e", "\u2067"]
_HOMOGLYPHS = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х", "y": "у", "i": "і", "s": "ѕ"}
_HOMOGLYPHS.update({"а": "a", "е": "e", "о": "o", "с": "c", "р": "p", "х": "x", "у": "y"})


def _presentation_forms() -> dict[str, str]:
    forms: dict[str, str] = {}
    for code in range(0xFE70, 0xFEFD):
        ch = chr(code)
        base = unicodedata.normalize("NFKC", ch)
        if len(base) == 1 and "ISOLATED" in unicodedata.name(ch, "") and base not in forms:
            forms[base] = ch
    return forms


_PRESENTATION = _presentation_forms()


def _is_letter(ch: str) -> bool:
    return ch.isalpha()


def _each_letter(text: str, rng: random.Random, rate: float, change: Callable[[str], str]) -> str:
    return "".join(change(ch) if _is_letter(ch) and rng.random() < rate else ch for ch in text)


def tatweel(text: str, rng: random.Random) -> str:
    return _each_letter(text, rng, 0.3, lambda ch: ch + "\u0640" * rng.randint(1, 3) if "\u0600" <= ch <= "\u06ff" else ch)


def diacritics(text: str, rng: random.Random) -> str:
    return _each_letter(text, rng, 0.5, lambda ch: ch + rng.choice(_HARAKAT) if "\u0600" <= ch <= "\u06ff" else ch)


def invisible(text: str, rng: random.Random) -> str:
    return _each_letter(text, rng, 0.3, lambda ch: ch + rng.choice(_INVISIBLE))


def bidi(text: str, rng: random.Random) -> str:
    return _each_letter(text, rng, 0.15, lambda ch: rng.choice(_BIDI) + ch)


def homoglyphs(text: str, rng: random.Random) -> str:
    return _each_letter(text, rng, 0.5, lambda ch: _HOMOGLYPHS.get(ch, ch))


def presentation_forms(text: str, rng: random.Random) -> str:
    return _each_letter(text, rng, 0.6, lambda ch: _PRESENTATION.get(ch, ch))


def spaced_letters(text: str, rng: random.Random) -> str:
    """Split the longest word or two apart with spaces, dots or underscores, as evaders do with keywords."""
    words = text.split(" ")
    candidates = sorted((i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()), key=lambda i: -len(words[i]))
    for i in candidates[:2]:
        words[i] = rng.choice([" ", ".", "_"]).join(words[i])
    return " ".join(words)


OBFUSCATIONS: dict[str, Callable[[str, random.Random], str]] = {
    "tatweel": tatweel,
    "diacritics": diacritics,
    "invisible": invisible,
    "bidi": bidi,
    "homoglyphs": homoglyphs,
    "presentation_forms": presentation_forms,
    "spaced_letters": spaced_letters,
}


def obfuscate(text: str, kind: str, seed: int = 0) -> str:
    """Apply one named obfuscation, reproducibly for a given seed."""
    return OBFUSCATIONS[kind](text, random.Random(f"{seed}:{kind}:{text}"))
