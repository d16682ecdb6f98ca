"""The transparency report as one self-contained HTML page (Jinja, autoescaped; charts as inline SVG images)."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Any

from basira.compliance import report_charts as charts
from basira.compliance.report import (
    count,
    duration,
    generated_text,
    key_figures,
    methodology,
    parse_iso,
    percent,
    period_text,
    source_rows,
    stage,
    word,
)
from basira.core.i18n import LANGUAGES, current, speaking


@lru_cache(maxsize=1)
def _env():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from basira.core.i18n import current, translations
    from basira.review.content import mark_output

    env = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.i18n"],
                      finalize=mark_output)  # invisible and bidi characters marked in whatever is printed
    # The report's words in the current language (basira.core.i18n.speaking; English by default, as the CLI).
    env.install_gettext_callables(lambda message: translations(current()).gettext(message),  # type: ignore[attr-defined]
                                  lambda one, many, k: translations(current()).ngettext(one, many, k), newstyle=True)
    return env


def _svg(data: bytes) -> str:
    # An <img> never runs scripts in an SVG; the charts' text is drawn as paths anyway.
    return "data:image/svg+xml;base64," + base64.b64encode(data).decode("ascii")


def render_html(report: dict[str, Any], lang: str | None = None) -> str:
    """The report dict (basira.compliance.report.build_report) as an HTML document in `lang` (default: the
    current language)."""
    with speaking(lang or current()):
        return _render_html(report)


def _render_html(report: dict[str, Any]) -> str:
    from basira import __version__

    rem = report["moderation"]["removals"]
    a, b = parse_iso(report["period"]["from"]).date(), parse_iso(report["period"]["to"]).date()
    ap = report["appeals"]
    chart_urls = {
        "daily": _svg(charts.daily([(d["day"], d["count"]) for d in rem["by_day"]], a, b, fmt="svg")),
        "category": _svg(charts.hbar([(x["key"], x["count"]) for x in rem["by_category"]], fmt="svg")),
        "orders": _svg(charts.execution_times(report["removal_orders"]["execute_seconds"], fmt="svg")),
        "appeals": _svg(charts.split([("upheld", ap["upheld"]), ("overturned", ap["overturned"])], fmt="svg")),
    }
    return _env().get_template("transparency.html").render(
        lang=current(), dir=LANGUAGES[current()][1], r=report, period=period_text(report), version=__version__,
        generated=generated_text(report), tiles=key_figures(report), sources=source_rows(report), charts=chart_urls,
        methodology=methodology(report), n=count, pct=percent, dur=duration, word=word, stage=stage)
