"""The transparency report as a PDF (fpdf2, pure Python): cover with key figures, one page per section,
methodology, page numbers. Fonts are the DejaVu Sans files shipped inside matplotlib (Latin, Greek, Cyrillic),
so the output is the same on any machine without system fonts."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from basira.compliance import report_charts as charts
from basira.compliance.report import duration, key_figures, percent, period_text, source_rows
from basira.compliance.report import parse_iso as _when

TEAL, TEAL_LIGHT, ACCENT = (27, 73, 101), (234, 242, 247), (231, 111, 81)
INK, MUTED, RULE = (29, 43, 54), (91, 107, 121), (214, 221, 227)
MARGIN = 16.0
STAGES = {"review": "first review", "escalation": "after escalation (legal)", "order": "executing a removal order"}


def _fonts() -> tuple[str, str]:
    import matplotlib

    base = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return str(base / "DejaVuSans.ttf"), str(base / "DejaVuSans-Bold.ttf")


def _n(v: int | None) -> str:
    return "—" if v is None else f"{v:,}"


class _Doc:
    def __init__(self, report: dict[str, Any]) -> None:
        from fpdf import FPDF

        self.r = report
        footer_text = f"Basira transparency report · {report['platform']} · {period_text(report)}"

        class PDF(FPDF):
            def footer(inner) -> None:  # noqa: N805 - fpdf's hook; `self` is the _Doc
                inner.set_y(-11)
                inner.set_font("dejavu", size=7.5)
                inner.set_text_color(*MUTED)
                inner.cell(0, 5, footer_text, align="L")
                inner.set_x(inner.l_margin)
                inner.cell(0, 5, f"page {inner.page_no()} of {{nb}}", align="R")

        pdf = PDF(format="A4", unit="mm")
        regular, bold = _fonts()
        pdf.add_font("dejavu", "", regular)
        pdf.add_font("dejavu", "B", bold)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=16)
        pdf.set_title(f"Transparency report: {report['platform']}, {period_text(report)}")
        pdf.set_author("Basira")
        pdf.set_creator("Basira (basira report transparency)")
        pdf.set_creation_date(_when(report["generated_at"]))
        self.pdf = pdf

    # --- building blocks ---------------------------------------------------------------------------------------

    def font(self, size: float, bold: bool = False, color: tuple[int, int, int] = INK) -> None:
        self.pdf.set_font("dejavu", "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def heading(self, text: str, sub: str | None = None) -> None:
        p = self.pdf
        self.font(16, True, TEAL)
        p.cell(0, 9, text, new_x="LMARGIN", new_y="NEXT")
        p.set_draw_color(*ACCENT)
        p.set_line_width(0.8)
        p.line(MARGIN, p.get_y() + 0.5, MARGIN + 18, p.get_y() + 0.5)
        p.ln(3)
        if sub:
            self.para(sub, size=9, color=MUTED)

    def subheading(self, text: str) -> None:
        self.pdf.ln(2)
        self.font(11, True, INK)
        self.pdf.cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    def para(self, text: str, size: float = 9.5, color: tuple[int, int, int] = INK) -> None:
        self.font(size, False, color)
        self.pdf.multi_cell(0, size * 0.5, text, align="L", new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1.5)

    def chart(self, png: bytes, width: float | None = None) -> None:
        p = self.pdf
        w = width or (p.w - 2 * MARGIN)
        p.image(io.BytesIO(png), x=MARGIN, w=w)
        p.ln(2)

    def table(self, headings: list[str], rows: list[list[str]], widths: tuple[float, ...],
              align: tuple[str, ...] | None = None, empty: str = "nothing in this period") -> None:
        from fpdf.fonts import FontFace

        p = self.pdf
        if not rows:
            self.para(empty, size=9, color=MUTED)
            return
        self.font(8.5)
        p.set_draw_color(*RULE)
        p.set_fill_color(255, 255, 255)
        p.set_line_width(0.2)
        with p.table(col_widths=widths, text_align=align or ("LEFT",) * len(widths), line_height=5.2,
                     headings_style=FontFace(emphasis="BOLD", color=TEAL, fill_color=TEAL_LIGHT),
                     borders_layout="HORIZONTAL_LINES", cell_fill_color=(245, 248, 250),
                     cell_fill_mode="ROWS", padding=(1.2, 2, 1.2, 2)) as t:
            head = t.row()
            for h in headings:
                head.cell(h)
            for r in rows:
                row = t.row()
                for v in r:
                    row.cell(v)
        p.ln(3)

    def counts_table(self, title: str, rows: list[dict], label: str, with_code: bool = False) -> None:
        if with_code:
            body = [[x["key"], x.get("label", x["key"]), _n(x["count"]), percent(x["share"])] for x in rows]
            self.table(["code", label, "count", "share"], body, (26, 108, 22, 22),
                       ("LEFT", "LEFT", "RIGHT", "RIGHT"))
        else:
            body = [[x["key"], _n(x["count"]), percent(x["share"])] for x in rows]
            self.table([label, "count", "share"], body, (110, 34, 34), ("LEFT", "RIGHT", "RIGHT"))

    def tiles(self, items: list[tuple[str, str, str]]) -> None:
        """Key figures: (value, label, caption), three per row."""
        p = self.pdf
        gap, per_row, h = 4.0, 3, 25.0
        w = (p.w - 2 * MARGIN - gap * (per_row - 1)) / per_row
        y0 = p.get_y()
        for i, (value, label, caption) in enumerate(items):
            x = MARGIN + (i % per_row) * (w + gap)
            y = y0 + (i // per_row) * (h + gap)
            p.set_fill_color(*TEAL_LIGHT)
            p.rect(x, y, w, h, style="F")
            p.set_fill_color(*ACCENT)
            p.rect(x, y, 1.2, h, style="F")
            p.set_xy(x + 4, y + 2.5)
            self.font(17, True, TEAL)
            p.cell(w - 6, 9, value)
            p.set_xy(x + 4, y + 12)
            self.font(8.5, True, INK)
            p.cell(w - 6, 4.5, label)
            p.set_xy(x + 4, y + 17)
            self.font(7.5, False, MUTED)
            p.cell(w - 6, 4.5, caption)
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
        p.cell(0, 5, "TRANSPARENCY REPORT · TERRORIST AND VIOLENT EXTREMIST CONTENT", new_x="LMARGIN", new_y="NEXT")
        p.set_x(MARGIN)
        self.font(24, True, (255, 255, 255))
        p.cell(0, 13, r["platform"], new_x="LMARGIN", new_y="NEXT")
        p.set_x(MARGIN)
        self.font(12, False, (255, 255, 255))
        p.cell(0, 7, period_text(r), new_x="LMARGIN", new_y="NEXT")
        p.set_x(MARGIN)
        self.font(8, False, (170, 204, 224))
        p.cell(0, 6, f"Generated {r['generated_at'].replace('T', ' ').replace('Z', ' UTC')} by Basira {__version__}",
               new_x="LMARGIN", new_y="NEXT")
        p.set_y(58)
        self.para("What this platform did about terrorist and violent extremist content in the period: content "
                  "removed after human review, removal orders from authorities and how fast they were executed, "
                  "complaints, appeals, and where the cases came from. Every figure is counted from Basira's "
                  "database; the definitions are on the last page.", size=9.5, color=MUTED)
        p.ln(1)
        self.tiles(key_figures(r))
        self.subheading("Content removed per day")
        a_, b_ = _when(r["period"]["from"]).date(), _when(r["period"]["to"]).date()
        self.chart(charts.daily([(d["day"], d["count"]) for d in r["moderation"]["removals"]["by_day"]], a_, b_))
        self.subheading("Moderation decisions by action")
        self.counts_table("", r["moderation"]["decisions_by_action"], "action")

    def removals(self) -> None:
        rem = self.r["moderation"]["removals"]
        self.pdf.add_page()
        self.heading("Content removed", f"{_n(rem['total'])} items removed in the period, after human review or to "
                     "execute removal orders.")
        self.subheading("By policy reason")
        self.counts_table("", rem["by_reason"], "reason", with_code=True)
        self.subheading("By detector category")
        self.chart(charts.hbar([(x["key"], x["count"]) for x in rem["by_category"]]), width=150)
        self.para("A post can carry several categories, so these add up to more than the total.", size=8,
                  color=MUTED)
        self.subheading("By language")
        self.counts_table("", rem["by_language"], "language (ISO 639-1; und = unknown)")
        self.subheading("By how it was decided")
        self.counts_table("", [{**x, "key": STAGES.get(x["key"], x["key"])} for x in rem["by_stage"]], "stage")

    def orders(self) -> None:
        o, cmp_ = self.r["removal_orders"], self.r["complaints"]
        self.pdf.add_page()
        self.heading("Removal orders and complaints")
        self.subheading("Removal orders")
        if not o["available"]:
            self.para("Removal orders are not recorded in this database (the compliance tables are absent), so "
                      "none are counted here.", size=9, color=MUTED)
        t = o["time_to_execute"]
        self.table(["received", "executed", "not executed", "recorded only", "median", "95th pct.", "within 1 hour"],
                   [[_n(o["received"]), _n(o["executed"]), _n(o["not_executed"]), _n(o["recorded_not_confirmed"]),
                     duration(t["median_seconds"]), duration(t["p95_seconds"]),
                     f"{_n(t['within_1h'])} ({percent(t['within_1h_share'])})"]],
                   (22, 22, 26, 26, 26, 26, 30), ("RIGHT",) * 7)
        if o["executed"]:
            self.chart(charts.execution_times(o["execute_seconds"]), width=150)
        if o["by_authority"]:
            self.subheading("Orders by issuing authority")
            self.counts_table("", o["by_authority"], "authority")
        if o["by_status"]:
            self.subheading("Orders by status")
            self.counts_table("", o["by_status"], "status")
        self.subheading("Complaints")
        if not cmp_["available"]:
            self.para("Complaints are not recorded in this database (the compliance tables are absent).", size=9,
                      color=MUTED)
        td = cmp_["time_to_decide"]
        self.para(f"{_n(cmp_['received'])} complaints received; {_n(td['count'])} decided "
                  f"(median {duration(td['median_seconds'])}, 95th percentile {duration(td['p95_seconds'])}); "
                  f"{_n(cmp_['reinstated'])} led to the content being reinstated.", size=9.5)
        self.counts_table("", cmp_["by_outcome"], "outcome")

    def appeals_and_sources(self) -> None:
        a, d = self.r["appeals"], self.r["detection"]
        self.pdf.add_page()
        self.heading("Appeals and where cases came from")
        self.subheading("Appeals")
        self.para(f"{_n(a['filed'])} appeals filed; {_n(a['decided'])} decided: {_n(a['upheld'])} upheld, "
                  f"{_n(a['overturned'])} overturned ({percent(a['overturned_share'])}). The overturned share is an "
                  "error-rate signal for first decisions.", size=9.5)
        self.chart(charts.split([("upheld", a["upheld"]), ("overturned", a["overturned"])]))
        self.subheading("Sources of removed content and of new cases")
        rows = source_rows(self.r)
        self.table(["source", "removed", "of removals", "cases opened", "of cases"], rows, (58, 30, 30, 30, 30),
                   ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
        self.para(f"The detector scored {_n(d['posts_scored'])} posts in the period and flagged "
                  f"{_n(d['posts_flagged'])} ({percent(d['flag_rate'])}) for review.", size=9.5)
        self.subheading("Hash-bank matches")
        bm = d["bank_matches"]
        self.para(f"{_n(bm['acted_on'])} acted-on matches recorded in the period.", size=9.5)
        self.counts_table("", bm["by_bank"], "bank")

    def methodology(self) -> None:
        self.pdf.add_page()
        self.heading("Methodology", "How each figure is counted. The same numbers are in the JSON edition "
                     "(schema basira-transparency-report/1).")
        for m in self.r["methodology"]:
            self.font(9.5, True, TEAL)
            self.pdf.cell(0, 6, m["term"], new_x="LMARGIN", new_y="NEXT")
            self.para(m["definition"], size=9)

    def render(self) -> bytes:
        self.cover()
        self.removals()
        self.orders()
        self.appeals_and_sources()
        self.methodology()
        return bytes(self.pdf.output())


def render_pdf(report: dict[str, Any]) -> bytes:
    """The report dict (basira.compliance.report.build_report) as PDF bytes."""
    return _Doc(report).render()
