"""Text normalization that undoes common filter evasion, with a map back to the original characters."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = [
    "NormalizedText",
    "extract_hashtags",
    "extract_mentions",
    "extract_urls",
    "normalize",
    "normalize_text",
]


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """Normalized text; char i of `text` comes from `original[starts[i]:ends[i]]`."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map the span [start, end) of the normalized text to the span of the original it came from."""
        n = len(self.text)
        start, end = max(0, min(start, n)), max(0, min(end, n))
        if end <= start:
            # An empty span still needs a position: just before the char it precedes.
            pos = self.starts[start] if start < n else len(self.original)
            return pos, pos
        return self.starts[start], max(self.ends[start:end])


# --- character-level folding (one str.translate) -------------------------------------------------------------

def _chars(*ranges: tuple[int, int]) -> list[int]:
    return [c for a, b in ranges for c in range(a, b + 1)]


_INVISIBLE = _chars((0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x2069), (0xFEFF, 0xFEFF), (0x061C, 0x061C),
                    (0x00AD, 0x00AD), (0x180E, 0x180E), (0x034F, 0x034F))
_HARAKAT = _chars((0x0610, 0x061A), (0x064B, 0x065F), (0x0670, 0x0670), (0x06D6, 0x06ED), (0x0640, 0x0640))
_FOLD: dict[int, int | None] = {c: None for c in _INVISIBLE + _HARAKAT}
# Only look-alikes that writers swap freely; distinct Persian letters (پ چ ژ گ) stay what they are.
_FOLD.update(str.maketrans({
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا", "ٵ": "ا",
    "ى": "ي", "ی": "ي", "ې": "ي", "ۍ": "ي", "ئ": "ي",
    "ة": "ه", "ہ": "ه", "ە": "ه", "ۀ": "ه", "ھ": "ه", "ۃ": "ه",
    "ؤ": "و", "ک": "ك", "ڪ": "ك", "ٮ": "ب", "ڡ": "ف", "ٯ": "ق", "ں": "ن",
}))
_FOLD.update({0x0660 + d: 0x30 + d for d in range(10)})
_FOLD.update({0x06F0 + d: 0x30 + d for d in range(10)})
# A full BMP list beats a dict here: str.translate pays a raised KeyError for every char a dict lacks.
_FOLD_TABLE: list[int | str | None] = list(range(0x10000))
for _k, _v in _FOLD.items():
    _FOLD_TABLE[_k] = _v
_FOLD_HINT = re.compile("[" + "".join(re.escape(chr(c)) for c in _FOLD) + "]")  # most non-Arabic text has none

# --- patterns ------------------------------------------------------------------------------------------------

_URL_CHAR_END = r"[^\s<>\"'.,;:!?()\[\]{}\u060C\u061B\u061F]"
_URL = re.compile(
    r"(?<![^\W_])(?:https?://|www\.|(?<!\.)(?:t|telegram)\.me/)(?:[^\s<>\"]*" + _URL_CHAR_END + r")?",
    re.IGNORECASE,
)
_URL_HINT = re.compile(r"://|www\.|\.me/", re.IGNORECASE)
# The literal comes first and the look-behind after it: a leading look-behind disables the fast literal scan.
# A link or a mention is a whole token: a placeholder cut out of a word would leave stray letters behind.
_MENTION = re.compile(r"@(?<![\w@>]@)[A-Za-z0-9_]+(?!\w)")  # ">": right after a placeholder, "<user>@x"
# Hashtags go before links, so "#" after "/", "=", "&" or "?" is a URL fragment; after ">" it follows "<user>".
_HASHTAG = re.compile(r"#(?<![^\W_]#)(?<![#/=&?>]#)#*(\w+)")
_EXTRACT_HASHTAG = re.compile(r"#(?<![^\W_]#)(?<![#/=&?>]#)\w+")
_CAMEL = re.compile(r"(?<=[a-zа-яё])(?=[A-ZА-ЯЁ])|(?<=[A-ZА-ЯЁ])(?=[A-ZА-ЯЁ][a-zа-яё])")
_WS = re.compile(r"\s+")
_WS_NOT_ONE_SPACE = re.compile(r"\s{2,}|[^\S ]")  # the runs _WS.sub(" ", …) changes: all but a lone space
_LETTER = r"[^\W\d_]"
_REPEAT = re.compile(r"(.)\1{2,}", re.DOTALL)  # any char is cheaper to scan for; _squeeze keeps non-letters
# One separator throughout, so "ا.ل.د.و.ل.ة ا.ل.ا.س.ل.ا.م.ي.ة" stays two words.
_SPACED = re.compile(rf"(?<!\w){_LETTER}([ ._\-·*|]){_LETTER}(?:\1{_LETTER})+(?!\w)")
_SPACED_HINT = re.compile(r"[ ._\-·*|]\w[ ._\-·*|]")
_LAT, _NONLAT = r"[a-z\u00e0-\u024f\u0261\u0251]", r"[\u0370-\u052f]"
_LAT_HINT, _NONLAT_HINT = re.compile(_LAT), re.compile(_NONLAT)
_WORD = re.compile(r"\w+")
_MIXED_WORD = re.compile(rf"(?<!\w)(?=\w*?{_LAT})(?=\w*?{_NONLAT})\w+")  # a word with letters of both
_LEET_TOKEN = re.compile(r"(?<![\w@$])(?=[a-z0-9@$]*[a-z])(?=[a-z0-9@$]*[013457@$])[a-z0-9@$]+(?![\w@$])")
_LEET_HINT = re.compile(r"[a-z][013457@$]|[013457@$][a-z]")
_LEET_SKIP = re.compile(r"[2689]|^[a-z]+[0-9]+$|^[0-9]+[a-z]+$")  # mp3, 4chan, 1st, covid19: real words
_LEET = str.maketrans("013457@$", "oieastas")

_CYR_TO_LAT = str.maketrans(
    "аеорсухіјѕԁһԛԝӏүкмнтв" "οαειρτυχκνηβμωγζ" "ɡɑ",
    "aeopcyxijsdhqwlykmhtb" "oaeiptuxkvnbmwyz" "ga",
)
_LAT_TO_CYR = str.maketrans("aeopcyxkmthbi", "аеорсухкмтнві")


def _is_arabic(c: str) -> bool:
    return "\u0600" <= c <= "\u08FF"


# --- rules: each is a regex and a replacement shared by the fast and the tracked path -----------------------

# A mapper tells, for each output char of one match, which [a, b) of the match (relative) it comes from.
_Mapper = Callable[[re.Match[str], str], Sequence[tuple[int, int]]]


def _url(_: re.Match[str]) -> str:
    return "<url>"


def _user(_: re.Match[str]) -> str:
    return "<user>"


def _hashtag_parts(m: re.Match[str]) -> tuple[str, list[tuple[int, int]]]:
    body, offset = m.group(1), m.start(1) - m.start()
    cuts = [c.start() for c in _CAMEL.finditer(body)]
    out: list[str] = []
    rel: list[tuple[int, int]] = []
    prev = 0
    for cut in [*cuts, len(body)]:
        for i in range(prev, cut):
            out.append(" " if body[i] == "_" else body[i])
            rel.append((offset + i, offset + i + 1))
        if cut < len(body):
            out.append(" ")
            rel.append((offset + cut - 1, offset + cut))  # the inserted space belongs to the char before it
        prev = cut
    return "".join(out), rel


def _hashtag(m: re.Match[str]) -> str:
    return _CAMEL.sub(" ", m.group(1)).replace("_", " ")  # what _hashtag_parts spells out char by char


def _hashtag_map(m: re.Match[str], _: str) -> list[tuple[int, int]]:
    return _hashtag_parts(m)[1]


def _space(_: re.Match[str]) -> str:
    return " "


def _empty(_: re.Match[str]) -> str:
    return ""


def _squeeze(m: re.Match[str]) -> str:
    c = m.group(1)
    if not c.isalpha():
        return m.group(0)  # digits and punctuation runs are kept: "1000", "..."
    return c if _is_arabic(c) else c + c


def _unspace(m: re.Match[str]) -> str:
    word = m.group(0)[::2]
    if _is_arabic(word[0]) and word.count(word[0]) == len(word):
        return m.group(0)  # "ا ا ا" would squeeze to one letter, which could then join its neighbours
    return word


def _unspace_map(m: re.Match[str], out: str) -> list[tuple[int, int]]:
    step = 2 if len(out) < len(m.group(0)) else 1
    return [(i, i + 1) for i in range(0, len(m.group(0)), step)]


def _context_script(text: str) -> str:
    """The script a text's unambiguous letters are written in: 'lat', 'cyr', or '' when neither dominates."""
    lat = sum(1 for c in text if "a" <= c <= "z" and ord(c) not in _LAT_TO_CYR)
    cyr = sum(1 for c in text if "\u0400" <= c <= "\u052f" and ord(c) not in _CYR_TO_LAT)
    return "lat" if lat > 2 * cyr else "cyr" if cyr > 2 * lat else ""


def _homoglyph_in(text: str) -> Callable[[re.Match[str]], str]:
    """Fold look-alikes word by word; a word made only of look-alikes follows the rest of the text."""
    context = _context_script(text)
    return lambda m: _homoglyph(m, context)


def _lookalike_word_in(text: str) -> Callable[[re.Match[str]], str] | None:
    """For a text of one dominant script: fold whole words of the other script made only of look-alikes."""
    context = _context_script(text)
    if context == "lat":
        table = _CYR_TO_LAT
    elif context == "cyr":
        table = _LAT_TO_CYR
    else:
        return None

    def fold(m: re.Match[str]) -> str:
        word = m.group(0)
        return word.translate(table) if all(ord(c) in table or c.isdigit() or c == "_" for c in word) else word

    return fold


def _homoglyph(m: re.Match[str], context: str = "") -> str:
    word = m.group(0)
    lat = cyr = greek = 0
    lat_anchor = other_anchor = False  # a letter with no look-alike in the other script ties the word to its own
    for c in word:
        if "a" <= c <= "z" or "\u00e0" <= c <= "\u024f" or c in "ɡɑ":
            lat += 1
            lat_anchor = lat_anchor or ord(c) not in _LAT_TO_CYR
        elif "\u0400" <= c <= "\u052f":
            cyr += 1
            other_anchor = other_anchor or ord(c) not in _CYR_TO_LAT
        elif "\u0370" <= c <= "\u03ff":
            greek += 1
            other_anchor = other_anchor or ord(c) not in _CYR_TO_LAT
    if lat_anchor != other_anchor:
        # Only one script can write the whole word: "ІSІS" (Cyrillic І) is "isis", "Привeт" is "привет".
        if lat_anchor:
            return word.translate(_CYR_TO_LAT)
        return word if greek else word.translate(_LAT_TO_CYR)
    if lat_anchor:
        return word  # both scripts needed ("жhello"): nothing safe to fold
    # Every letter has a look-alike ("уеѕ" in an English sentence): the text around it decides, then the
    # word's own majority; a tie leaves the word alone. Folding such words never changes the context.
    if context == "lat" and not greek:
        return word.translate(_CYR_TO_LAT)
    if context == "cyr" and not greek:
        return word.translate(_LAT_TO_CYR)
    if lat > cyr + greek:
        return word.translate(_CYR_TO_LAT)
    if cyr > lat + greek:
        return word.translate(_LAT_TO_CYR)
    return word


def _leet(m: re.Match[str]) -> str:
    token = m.group(0)
    return token if _LEET_SKIP.search(token) else token.translate(_LEET)


# --- the tracked (offset-keeping) string ---------------------------------------------------------------------

class _Tracked:
    __slots__ = ("text", "starts", "ends")

    def __init__(self, text: str, starts: list[int], ends: list[int]) -> None:
        self.text, self.starts, self.ends = text, starts, ends

    def span(self, a: int, b: int) -> tuple[int, int]:
        """Source span of chars [a, b) of the current text (b > a)."""
        return self.starts[a], max(self.ends[a:b])

    def sub(self, pattern: re.Pattern[str], repl: Callable[[re.Match[str]], str], mapper: _Mapper | None = None) -> None:
        text, starts, ends = self.text, self.starts, self.ends
        out: list[str] = []
        new_starts: list[int] = []
        new_ends: list[int] = []
        last = 0
        for m in pattern.finditer(text):
            a, b = m.span()
            out.append(text[last:a])
            new_starts.extend(starts[last:a])
            new_ends.extend(ends[last:a])
            r = repl(m)
            out.append(r)
            if r:
                if mapper is not None:
                    rel = mapper(m, r)
                elif len(r) == b - a:
                    rel = [(i, i + 1) for i in range(b - a)]
                else:
                    rel = [(0, b - a)] * len(r)
                for ra, rb in rel:
                    s, e = self.span(a + ra, a + rb)
                    new_starts.append(s)
                    new_ends.append(e)
            last = b
        if last == 0 and not out:
            return
        out.append(text[last:])
        new_starts.extend(starts[last:])
        new_ends.extend(ends[last:])
        self.text, self.starts, self.ends = "".join(out), new_starts, new_ends

    def strip_spaces(self) -> None:
        a, b = 0, len(self.text)
        while a < b and self.text[a] == " ":
            a += 1
        while b > a and self.text[b - 1] == " ":
            b -= 1
        self.text, self.starts, self.ends = self.text[a:b], self.starts[a:b], self.ends[a:b]

    def translate(self, table: list[int | str | None]) -> None:
        """Each char through `table`, whose entries are one char or None (removed), as _FOLD_TABLE's are.

        One str.translate for the text; offsets change only where chars were removed (char by char this was
        0.5 ms of a flagged post's evidence).
        """
        text = self.text
        out = text.translate(table)
        if len(out) != len(text):
            n = len(table)  # chars beyond the table stay as they are
            keep = [i for i, c in enumerate(text) if (o := ord(c)) >= n or table[o] is not None]
            starts, ends = self.starts, self.ends
            self.starts, self.ends = [starts[i] for i in keep], [ends[i] for i in keep]
        self.text = out

    def lower(self) -> None:
        whole = self.text.lower()  # whole-text lower: final sigma depends on context
        if len(whole) == len(self.text):
            self.text = whole
            return
        new_starts: list[int] = []
        new_ends: list[int] = []
        for c, s, e in zip(self.text, self.starts, self.ends, strict=True):
            n = len(c.lower())
            new_starts.extend([s] * n)
            new_ends.extend([e] * n)
        self.text, self.starts, self.ends = whole, new_starts, new_ends

    def nfkc(self) -> None:
        s = self.text
        target = unicodedata.normalize("NFKC", s)
        if target == s:
            return
        # Normalize cluster by cluster (a starter and its combining marks), widening a cluster group until its
        # result is what the whole-text normalization has at that place and does not compose with what follows.
        bounds = [i for i, c in enumerate(s) if i == 0 or not unicodedata.combining(c)] + [len(s)]
        new_starts: list[int] = []
        new_ends: list[int] = []
        pos, k, last = 0, 0, len(bounds) - 1
        while k < last:
            j = k + 1
            while True:
                seg = s[bounds[k]:bounds[j]]
                n = unicodedata.normalize("NFKC", seg)
                if target.startswith(n, pos):
                    if j == last:
                        break
                    nxt = s[bounds[j]:bounds[j + 1]]
                    if unicodedata.normalize("NFKC", seg + nxt) == n + unicodedata.normalize("NFKC", nxt):
                        break
                if j == last:
                    self._coarse(target)
                    return
                j += 1
            src = self.span(bounds[k], bounds[j])
            new_starts.extend([src[0]] * len(n))
            new_ends.extend([src[1]] * len(n))
            pos += len(n)
            k = j
        if pos != len(target):
            self._coarse(target)
            return
        self.text, self.starts, self.ends = target, new_starts, new_ends

    def _coarse(self, target: str) -> None:
        # Safety net for exotic compositions: right text, every char mapped to the whole source.
        s, e = (self.starts[0], max(self.ends)) if self.text else (0, 0)
        self.text, self.starts, self.ends = target, [s] * len(target), [e] * len(target)


# --- the pipeline --------------------------------------------------------------------------------------------
# Order matters for idempotence (normalize_text(normalize_text(x)) == normalize_text(x)):
# - invisibles and harakat go before a second NFKC, since they can sit between a letter and its combining mark;
# - hashtags go first (their "_" and camelCase become spaces, which can make a link or a mention a whole token),
#   and before lowercasing (camelCase);
# - whitespace is collapsed before spaced-out letters are joined, and Arabic runs are squeezed before that
#   (a squeezed run can become a single letter);
# - joining comes before homoglyph folding (the joined word is what has a script), and homoglyphs and leetspeak
#   can make new runs, mentions ("@іsis") and links ("h77p://"), so those rules run again after them.

def _fold_chars(s: str) -> str:
    s = unicodedata.normalize("NFKC", s)
    if _FOLD_HINT.search(s):
        s = s.translate(_FOLD_TABLE)
        if not unicodedata.is_normalized("NFKC", s):
            s = unicodedata.normalize("NFKC", s)
    return s


def _mixes_scripts(s: str) -> bool:
    if _NONLAT_HINT.search(s) is None:
        return False
    return _LAT_HINT.search(s.replace("<url>", "").replace("<user>", "")) is not None


def normalize_text(text: str) -> str:
    """Normalize a text (see `normalize`) without keeping offsets: the fast path used on every post."""
    s = _fold_chars(text)
    # Each costly pattern runs only if a cheap hint says it can match; normalize() uses the same hints.
    if "#" in s:
        s = _HASHTAG.sub(_hashtag, s)
    if _URL_HINT.search(s):
        s = _URL.sub(_url, s)
    if "@" in s:
        s = _MENTION.sub(_user, s)
    # What _WS.sub(" ", …).strip(" ") gives (re's \s is str.isspace, tests/test_text_normalize.py checks),
    # 4x faster: split() and join run in C without a match object per run of spaces.
    s = " ".join(s.lower().split())
    s = _REPEAT.sub(_squeeze, s)
    changed = False  # joining, homoglyphs and leetspeak can make new runs to squeeze
    if _SPACED_HINT.search(s):
        s, changed = _SPACED.sub(_unspace, s), True
    if _mixes_scripts(s):
        s, changed = _MIXED_WORD.sub(_homoglyph_in(s), s), True
        if fold := _lookalike_word_in(s):
            s = _WORD.sub(fold, s)
        if "@" in s:  # "@іsis" with a Cyrillic і is a mention only now
            s = _MENTION.sub(_user, s)
    if _LEET_HINT.search(s):
        s, changed = _LEET_TOKEN.sub(_leet, s), True
    if changed:
        s = _REPEAT.sub(_squeeze, s)
        if _URL_HINT.search(s):  # "h.t.t.p://", "htttp://", "h77p://" are links only now
            s = _URL.sub(_url, s)
    return s


def normalize(text: str) -> NormalizedText:
    """Normalize a text for matching and keep, for every char, the span of the original it comes from."""
    t = _Tracked(text, list(range(len(text))), list(range(1, len(text) + 1)))
    t.nfkc()
    t.translate(_FOLD_TABLE)
    if not unicodedata.is_normalized("NFKC", t.text):
        t.nfkc()
    if "#" in t.text:
        t.sub(_HASHTAG, _hashtag, _hashtag_map)
    if _URL_HINT.search(t.text):
        t.sub(_URL, _url)
    if "@" in t.text:
        t.sub(_MENTION, _user)
    t.lower()
    t.sub(_WS_NOT_ONE_SPACE, _space)  # a lone " " stays " " with its own offsets: no need to rebuild it
    t.strip_spaces()
    t.sub(_REPEAT, _squeeze)
    if _SPACED_HINT.search(t.text):
        t.sub(_SPACED, _unspace, _unspace_map)
    if _mixes_scripts(t.text):
        t.sub(_MIXED_WORD, _homoglyph_in(t.text))
        if fold := _lookalike_word_in(t.text):
            t.sub(_WORD, fold)
        if "@" in t.text:
            t.sub(_MENTION, _user)
    t.sub(_LEET_TOKEN, _leet)
    t.sub(_REPEAT, _squeeze)
    if _URL_HINT.search(t.text):
        t.sub(_URL, _url)
    return NormalizedText(text, t.text, tuple(t.starts), tuple(t.ends))


def extract_urls(text: str) -> list[str]:
    """URLs (http(s), www., t.me) as written in the text."""
    return _URL.findall(text)


def extract_mentions(text: str) -> list[str]:
    """@mentions as written in the text."""
    return _MENTION.findall(text)


def extract_hashtags(text: str) -> list[str]:
    """#hashtags as written in the text."""
    return _EXTRACT_HASHTAG.findall(text)
