"""The statement to the issuing authority (art. 3(6)) as a one- or two-page PDF (fpdf2), with the same fonts as the
transparency report: a readable counterpart of the JSON, for authorities that file paper."""

from __future__ import annotations

from typing import Any

from basira.compliance.orders import OUTCOME_WORDS
from basira.compliance.report_pdf import INK, MARGIN, MUTED, TEAL, _fonts
from basira.review.content import mark_invisible


def statement_rows(st: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs of a statement, in reading order — shared by the PDF and the HTML page."""
    rows = [("Issuing authority", st["authority"]), ("Order reference", st["order_ref"]),
            ("Legal basis", st["legal_basis"]), ("Received", _t(st["received_at"])),
            ("Deadline", _t(st["deadline_at"])), ("Status", st["status"])]
    if st["status"] == "executed":
        if st.get("removal_confirmed"):
            rows.append(("Executed (removal acknowledged by the platform)", _t(st.get("executed_at"))))
            secs = st.get("execution_seconds")
            if secs is not None:
                rows.append(("Time to execute", f"{secs // 60} min {secs % 60} s after receipt — "
                             + ("within" if st.get("within_deadline") else "after") + " the one-hour deadline"))
        else:
            rows.append(("Executed", f"not yet: {st.get('outstanding', 0)} item(s) not confirmed removed"))
        rows.append(("Actioned by the service", _t(st.get("actioned_at"))))
        if st.get("method"):
            rows.append(("Method", st["method"]))
    elif st.get("reason"):
        rows.append(("Why not executed", st["reason"]))
    if st.get("preservation"):
        rows.append(("Preservation", st["preservation"]))
    rows.append(("Prepared", _t(st.get("prepared_at"))))
    # The authority's own fields come from outside: invisible and bidi characters marked, in the PDF as on the page.
    return [(label, mark_invisible(str(value))) for label, value in rows]


def _t(iso: str | None) -> str:
    return "—" if not iso else iso.replace("T", " ").replace("Z", " UTC")


def render_statement_pdf(st: dict[str, Any]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    regular, bold = _fonts()
    pdf.add_font("dejavu", "", regular)
    pdf.add_font("dejavu", "B", bold)
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=16)
    ref = mark_invisible(str(st["order_ref"]))
    pdf.set_title(f"Statement on removal order {ref}")
    pdf.set_author("Basira")
    pdf.add_page()
    pdf.set_font("dejavu", "B", 15)
    pdf.set_text_color(*TEAL)
    pdf.multi_cell(0, 8, f"Statement on removal order {ref}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 9)
    pdf.set_text_color(*MUTED)
    pdf.multi_cell(0, 5, "Regulation (EU) 2021/784, art. 3(6): information on the execution of the removal order.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_text_color(*INK)
    with pdf.table(col_widths=(55, 123), text_align=("LEFT", "LEFT"), line_height=5.5, first_row_as_headings=False) as t:
        for label, value in statement_rows(st):
            row = t.row()
            row.cell(label)
            row.cell(str(value))
    pdf.ln(4)
    pdf.set_font("dejavu", "B", 11)
    pdf.cell(0, 7, "Content named by the order", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("dejavu", "", 8.5)
    with pdf.table(col_widths=(80, 60, 38), text_align=("LEFT", "LEFT", "LEFT"), line_height=5) as t:
        head = t.row()
        for h in ("Target (as given)", "Outcome", "Removed at"):
            head.cell(h)
        for i in st.get("items", []):
            row = t.row()
            row.cell(mark_invisible(str(i["target"])))
            row.cell(OUTCOME_WORDS.get(i["outcome"], i["action"]))
            row.cell(_t(i.get("removed_at")))
    return bytes(pdf.output())
