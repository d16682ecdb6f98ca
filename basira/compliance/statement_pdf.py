"""The statement to the issuing authority (art. 3(6)) as a one- or two-page PDF (fpdf2), with the same fonts as the
transparency report: a readable counterpart of the JSON, for authorities that file paper. Written in the order's
language (basira.compliance.orders.order_language), whoever downloads it; Arabic is shaped and laid out
right-to-left (HarfBuzz through fpdf2's text shaping)."""

from __future__ import annotations

from typing import Any

from basira.compliance.orders import OUTCOME_WORDS, method_words
from basira.compliance.report_pdf import INK, MARGIN, MUTED, TEAL, _fonts
from basira.core.i18n import LANGUAGES, gettext, ngettext, speaking, when
from basira.review.content import mark_invisible

_ = gettext
_word = gettext  # a word from the data (status, outcome): not extracted here, listed in basira.web.i18n.WORDS


def statement_rows(st: dict[str, Any], lang: str | None = None) -> list[tuple[str, str]]:
    """(label, value) pairs of a statement, in reading order — shared by the PDF and the HTML page."""
    with speaking(lang):
        rows = [(_("Issuing authority"), st["authority"]), (_("Order reference"), st["order_ref"]),
                (_("Legal basis"), st["legal_basis"]), (_("Received"), _t(st["received_at"])),
                (_("Deadline"), _t(st["deadline_at"])), (_("Status"), _word(st["status"]))]
        if st["status"] == "executed":
            if st.get("removal_confirmed"):
                rows.append((_("Executed (removal acknowledged by the platform)"), _t(st.get("executed_at"))))
                secs = st.get("execution_seconds")
                if secs is not None:
                    rows.append((_("Time to execute"), (
                        _("%(min)s min %(s)s s after receipt — within the one-hour deadline", min=secs // 60, s=secs % 60)
                        if st.get("within_deadline") else
                        _("%(min)s min %(s)s s after receipt — after the one-hour deadline", min=secs // 60, s=secs % 60))))
            else:
                n = int(st.get("outstanding", 0) or 0)
                rows.append((_("Executed"), ngettext("not yet: %(num)s item not confirmed removed",
                                                     "not yet: %(num)s items not confirmed removed", n)))
            rows.append((_("Actioned by the service"), _t(st.get("actioned_at"))))
            if st.get("method"):
                rows.append((_("Method"), method_words(st["method"], _)))
        elif st.get("reason"):
            rows.append((_("Why not executed"), st["reason"]))
        if st.get("preservation"):
            rows.append((_("Preservation"), _word(st["preservation"])))
        rows.append((_("Prepared"), _t(st.get("prepared_at"))))
    # The authority's own fields come from outside: invisible and bidi characters marked, in the PDF as on the page.
    return [(label, mark_invisible(str(value))) for label, value in rows]


def statement_document(st: dict[str, Any], lang: str | None = None) -> dict[str, Any]:
    """Every string of the statement in `lang`: title, lines, the table of items (the page and the PDF)."""
    ref = mark_invisible(str(st["order_ref"]))
    with speaking(lang) as spoken:
        n = int(st.get("outstanding", 0) or 0)
        return {
            "lang": spoken, "dir": LANGUAGES[spoken][1],
            "title": _("Statement on removal order %(ref)s", ref=ref),
            # the same title around the reference, for a page that isolates it (<bdi>) in a right-to-left line
            "title_parts": tuple(_("Statement on removal order %(ref)s", ref="\0").split("\0", 1)),
            "subtitle": _("Regulation (EU) 2021/784, art. 3(6): information on the execution of the removal order."),
            "outstanding": ngettext("Not executed yet: %(num)s item is not confirmed removed by the platform.",
                                    "Not executed yet: %(num)s items are not confirmed removed by the platform.", n),
            "rows": statement_rows(st, spoken),
            "items_title": _("Content named by the order"),
            "items_head": (_("Target (as given)"), _("Outcome"), _("Removed at (UTC)")),
            "items": [(mark_invisible(str(i["target"])), _word(OUTCOME_WORDS[i["outcome"]])
                       if i["outcome"] in OUTCOME_WORDS else str(i["action"]), _t(i.get("removed_at")))
                      for i in st.get("items", [])],
        }


def _t(iso: str | None) -> str:
    return "—" if not iso else when(iso, "yyyy-MM-dd HH:mm:ss") + " UTC"


def render_statement_pdf(st: dict[str, Any], lang: str | None = None) -> bytes:
    from fpdf import FPDF

    doc = statement_document(st, lang)
    rtl = doc["dir"] == "rtl"
    align = "RIGHT" if rtl else "LEFT"
    pdf = FPDF(format="A4", unit="mm")
    regular, bold = _fonts()
    pdf.add_font("dejavu", "", regular)
    pdf.add_font("dejavu", "B", bold)
    # Arabic letters joined and the line laid out right to left (HarfBuzz); Latin text is unchanged by it.
    pdf.set_text_shaping(use_shaping_engine=True, direction="rtl" if rtl else "ltr", script="arab" if rtl else None,
                         language=doc["lang"])
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_title(doc["title"])
    pdf.set_author("Basira")
    pdf.set_lang(doc["lang"])
    pdf.add_page()
    pdf.set_font("dejavu", "B", 15)
    pdf.set_text_color(*TEAL)
    pdf.multi_cell(0, 8, doc["title"], new_x="LMARGIN", new_y="NEXT", align=align[0])
    pdf.set_font("dejavu", "", 9)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 5, doc["subtitle"], new_x="LMARGIN", new_y="NEXT", align=align[0])
    pdf.ln(3)
    pdf.set_text_color(*INK)
    widths = (123, 55) if rtl else (55, 123)
    with pdf.table(col_widths=widths, text_align=(align, align), line_height=5.5, first_row_as_headings=False) as t:
        for label, value in doc["rows"]:
            row = t.row()
            for cell in ((str(value), label) if rtl else (label, str(value))):  # the label first in reading order
                row.cell(cell)
    pdf.ln(4)
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, doc["items_title"], new_x="LMARGIN", new_y="NEXT", align=align[0])
    pdf.set_font("dejavu", "", 8.5)
    widths3 = (38, 60, 80) if rtl else (80, 60, 38)
    with pdf.table(col_widths=widths3, text_align=(align,) * 3, line_height=5) as t:
        for cells in [doc["items_head"], *doc["items"]]:
            row = t.row()
            for cell in (reversed(cells) if rtl else cells):
                row.cell(str(cell))
    return bytes(pdf.output())
