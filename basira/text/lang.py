"""Offline language identification: gcld3 plus script rules for the languages it confuses."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from basira.text.normalize import _FOLD_TABLE, _HASHTAG, _MENTION, _URL, _URL_HINT

__all__ = ["detect_language", "detect_languages"]

UNDETERMINED = "und"

_ARABIC = re.compile(r"[\u0600-\u06FF\u0750-\u077F\u08A0-\u08FF]")
_CYRILLIC = re.compile(r"[\u0400-\u052F]")
_LATIN = re.compile(r"[A-Za-z\u00C0-\u024F]")
_WORDS = re.compile(r"[^\W\d_]+")

# Languages gcld3 may answer for Cyrillic text; anything else there is noise, and Russian is the safe default.
# Letters beyond the Russian alphabet tell the Cyrillic languages apart better than gcld3 does on short texts
# (it calls Cyrillic Uzbek Tajik or Kyrgyz, and even "Мы победим" Kazakh).
_TAJIK_ONLY = frozenset("ҷӣӯҶӢӮ")
_KAZAKH_ONLY = frozenset("әұһӘҰҺ")  # among the languages in question; Tatar and Bashkir also have ә һ
_UZBEK_TAJIK = frozenset("ғқҳҒҚҲ")  # ғ қ also Kazakh
_KYRGYZ_KAZAKH = frozenset("ңөүҢӨҮ")
_UKRAINIAN_BELARUSIAN = frozenset("іїєґІЇЄҐ")
_SERBIAN_MACEDONIAN = frozenset("јљњћђџѓќѕЈЉЊЋЂЏЃЌЅ")
_RUSSIAN_ONLY = frozenset("ыэёъЫЭЁЪ")
_TURKIC = frozenset({"kk", "ky", "uz", "tg", "tt", "ba", "mn"})  # (and Tajik, Mongolian): Russian-alphabet-plus
_ARABIC_SCRIPT_LANGS = frozenset({"ar", "fa", "ur", "ps", "sd", "ku", "ug"})
# Function words and endings that tell Cyrillic Uzbek from Tajik when neither ў nor ҷ ӣ ӯ shows up.
_UZBEK_WORDS = frozenset("бу учун билан жуда эди бор йўқ мен сен биз сиз улар нима қандай керак лекин эмас "
                         "бир шу экан".split())
_TAJIK_WORDS = frozenset("дар аст ин он ба ки мо шумо ман барои бо аз хеле нест мекунад буд ҳастанд".split())
_UZBEK_ENDINGS = ("нинг", "лар", "ларни", "ган", "моқда", "миз", "дим", "дик", "ди", "ни", "да", "га", "ан")
_TAJIK_ENDINGS = ("ҳо", "ро", "ам", "анд", "ед", "ем", "ист", "там")
# gcld3 still uses a few deprecated or three-letter codes.
_CODE_FIXES = {"iw": "he", "fil": "tl", "jw": "jv"}


# Only the removals of the normalizer's table (invisibles, harakat, tatweel): letters stay as written. A full
# BMP list, as in normalize.py: str.translate pays a raised KeyError for every char a dict lacks.
_FOLD_INVISIBLE: list[int | None] = [None if v is None else c for c, v in enumerate(_FOLD_TABLE)]
_REMOVED_HINT = re.compile("[" + "".join(re.escape(chr(c)) for c, v in enumerate(_FOLD_TABLE) if v is None) + "]")
# The scripts counted by detect_language, as one translate: each char of a script becomes its letter (a, c, l),
# every other BMP char goes (astral chars stay, and are none of the three letters).
_SCRIPT_LETTER: list[str | None] = [None] * 0x10000
for _lo, _hi, _letter in ((0x0600, 0x06FF, "a"), (0x0750, 0x077F, "a"), (0x08A0, 0x08FF, "a"), (0x0400, 0x052F, "c"),
                          (0x41, 0x5A, "l"), (0x61, 0x7A, "l"), (0xC0, 0x24F, "l")):
    _SCRIPT_LETTER[_lo : _hi + 1] = [_letter] * (_hi - _lo + 1)


@lru_cache(maxsize=1)
def _identifier() -> Any:
    import gcld3  # imported lazily: the model loads in ~50 ms and only language-aware paths need it

    return gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)


def _clean(text: str) -> str:
    """Text as gcld3 should see it: no links, mentions or invisibles, but letters as written (Urdu ہ is not ه)."""
    s = unicodedata.normalize("NFKC", text)
    if _REMOVED_HINT.search(s):  # most texts have no invisibles or harakat: one scan instead of a translate
        s = s.translate(_FOLD_INVISIBLE)
    # The hints are necessary conditions of the patterns (as in normalize_text): most texts skip all three.
    if _URL_HINT.search(s):
        s = _URL.sub(" ", s)
    if "@" in s:
        s = _MENTION.sub(" ", s)
    if "#" in s:
        s = _HASHTAG.sub(lambda m: m.group(1).replace("_", " "), s)
    return " ".join(s.split())  # what re.sub(r"\s+", " ", s).strip() gives: re's \s is str.isspace


def _uzbek_or_tajik(s: str, lang: str) -> str:
    words = _WORDS.findall(s.lower())
    uz = sum(w in _UZBEK_WORDS or w.endswith(_UZBEK_ENDINGS) for w in words)
    tg = sum(w in _TAJIK_WORDS or w.endswith(_TAJIK_ENDINGS) for w in words)
    if uz == tg:
        return "tg" if lang == "tg" else "uz"
    return "uz" if uz > tg else "tg"


def _fix_cyrillic(s: str, lang: str, reliable: bool) -> str:
    letters = set(s)
    if letters & _TAJIK_ONLY:
        return "tg"
    if ("ў" in letters or "Ў" in letters) and ("и" in letters or not letters & _UKRAINIAN_BELARUSIAN):
        return "uz"  # Belarusian has ў too, but never и
    if lang not in ("tt", "ba") and (
        letters & _KAZAKH_ONLY
        or (letters & _UZBEK_TAJIK and letters & _KYRGYZ_KAZAKH)
        or (lang in _TURKIC and letters & _UKRAINIAN_BELARUSIAN)
    ):
        return "kk"
    if letters & _UZBEK_TAJIK:
        return _uzbek_or_tajik(s, lang)
    if letters & _KYRGYZ_KAZAKH:
        return lang if lang in ("ky", "kk", "mn", "tt", "ba") else "ky"
    if letters & _UKRAINIAN_BELARUSIAN:
        return "uk" if "и" in letters or letters & set("їєґЇЄҐ") else "be"  # Belarusian has no и
    # Only letters of the Russian alphabet from here on.
    if lang in _TURKIC:
        # A long sure answer stands ("Бугун эрталаб нон сотиб олиш учун бозорга бордим" has no ў қ ғ ҳ);
        # a short one without a single letter of its own is most likely Russian.
        if reliable and len(_WORDS.findall(s)) >= 4:
            return _uzbek_or_tajik(s, lang) if lang in ("uz", "tg") else lang
        return "ru"
    if lang == "sr" or lang == "mk":
        return lang if letters & _SERBIAN_MACEDONIAN else "ru"
    if lang == "bg":
        return lang if reliable and not letters & set("ыэёЫЭЁ") else "ru"
    return "ru"


def _fix_arabic(lang: str, reliable: bool) -> str:
    if reliable and lang in _ARABIC_SCRIPT_LANGS:
        return lang  # Persian, Urdu, Pashto... when gcld3 is sure
    return "ar"


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when there is nothing to tell."""
    s = _clean(text)
    if not s or not any(c.isalpha() for c in s):
        return UNDETERMINED
    result = _identifier().FindLanguage(s)
    lang = result.language.split("-")[0]  # "ru-Latn" (romanized Russian) is still Russian
    lang = _CODE_FIXES.get(lang, lang)
    reliable = bool(result.is_reliable)
    if s.isascii():  # no Arabic or Cyrillic letter: neither script rule applies
        return UNDETERMINED if lang == UNDETERMINED or not lang else lang
    letters = s.translate(_SCRIPT_LETTER)  # counts of _ARABIC, _CYRILLIC and _LATIN chars, in one pass
    arabic, cyrillic, latin = letters.count("a"), letters.count("c"), letters.count("l")
    if arabic > cyrillic + latin:
        return _fix_arabic(lang, reliable)
    if cyrillic > arabic + latin:
        return _fix_cyrillic(s, lang, reliable)
    if lang == UNDETERMINED or not lang:
        return UNDETERMINED
    return lang


def detect_languages(texts: Iterable[str]) -> list[str]:
    """detect_language for each text, in order."""
    return [detect_language(t) for t in texts]
