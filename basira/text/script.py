"""The script most of a normalized text's letters are written in (what picks a v2 model's threshold)."""

from __future__ import annotations

__all__ = ["script_of"]

# Each char of a script becomes its letter (a = Arabic, c = Cyrillic, l = Latin), every other BMP char goes;
# astral chars stay as they are and are none of the three letters. The ranges are those of the regexes this
# replaced (basira.detect.gate's, kept there for training; tests/test_text_script.py checks they agree): one
# translate and three counts instead of three findall lists, 15 µs → 2 µs a post.
_SCRIPT_LETTER: list[str | None] = [None] * 0x10000
for _lo, _hi, _letter in ((0x0600, 0x06FF, "a"), (0x0750, 0x077F, "a"), (0x08A0, 0x08FF, "a"), (0x0400, 0x04FF, "c"),
                          (0x41, 0x5A, "l"), (0x61, 0x7A, "l"), (0xC0, 0x24F, "l")):
    _SCRIPT_LETTER[_lo : _hi + 1] = [_letter] * (_hi - _lo + 1)


def script_of(text: str) -> str:
    """'arabic', 'cyrillic', 'latin' (the script of most letters; placeholders such as <url> ignored) or 'other'.

    A tie goes to the first of arabic, cyrillic, latin.
    """
    if "<" in text:
        text = text.replace("<url>", " ").replace("<user>", " ")
    letters = text.translate(_SCRIPT_LETTER)
    arabic, cyrillic, latin = letters.count("a"), letters.count("c"), letters.count("l")
    if arabic >= cyrillic and arabic >= latin:
        return "arabic" if arabic else "other"
    return "cyrillic" if cyrillic >= latin else "latin"
