"""The transparency report's charts in a right-to-left language: mirrored (time runs from right to left, bars grow
leftwards) with their Arabic words shaped; English unchanged."""

from __future__ import annotations

import io
from datetime import date

import pytest
from PIL import Image

from basira.compliance import report_charts as charts
from basira.core.i18n import speaking

BAR = (0x1B, 0x49, 0x65)  # charts.PALETTE[0]


def _bar_columns(png: bytes) -> tuple[float, float, int]:
    """(leftmost, rightmost) x of the bar colour as fractions of the image's width, and how many pixels have it."""
    im = Image.open(io.BytesIO(png)).convert("RGB")
    w, h = im.size
    px = im.load()
    xs = [x for x in range(w) for y in range(0, h, 2) if px[x, y] == BAR]
    assert xs, "no bar drawn"
    return min(xs) / w, max(xs) / w, len(xs)


@pytest.mark.parametrize("which", ["first", "last"])
def test_the_arabic_time_axis_runs_right_to_left_and_english_left_to_right(which):
    start, end = date(2026, 11, 1), date(2026, 12, 1)
    day = "2026-11-01" if which == "first" else "2026-11-30"
    png = {lang: _daily(lang, [(day, 7)], start, end) for lang in ("en", "ar")}
    (en_left, en_right, _), (ar_left, ar_right, _) = _bar_columns(png["en"]), _bar_columns(png["ar"])
    if which == "first":  # the first day's bar: leftmost in English, rightmost in Arabic
        assert en_right < 0.2 and ar_left > 0.8
    else:
        assert en_left > 0.8 and ar_right < 0.2


def _daily(lang, days, start, end):
    with speaking(lang):
        return charts.daily(days, start, end)


def test_arabic_bars_grow_leftwards_from_the_right():
    rows = [("propaganda", 40), ("recruitment", 10)]
    with speaking("en"):
        en = _bar_columns(charts.hbar(rows))
    with speaking("ar"):
        ar = _bar_columns(charts.hbar(rows))
    # English bars start at the left (labels before them); Arabic ones end at the right, the longest reaching left.
    assert en[0] < 0.3 < 0.7 < en[1] and ar[1] > 0.7 and ar[0] < 0.3
    assert abs((en[1] - en[0]) - (ar[1] - ar[0])) < 0.05 and abs(en[2] - ar[2]) / en[2] < 0.1  # same bars, mirrored


def test_arabic_words_are_shaped_and_in_visual_order():
    # «مارس»: drawn left to right as س ر ـا مـ (isolated seen, isolated reh, final alef, initial meem)
    assert charts.shape("مارس") == "\u0633\u0631\ufe8e\ufee3"
    assert charts.shape("لا") == "\ufefb"  # lam-alef ligature
    # digits stay left to right inside a right-to-left line; the day comes first (rightmost) when read
    assert charts.shape("12 مارس") == "\u0633\u0631\ufe8e\ufee3 12"
    assert charts.shape("5/3 و 1,234") == "1,234 \u0648 5/3"
    assert charts.shape("removals per day 5") == "removals per day 5"  # no right-to-left letter: unchanged
    with speaking("ar"):
        word = charts._say("removals per day")
    assert word == charts.shape("الإزالات في اليوم") and word != "الإزالات في اليوم"

