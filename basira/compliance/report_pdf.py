"""The transparency report as a PDF (fpdf2, pure Python): cover with key figures, one page per section,
methodology, page numbers — in the current language (basira.core.i18n; the CLI's --lang, the web reader's).
Fonts are the DejaVu Sans files shipped inside matplotlib (Latin, Greek, Cyrillic, Arabic), so the output is the
same on any machine without system fonts. Arabic is shaped (HarfBuzz through fpdf2's text shaping) and the
page mirrors: text, tables and key figures from the right."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from basira.compliance import report_charts as charts
from basira.compliance.report import (
    count,
    duration,
    generated_text,
    key_figures,
    methodology,
    percent,
    period_text,
    source_rows,
    stage,
    word,
)
from basira.compliance.report import parse_iso as _when
from basira.core.i18n import LANGUAGES, current, speaking
from basira.core.i18n import gettext as _

TEAL, TEAL_LIGHT, ACCENT = (27, 73, 101), (234, 242, 247), (231, 111, 81)
INK, MUTED, RULE = (29, 43, 54), (91, 107, 121), (214, 221, 227)
MARGIN = 16.0


def _fonts() -> tuple[str, str]:
    import matplotlib

    base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return str(base / "DejaVuSans.ttf"), str(base / "DejaVuSans-Bold.ttf")


_n = count


class _Doc:
    def __init__(self, report: dict[str, Any], pages: int | None = None) -> None:
        from fpdf import FPDF

        self.lang = current()
        self.rtl = LANGUAGES[self.lang][1] == "rtl"
        if self.rtl:  # the platform's (Latin) name isolated, so a date after it is not pulled into its run
            report = {**report, "platform": f"\u2068{report['platform']}\u2069"}
        self.r = report
        self.A = "R" if self.rtl else "L"  # the start of a line
        footer_text = _("Basira transparency report · %(platform)s · %(period)s", platform=report["platform"],
                        period=period_text(report))
        rtl, start, end = self.rtl, self.A, "L" if self.rtl else "R"

        class PDF(FPDF):
            def footer(inner) -> None:  # noqa: N805 - fpdf's hook; `self` is the _Doc
                inner.set_y(-11)
                inner.set_font("dejavu", size=7.5)
                inner.set_text_color(*MUTED)
                inner.cell(0, 5, footer_text, align=start)
                inner.set_x(inner.l_margin)
                # fpdf2's {nb} alias is replaced in the content stream, which shaped text no longer holds as
                # characters: a shaped document is laid out twice and the second pass knows the page count.
                total = str(pages) if rtl else "{nb}"
                inner.cell(0, 5, _("page %(page)s of %(pages)s", page=inner.page_no(), pages=total), align=end)

        pdf = PDF(format="A4", unit="mm")
        regular, bold = _fonts()
        pdf.add_font("dejavu", "", regular)
        pdf.add_font("dejavu", "B", bold)
        if self.rtl:  # letters joined and lines laid out right to left; Latin runs inside keep their order
            pdf.set_text_shaping(use_shaping_engine=True, direction="rtl", script="arab", language=self.lang)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=16)
        pdf.set_title(_("Transparency report: %(platform)s, %(period)s", platform=report["platform"],
                        period=period_text(report)))
        pdf.set_lang(self.lang)
        pdf.set_author("Basira")
        pdf.set_creator("Basira (basira report transparency)")
        pdf.set_creation_date(_when(report["generated_at"]))
        self.pdf = pdf

    # --- building blocks ---------------------------------------------------------------------------------------

    def cols(self, values: Any) -> list[Any]:
        """A row's cells (or widths) in the order they are drawn from the left: reversed in right-to-left."""
        return list(values)[::-1] if self.rtl else list(values)

    def font(self, size: float, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font("dejavu", "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def line(self, h: float, text: str) -> None:
        self.pdf.cell(0, h, text, align=self.A, new_x="LMARGIN", new_y="NEXT")

    def heading(self, text: str, sub: str | None = None) -> None:
        p = self.pdf
        self.font(16, True, TEAL)
        self.line(9, text)
        p.set_draw_color(*ACCENT)
        p.set_line_width(0.8)
        x = p.w - MARGIN - 18 if self.rtl else MARGIN
        p.line(x, p.get_y() + 0.5, x + 18, p.get_y() + 0.5)
        p.ln(3)
        if sub:
            self.para(sub, size=9, color=MUTED)

    def subheading(self, text: str) -> None:
        self.pdf.ln(2)
        self.font(11, True, INK)
        self.line(7, text)

    def para(self, text: str, size: float = 9.5, color: tuple[int, int, int] = INK) -> None:
        self.font(size, False, color)
        self.pdf.multi_cell(0, size * 0.5, text, align=self.A, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)

    def chart(self, png: bytes, width: float | None = None, caption: str | None = None) -> None:
        p = self.pdf
        w = width or (p.w - 2 * MARGIN)
        p.image(io.BytesIO(png), x=p.w - MARGIN - w if self.rtl else MARGIN, w=w)
        p.ln(1)
        if caption:
            self.para(caption, size=8, color=MUTED)
        else:
            p.ln(1)

    def table(self, headings: list[str], rows: list[list[str]], widths: tuple[float, ...],
              align: tuple[str, ...] | None = None, empty: str | None = None) -> None:
        from fpdf.fonts import FontFace

        p = self.pdf
        if not rows:
            self.para(empty or _("nothing in this period"), size=9, color=MUTED)
            return
        align = align or ("LEFT",) * len(widths)
        if self.rtl:  # mirrored: the first column on the right, text to the right, numbers to the left
            align = tuple({"LEFT": "RIGHT", "RIGHT": "LEFT"}.get(a, a) for a in align)
        self.font(8.5)
        p.set_draw_color(*RULE)
        p.set_fill_color(255, 255, 255)
        p.set_line_width(0.2)
        with p.table(col_widths=tuple(self.cols(widths)), text_align=tuple(self.cols(align)), line_height=5.2,
                     headings_style=FontFace(emphasis="BOLD", color=TEAL, fill_color=TEAL_LIGHT),
                     borders_layout="HORIZONTAL_LINES", cell_fill_color=(245, 248, 250),
                     cell_fill_mode="ROWS", padding=(1.2, 2, 1.2, 2)) as t:
            for cells in [headings, *rows]:
                row = t.row()
                for v in self.cols(cells):
                    row.cell(v)
        p.ln(3)

    def counts_table(self, rows: list[dict], label: str, with_code: bool = False, words: bool = False) -> None:
        key = word if words else str
        if with_code:
            body = [[x["key"], x.get("label", x["key"]), _n(x["count"]), percent(x["share"])] for x in rows]
            self.table([_("code"), label, _("count"), _("share")], body, (26, 108, 22, 22),
                       ("LEFT", "LEFT", "RIGHT", "RIGHT"))
        else:
            body = [[key(x["key"]), _n(x["count"]), percent(x["share"])] for x in rows]
            self.table([label, _("count"), _("share")], body, (110, 34, 34), ("LEFT", "RIGHT", "RIGHT"))

    def tiles(self, items: list[tuple[str, str, str]]) -> None:
        """Key figures: (value, label, caption), three per row (from the right in right-to-left)."""
        p = self.pdf
        gap, per_row, h = 4.0, 3, 25.0
        w = (p.w - 2 * MARGIN - gap * (per_row - 1)) / per_row
        y0 = p.get_y()
        for i, (value, label, caption) in enumerate(items):
            col = i % per_row
            x = (p.w - MARGIN - (col + 1) * w - col * gap) if self.rtl else MARGIN + col * (w + gap)
            y = y0 + (i // per_row) * (h + gap)
            p.set_fill_color(*TEAL_LIGHT)
            p.rect(x, y, w, h, style="F")
            p.set_fill_color(*ACCENT)
            p.rect(x + w - 1.2 if self.rtl else x, y, 1.2, h, style="F")
            tx = x + 2 if self.rtl else x + 4
            for dy, size, bold, color, hh, text in ((2.5, 17, True, TEAL, 9, value), (12, 8.5, True, INK, 4.5, label),
                                                    (17, 7.5, False, MUTED, 4.5, caption)):
                p.set_xy(tx, y + dy)
                self.font(size, bold, color)
                while size > 6 and p.get_string_width(text) > w - 6:  # a long label (Russian) shrinks to fit
                    size -= 0.5
                    self.font(size, bold, color)
                p.cell(w - 6, hh, text, align=self.A)
        rows = (len(items) + per_row - 1) // per_row
        p.set_xy(MARGIN, y0 + rows * (h + gap) + 2)

    # --- pages -------------------------------------------------------------------------------------------------

    def cover(self) -> None:
        from basira import __version__

        r, p = self.r, self.pdf
        p.add_page()
        p.set_fill_color(*TEAL)
        p.rect(0, 0, p.w, 50, style="F")
        p.set_xy(MARGIN, 12)
        self.font(9, True, (170, 204, 224))
        self.line(5, _("Transparency report · terrorist and violent extremist content").upper())
        self.font(24, True, (255, 255, 255))
        self.line(13, r["platform"])
        self.font(12, False, (255, 255, 255))
        self.line(7, period_text(r))
        self.font(8, False, (170, 204, 224))
        self.line(6, _("Generated %(t)s by Basira %(v)s · schema %(s)s", t=generated_text(r), v=__version__,
                       s=r["schema"]))
        p.set_y(58)
        self.para(_("What this platform did about terrorist and violent extremist content in the period: content "
                    "removed after human review, removal orders from authorities and how fast they were executed, "
                    "complaints, appeals, and where the cases came from. Every figure is counted from Basira's "
                    "database; the definitions are at the end."), size=9.5, color=MUTED)
        p.ln(1)
        self.tiles(key_figures(r))
        self.subheading(_("Content removed per day"))
        a_, b_ = _when(r["period"]["from"]).date(), _when(r["period"]["to"]).date()
        self.chart(charts.daily([(d["day"], d["count"]) for d in r["moderation"]["removals"]["by_day"]], a_, b_))
        self.subheading(_("Moderation decisions by action"))
        self.counts_table(r["moderation"]["decisions_by_action"], _("action"), words=True)

    def removals(self) -> None:
        rem = self.r["moderation"]["removals"]
        self.pdf.add_page()
        self.heading(_("Content removed"), _("%(n)s removal decisions in the period, after human review or to execute "
                                             "removal orders: %(c)s confirmed removed by the platform, %(u)s recorded, "
                                             "not confirmed.", n=_n(rem["total"]), c=_n(rem["confirmed"]),
                                             u=_n(rem["recorded_not_confirmed"])))
        self.subheading(_("By policy reason"))
        self.counts_table(rem["by_reason"], _("reason"), with_code=True)
        self.subheading(_("By detector category"))
        self.chart(charts.hbar([(x["key"], x["count"]) for x in rem["by_category"]]), width=150,
                   caption=_("A post can carry several categories, so these add up to more than the total."))
        self.subheading(_("By language"))
        self.counts_table(rem["by_language"], _("language (ISO 639-1; und = unknown)"))
        self.subheading(_("By how it was decided"))
        self.counts_table([{**x, "key": stage(x["key"])} for x in rem["by_stage"]], _("stage"))

    def orders(self) -> None:
        o, cmp_ = self.r["removal_orders"], self.r["complaints"]
        self.pdf.add_page()
        self.heading(_("Removal orders and complaints"))
        self.subheading(_("Removal orders"))
        if not o["available"]:
            self.para(_("Removal orders are not recorded in this database (the compliance tables are absent), so "
                        "none are counted here."), size=9, color=MUTED)
        t = o["time_to_execute"]
        self.table([_("received"), _("executed"), _("not executed"), _("of which recorded, not confirmed"),
                    _("median time"), _("95th percentile"), _("within 1 hour")],
                   [[_n(o["received"]), _n(o["executed"]), _n(o["not_executed"]), _n(o["recorded_not_confirmed"]),
                     duration(t["median_seconds"]), duration(t["p95_seconds"]),
                     f"{_n(t['within_1h'])} ({percent(t['within_1h_share'])})"]],
                   (22, 22, 26, 28, 24, 26, 30), ("RIGHT",) * 7)
        if o["executed"]:
            self.chart(charts.execution_times(o["execute_seconds"]), width=150, caption=_(
                "Minutes from receipt to execution (across) and the number of orders (up); the orange line marks "
                "one hour."))
        if o["by_authority"]:
            self.subheading(_("Orders by issuing authority"))
            self.counts_table(o["by_authority"], _("authority"))
        if o["by_status"]:
            self.subheading(_("Orders by status"))
            self.counts_table(o["by_status"], _("status"), words=True)
        self.subheading(_("Complaints"))
        if not cmp_["available"]:
            self.para(_("Complaints are not recorded in this database (the compliance tables are absent)."), size=9,
                      color=MUTED)
        td = cmp_["time_to_decide"]
        self.para(_("%(n)s complaints received; %(d)s decided (median %(m)s, 95th percentile %(p)s); %(r)s led to "
                    "the content being reinstated.", n=_n(cmp_["received"]), d=_n(td["count"]),
                    m=duration(td["median_seconds"]), p=duration(td["p95_seconds"]), r=_n(cmp_["reinstated"])),
                  size=9.5)
        self.counts_table(cmp_["by_outcome"], _("outcome"), words=True)

    def appeals_and_sources(self) -> None:
        a, d = self.r["appeals"], self.r["detection"]
        self.pdf.add_page()
        self.heading(_("Appeals and where cases came from"))
        self.subheading(_("Appeals"))
        self.para(_("%(f)s appeals filed; %(d)s decided: %(u)s upheld, %(o)s overturned (%(s)s). The overturned "
                    "share is an error-rate signal for first decisions.", f=_n(a["filed"]), d=_n(a["decided"]),
                    u=_n(a["upheld"]), o=_n(a["overturned"]), s=percent(a["overturned_share"])), size=9.5)
        self.chart(charts.split([("upheld", a["upheld"]), ("overturned", a["overturned"])]),
                   caption=_("Dark blue: upheld (%(u)s) · light blue: overturned (%(o)s)", u=_n(a["upheld"]),
                             o=_n(a["overturned"])))
        self.subheading(_("Sources of removed content and of new cases"))
        self.table([_("source"), _("removed"), _("of removals"), _("cases opened"), _("of cases")], source_rows(self.r),
                   (58, 30, 30, 30, 30), ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
        self.para(_("The detector scored %(n)s posts in the period and flagged %(f)s (%(r)s) for review.",
                    n=_n(d["posts_scored"]), f=_n(d["posts_flagged"]), r=percent(d["flag_rate"])), size=9.5)
        self.subheading(_("Hash-bank matches"))
        bm = d["bank_matches"]
        self.para(_("%(n)s acted-on matches recorded in the period.", n=_n(bm["acted_on"])), size=9.5)
        self.counts_table(bm["by_bank"], _("bank"))

    def methodology(self) -> None:
        self.pdf.add_page()
        self.heading(_("Methodology"), _("How each figure is counted. The same numbers are in the JSON edition "
                                         "(schema basira-transparency-report/1)."))
        for term, definition in methodology(self.r):
            self.font(9.5, True, TEAL)
            self.line(6, term)
            self.para(definition, size=9)

    def render(self) -> bytes:
        self.cover()
        self.removals()
        self.orders()
        self.appeals_and_sources()
        self.methodology()
        return bytes(self.pdf.output())


def render_pdf(report: dict[str, Any], lang: str | None = None) -> bytes:
    """The report dict (basira.compliance.report.build_report) as PDF bytes, in `lang` (default: the current
    language, English unless a face chose one)."""
    with speaking(lang or current()):
        doc = _Doc(report)
        if not doc.rtl:
            return doc.render()
        doc.render()  # the first pass counts the pages for the footer (see PDF.footer)
        return _Doc(report, pages=doc.pdf.pages_count).render()
