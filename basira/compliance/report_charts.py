"""Charts of the transparency report (matplotlib, Agg, no pyplot state): PNG for the PDF, SVG for the HTML.

Text in the SVGs is drawn as paths, so a hostile category name cannot become markup. The charts' words are in
the current language. In a right-to-left one the charts mirror as an Arabic reader expects: time runs from right
to left, the value axis stands on the right, bars grow leftwards from their labels. Matplotlib draws one glyph per
character from left to right and cannot shape Arabic (joining, lam-alef, right-to-left order), so `shape` does it
first with HarfBuzz and the same font: each right-to-left run's glyphs go back to their presentation-form
characters in visual order (DejaVu Sans has them all), and runs of digits or Latin stay left to right inside."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from basira.core.i18n import LANGUAGES, current, gettext, number, when

INK, MUTED, GRID = "#1d2b36", "#5b6b79", "#e3e8ec"
PALETTE = ["#1b4965", "#5fa8d3", "#e76f51", "#2a9d8f", "#f4a261", "#8d99ae", "#9c6644", "#62b6cb"]


def _rtl() -> bool:
    return bool(LANGUAGES[current()][1] == "rtl")


def _say(message: str) -> str:
    """A chart's word in the current language, shaped for drawing."""
    return shape(gettext(message))


@lru_cache(maxsize=1)
def _shaper() -> tuple[Any, list[str], dict[str, int]]:
    """HarfBuzz's font for DejaVu Sans (matplotlib's own), its glyph names, and each glyph's character."""
    import matplotlib
    import uharfbuzz as hb
    from fontTools.ttLib import TTFont

    path = f"{matplotlib.get_data_path()}/fonts/ttf/DejaVuSans.ttf"
    tt = TTFont(path, lazy=True)
    char_of: dict[str, int] = {}
    for cp, name in sorted(tt.getBestCmap().items()):
        char_of.setdefault(name, cp)
    return hb.Font(hb.Face(hb.Blob.from_file_path(path))), tt.getGlyphOrder(), char_of


def _shape_run(run: str) -> str:
    """One right-to-left run, shaped, as characters in visual (left-to-right) order."""
    import uharfbuzz as hb

    font, names, char_of = _shaper()
    buf = hb.Buffer()
    buf.add_str(run)
    buf.direction, buf.script, buf.language = "rtl", "Arab", "ar"
    hb.shape(font, buf, {})
    out, clusters = [], sorted({g.cluster for g in buf.glyph_infos} | {len(run)})
    for g in buf.glyph_infos:
        cp = char_of.get(names[g.codepoint])
        # A glyph with no character of its own (none in DejaVu's Arabic today): its cluster's text, reversed.
        out.append(chr(cp) if cp else run[g.cluster:clusters[clusters.index(g.cluster) + 1]][::-1])
    return "".join(out)


def _direction(ch: str) -> str:
    kind = unicodedata.bidirectional(ch)
    return {"R": "R", "AL": "R", "L": "L", "EN": "EN", "AN": "EN"}.get(kind, "N")


def shape(text: str) -> str:
    """`text` ready for matplotlib: unchanged without right-to-left letters; else the line the Unicode bidi
    algorithm draws for one right-to-left paragraph without embeddings, each Arabic run shaped.

    As the algorithm says: a lone separator between digits joins them ("5/3", "1,234"), a % or currency sign
    beside a digit goes with it, other neutral characters between two left-to-right letters go left to right and
    all the rest take the paragraph's direction (digits count as right-to-left there)."""
    if "R" not in (kinds := [_direction(c) for c in text]):
        return text
    resolved = list(kinds)
    for i, k in enumerate(kinds):
        if k != "N":
            continue
        before = next((kinds[j] for j in range(i - 1, -1, -1) if kinds[j] != "N"), "R")
        after = next((kinds[j] for j in range(i + 1, len(kinds)) if kinds[j] != "N"), "R")
        bidi = unicodedata.bidirectional(text[i])
        beside = {kinds[j] for j in (i - 1, i + 1) if 0 <= j < len(kinds)}
        if before == after == "L":
            resolved[i] = "L"
        elif (bidi in ("CS", "ES") and kinds[i - 1:i] == kinds[i + 1:i + 2] == ["EN"]) or (
                bidi == "ET" and "EN" in beside):
            resolved[i] = "EN"
        else:
            resolved[i] = "R"
    runs: list[tuple[bool, str]] = []  # (right-to-left?, text) in logical order
    for ch, k in zip(text, resolved, strict=True):
        if runs and runs[-1][0] == (k == "R"):
            runs[-1] = (runs[-1][0], runs[-1][1] + ch)
        else:
            runs.append((k == "R", ch))
    return "".join(_shape_run(run) if rtl else run for rtl, run in reversed(runs))


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    return fig


def _style(ax: Any) -> None:
    """Light spines and ticks; in right-to-left the value axis stands on the right (mirror the x axis with
    `_mirror` once its limits are set)."""
    start, end = ("right", "left") if _rtl() else ("left", "right")
    for side in ("top", end):
        ax.spines[side].set_visible(False)
    for side in (start, "bottom"):
        ax.spines[side].set_color(GRID)
    if _rtl():
        ax.yaxis.tick_right()
        ax.yaxis.set_label_position("right")
    ax.tick_params(colors=MUTED, labelsize=8.5, length=0)
    ax.set_axisbelow(True)


def _mirror(ax: Any) -> None:
    """Right-to-left: the x axis runs from right to left (the first day, the shortest time, zero on the right)."""
    if _rtl():
        ax.invert_xaxis()


def _title(ax: Any, title: str) -> None:
    if title:
        ax.set_title(shape(title), loc="right" if _rtl() else "left", fontsize=10, color=INK, fontweight="bold")


def _render(fig: Any, fmt: str) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "path", "svg.hashsalt": "basira"}):
        fig.savefig(buf, format=fmt, dpi=200, bbox_inches="tight", pad_inches=0.08,
                    metadata={"Date": None} if fmt == "svg" else None)
    return buf.getvalue()


def _empty(ax: Any, message: str) -> None:
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center", color=MUTED, fontsize=9, transform=ax.transAxes)


def hbar(rows: Sequence[tuple[str, int]], *, title: str = "", fmt: str = "png", width: float = 6.4,
         color: str = PALETTE[0], max_rows: int = 10) -> bytes:
    """Horizontal bars, largest on top, with the count at the end of each bar."""
    rows = list(rows)[:max_rows]
    fig = _figure(width, 0.45 + 0.32 * max(len(rows), 2))
    ax = fig.add_subplot()
    _style(ax)
    if not rows:
        _empty(ax, _say("nothing in this period"))
        return _render(fig, fmt)
    labels = [shape(lbl if len(lbl) <= 42 else lbl[:41] + "…") for lbl, _ in rows][::-1]
    values = [v for _, v in rows][::-1]
    bars = ax.barh(range(len(rows)), values, color=color, height=0.62)
    ax.set_yticks(range(len(rows)), labels, fontsize=8.5, color=INK)
    ax.xaxis.grid(True, color=GRID, linewidth=0.8)
    ax.spines["right" if _rtl() else "left"].set_visible(False)
    top = max(values) or 1
    ax.set_xlim(0, top * 1.15)
    _mirror(ax)
    for b, v in zip(bars, values, strict=True):
        ax.text(b.get_width() + top * 0.015, b.get_y() + b.get_height() / 2, number(v, 0), va="center",
                ha="right" if _rtl() else "left", fontsize=8, color=INK)
    _title(ax, title)
    return _render(fig, fmt)


def daily(days: Sequence[tuple[str, int]], start: date, end: date, *, title: str = "", fmt: str = "png",
          width: float = 7.2, height: float = 2.1) -> bytes:
    """Counts per day over the whole period (days without any shown as zero)."""
    import matplotlib.dates as mdates
    from matplotlib.ticker import MaxNLocator

    fig = _figure(width, height)
    ax = fig.add_subplot()
    _style(ax)
    counts = dict(days)
    n = max((end - start).days, 1)
    xs = [start + timedelta(days=i) for i in range(n)]
    ys = [counts.get(d.isoformat(), 0) for d in xs]
    if not any(ys):
        _empty(ax, _say("no removals in this period"))
        return _render(fig, fmt)
    ax.bar(xs, ys, width=0.8 if n <= 62 else 1.0, color=PALETTE[0])
    ax.yaxis.grid(True, color=GRID, linewidth=0.8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.set_ylabel(_say("removals per day"), fontsize=8, color=MUTED)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=3, maxticks=8))
    ax.xaxis.set_major_formatter(lambda x, _pos: shape(when(mdates.num2date(x), "d MMM")))
    ax.set_xlim(xs[0] - timedelta(days=0.6), xs[-1] + timedelta(days=0.6))
    _mirror(ax)
    _title(ax, title)
    return _render(fig, fmt)


def execution_times(seconds: Sequence[float], *, fmt: str = "png", width: float = 6.4) -> bytes:
    """Histogram of time to execute removal orders, in minutes, with the one-hour line."""
    from matplotlib.ticker import MaxNLocator

    fig = _figure(width, 2.3)
    ax = fig.add_subplot()
    _style(ax)
    if not seconds:
        _empty(ax, _say("no removal order executed in this period"))
        return _render(fig, fmt)
    minutes = [s / 60 for s in seconds]
    top = max(max(minutes), 70)
    bins = [i * 10 for i in range(int(top // 10) + 2)] if top <= 360 else 30
    ax.hist(minutes, bins=bins, color=PALETTE[1], edgecolor="white")
    ax.axvline(60, color=PALETTE[2], linewidth=1.6)
    _mirror(ax)
    ax.text(61, ax.get_ylim()[1] * 0.92, _say("1 hour"), color=PALETTE[2], fontsize=8, va="top",
            ha="right" if _rtl() else "left")
    ax.set_xlabel(_say("minutes from receipt to execution"), fontsize=8, color=MUTED)
    ax.set_ylabel(_say("orders"), fontsize=8, color=MUTED)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    ax.yaxis.grid(True, color=GRID, linewidth=0.8)
    return _render(fig, fmt)


def split(parts: Sequence[tuple[str, int]], *, fmt: str = "png", width: float = 7.2) -> bytes:
    """One horizontal 100% bar split into parts (e.g. appeals upheld / overturned), labelled with counts."""
    fig = _figure(width, 0.45)
    ax = fig.add_subplot()
    total = sum(v for _, v in parts)
    if not total:
        _empty(ax, _say("nothing decided in this period"))
        return _render(fig, fmt)
    left = 0.0
    for i, (label, v) in enumerate(parts):
        ax.barh(0, v / total, left=left, color=PALETTE[i % len(PALETTE)], height=0.7)
        if v / total > 0.08:
            ax.text(left + v / total / 2, 0, f"{_say(label)}  {number(v, 0)}".strip(), ha="center", va="center", color="white",
                    fontsize=8.5, fontweight="bold")
        left += v / total
    ax.set_xlim(0, 1)
    _mirror(ax)  # the first part on the right
    ax.axis("off")
    return _render(fig, fmt)
