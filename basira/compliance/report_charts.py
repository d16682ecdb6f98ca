"""Charts of the transparency report (matplotlib, Agg, no pyplot state): PNG for the PDF, SVG for the HTML.

Text in the SVGs is drawn as paths, so a hostile category name cannot become markup. The charts' words are in
the current language; matplotlib cannot shape Arabic (no joining, no right-to-left), so in a right-to-left
language the charts carry numbers and data codes only and the document says the rest in a caption beside them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from basira.core.i18n import LANGUAGES, current, gettext, number, when

INK, MUTED, GRID = "#1d2b36", "#5b6b79", "#e3e8ec"
PALETTE = ["#1b4965", "#5fa8d3", "#e76f51", "#2a9d8f", "#f4a261", "#8d99ae", "#9c6644", "#62b6cb"]


def _say(message: str) -> str:
    """A chart's word in the current language; nothing in a right-to-left one (see the module's docstring)."""
    return "" if LANGUAGES[current()][1] == "rtl" else gettext(message)


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    fig.patch.set_facecolor("white")
    return fig


def _style(ax: Any) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(GRID)
    ax.tick_params(colors=MUTED, labelsize=8.5, length=0)
    ax.set_axisbelow(True)


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
    labels = [(lbl if len(lbl) <= 42 else lbl[:41] + "…") for lbl, _ in rows][::-1]
    values = [v for _, v in rows][::-1]
    bars = ax.barh(range(len(rows)), values, color=color, height=0.62)
    ax.set_yticks(range(len(rows)), labels, fontsize=8.5, color=INK)
    ax.xaxis.grid(True, color=GRID, linewidth=0.8)
    ax.spines["left"].set_visible(False)
    top = max(values) or 1
    ax.set_xlim(0, top * 1.15)
    for b, v in zip(bars, values, strict=True):
        ax.text(b.get_width() + top * 0.015, b.get_y() + b.get_height() / 2, number(v, 0), va="center",
                fontsize=8, color=INK)
    if title:
        ax.set_title(title, loc="left", fontsize=10, color=INK, fontweight="bold")
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
    rtl = LANGUAGES[current()][1] == "rtl"
    ax.xaxis.set_major_formatter(lambda x, _pos: when(mdates.num2date(x), "d/M" if rtl else "d MMM"))
    ax.set_xlim(xs[0] - timedelta(days=0.6), xs[-1] + timedelta(days=0.6))
    if title:
        ax.set_title(title, loc="left", fontsize=10, color=INK, fontweight="bold")
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
    ax.text(61, ax.get_ylim()[1] * 0.92, _say("1 hour"), color=PALETTE[2], fontsize=8, va="top")
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
    ax.axis("off")
    return _render(fig, fmt)
