"""The transparency report in the reader's language: the PDF (Arabic shaped and laid out right to left, the text
extracted back in logical order), the HTML (lang/dir, methodology, localised numbers) and the CLI's --lang; the
JSON stays the same in every language."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime

import orjson
import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from basira.cli import app
from basira.compliance.report import build_report, duration, methodology
from basira.compliance.report_data import ReportCounts
from basira.compliance.report_html import render_html
from basira.compliance.report_pdf import render_pdf
from basira.core.i18n import speaking


@pytest.fixture(scope="module")
def report():
    c = ReportCounts(
        start=datetime(2026, 11, 1, tzinfo=UTC), end=datetime(2026, 12, 1, tzinfo=UTC), platforms=["demo"],
        decisions_by_action={"remove": 1234, "keep": 410}, removals=1234,
        removals_by_reason={"TVEC-1": 1234}, reason_titles={"TVEC-1": "Praise of a terrorist organisation"},
        removals_by_category={"propaganda": 700}, removals_by_language={"ar": 1234},
        removals_by_stage={"review": 1228, "order": 6}, removals_by_source={"detector": 1228, "removal_order": 6},
        removals_by_day={"2026-11-03": 1234}, appeals_filed=40, appeal_decisions={"uphold": 30, "overturn": 5},
        cases_opened=1900, cases_by_source={"detector": 1900}, posts_scored=120_000, posts_flagged=2100,
        orders_available=True, orders_received=7, orders_by_status={"executed": 6, "recorded": 1},
        orders_by_authority={"BKA": 7}, orders_unconfirmed=1, order_execute_seconds=[600, 1200, 1800, 2400, 3000, 4000],
        complaints_available=True, complaints_received=3, complaints_by_outcome={"rejected": 3},
        complaint_decide_seconds=[18_000])
    return build_report(c, platform_name="Example Social", generated_at=datetime(2026, 12, 2, 4, 40, tzinfo=UTC))


def _pages(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


def test_the_arabic_pdf_is_shaped_right_to_left_and_reads_back_in_logical_order(report):
    pdf = render_pdf(report, "ar")
    pages = _pages(pdf)
    assert len(pages) == 5
    cover, last = pages[0], pages[4]
    # Words come back from the shaped glyphs in logical (reading) order, letters joined, not reversed.
    assert "تقرير الشفافية" in cover and "المحتوى الإرهابي والمتطرف العنيف" in cover
    assert "المحتوى المُزال" in cover and "أوامر الإزالة المستلمة" in cover and "Example Social" in cover
    assert "نوفمبر" in cover  # the period's month name in Arabic
    assert "الشفافية"[::-1] not in cover
    assert "المنهجية" in last and "الفترة" in last and "بنوك البصمات" in last
    assert "Methodology" not in last and "Content removed" not in cover
    # The page count in the footer, in Arabic, on every page (shaped text has no {nb} alias: two passes).
    # (pypdf returns the digits of a right-to-left line in visual order: "5 من1 الصفحة")
    assert all("الصفحة" in p and re.search(r"5\s*من|من\s*5", p) and "{nb}" not in p for p in pages)
    # Shaping switched on: HarfBuzz's glyph ids, not one glyph per letter in the content stream.
    assert pdf.count(b"/Lang (ar)") == 1


def test_the_russian_and_english_pdfs(report):
    ru, en = _pages(render_pdf(report, "ru")), _pages(render_pdf(report))
    assert "Методология" in ru[4] and "страница 1 из 5" in ru[0] and "1 234" in ru[0].replace("\xa0", " ")
    assert "Methodology" in en[4] and "page 1 of 5" in en[0] and "1,234" in en[0]
    assert "Content removed" in en[0] and "Transparency" not in ru[0].replace("Example Social", "")


def test_the_html_report_in_arabic_and_russian(report):
    ar, ru = render_html(report, "ar"), render_html(report, "ru")
    assert '<html lang="ar" dir="rtl">' in ar and "<h2>المنهجية</h2>" in ar
    with speaking("ar"):
        terms = [t for t, _ in methodology(report)]
    assert terms[0] == "الفترة" and all(f"<dt>{t}</dt>" in ar for t in terms)
    assert "Methodology" not in ar and "Content removed" not in ar
    assert '<html lang="ru" dir="ltr">' in ru and "<h2>Методология</h2>" in ru and "1\xa0234" in ru
    assert "<dt>Period</dt>" in render_html(report, "en")


def test_durations_and_numbers_follow_the_language():
    assert (duration(45), duration(1800), duration(5400), duration(3 * 86400)) == ("45 s", "30 min", "1.5 h", "3.0 d")
    with speaking("ru"):
        assert (duration(1800), duration(5400)) == ("30 мин", "1,5 ч")
    with speaking("ar"):
        assert duration(1800) == "30 د"


def test_cli_writes_the_report_in_the_language_asked(db_url, tmp_path):
    from basira.store import open_store

    open_store(db_url).close()  # a report only reads: it refuses a database that does not exist yet
    runner = CliRunner()
    out = {}
    for lang in ("ar", "en"):
        r = runner.invoke(app, ["report", "transparency", "--from", "2026-11-01", "--to", "2026-11-30", "--db", db_url,
                                "--out", str(tmp_path / lang), "--lang", lang])
        assert r.exit_code == 0, r.output
        out[lang] = {f: (tmp_path / lang / f"transparency-20261101-20261130.{f}").read_bytes()
                     for f in ("html", "pdf", "json")}
    assert b'<html lang="ar" dir="rtl">' in out["ar"]["html"] and "المنهجية" in _pages(out["ar"]["pdf"])[4]
    assert "Methodology" in _pages(out["en"]["pdf"])[4]
    strip = ("generated_at",)
    ja, je = (orjson.loads(out[lang]["json"]) for lang in ("ar", "en"))
    assert {k: v for k, v in ja.items() if k not in strip} == {k: v for k, v in je.items() if k not in strip}
    bad = runner.invoke(app, ["report", "transparency", "--from", "2026-11-01", "--to", "2026-11-30", "--db", db_url,
                              "--lang", "xx"])
    assert bad.exit_code == 2 and "--lang" in bad.output
