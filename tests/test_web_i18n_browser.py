"""Every reviewer page in Chromium, in Arabic and English (and a few in Russian), on a phone (390 px) and a desktop: the right
`lang`/`dir`, no horizontal overflow, no console errors, no untranslated English in the Arabic page's own words
(content — posts, handles, codes, data — is marked by the page as such and skipped; a short allow-list names the
rest), and a long right-to-left snippet that shows its beginning. One browser for the module, one context per
language and width, the same page object reused. Screenshots:
`BASIRA_SCREENSHOTS=docs/screenshots pytest tests/test_web_i18n_browser.py`."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, SHOTS, log_in, require_browser, serving

sync_api = require_browser()

from basira.cases.manual import open_cases_for  # noqa: E402
from basira.compliance.demo import seed_decisions  # noqa: E402
from basira.ingest.repository import upsert_accounts, upsert_posts  # noqa: E402
from basira.review.demo import seed_cases, seed_copies  # noqa: E402
from basira.review.service import ReviewService, ReviewSettings  # noqa: E402
from basira.store import open_store  # noqa: E402
from basira.web.app import create_app  # noqa: E402

LONG_AR = ("#القافلة #الهجرة يا موحدين هذا نص طويل تجريبي للاختبار فقط عن نادي القراءة في المكتبة العامة يوم "
           "الجمعة بعد الصلاة مع الأصدقاء والجيران (synthetic)")
PAGES = [("queue", "/queue"), ("case", None), ("order", "/orders/1"), ("order-confirm", "/orders/1/execute"),
         ("statement", "/orders/2/statement"), ("orders", "/orders"), ("audit", "/audit"), ("reports", "/reports"),
         ("banks", "/banks"), ("network", "/network?min_size=1"), ("users", "/admin/users"), ("settings", "/settings")]
RU_PAGES = {"queue", "case", "order", "orders", "reports", "network", "settings"}  # Russian: a few pages
# Latin words an Arabic (or Russian) page may show in its own words: names, formats and standards, not English.
ALLOWED = {"Basira", "UTC", "PDF", "JSON", "HTML", "Lines", "GEXF", "GraphML", "Gephi", "PageRank", "SHA", "MinHash",
           "HTTP", "ISO", "PLATFORM", "ID", "EU", "DSA", "URL", "JavaScript", "Leiden", "Enter", "BASIRA_WEBHOOK_URL",
           "docs", "hash-matching", "und"}  # a file name in the banks page's help; the unknown-language code
# What the pages mark as content or data, not their own words: skipped by the untranslated-English check.
CONTENT = ("bdi, code, kbd, pre, blockquote, [dir=auto], [dir=ltr], .cat, .snippet, .payload, .hash, option, "
           "input, textarea, .brand, .who, .deadline-clock, .countdown, td.num, dd, .unsupported, figcaption, mark, "
           "datalist, script, style, footer, .muted .nowrap, [data-content]")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from basira import banks
    from basira.cases.groups import assign_groups
    from basira.cases.prioritize import reprioritize
    from basira.compliance.service import ComplianceService
    from basira.ingest.records import AccountRecord, PostRecord
    from basira.network.cache import cache_for

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('i18n') / 'b.db'}")
    now = datetime.now(UTC)
    seed_cases(store, 12, now=now - timedelta(days=2))
    seed_copies(store, reposts=6, copies=2)
    seed_decisions(store, seed=5, share=0.3, start=now - timedelta(days=1), gap_seconds=(600, 3000))
    with store.transaction() as tx:
        upsert_accounts(tx, [AccountRecord("demo", "ar-long", handle="long_ar")])
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("demo", "ar-long-1", "ar-long", LONG_AR * 2, lang="ar", created_at=now)])
    pid = store.post_ids("demo", ["ar-long-1"])["ar-long-1"]
    with store.transaction() as tx:
        open_cases_for(tx, [{"subject_kind": "post", "subject_id": pid, "reason": "synthetic", "priority": 99.9}])
    with store.transaction() as tx:
        banks.create_bank(tx, "known-propaganda")
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("lena", PASSWORD, "admin")  # admin: every page
    assign_groups(store, svc.now())
    reprioritize(store)
    with store.write() as conn:  # the long Arabic post first in the queue
        import sqlalchemy as sa

        from basira.store.models import Case
        conn.execute(sa.update(Case).where(Case.subject_id == pid, Case.subject_kind == "post").values(priority=100.5))
    cs = ComplianceService(store, svc.settings)
    cs.receive({"authority": "Bundeskriminalamt", "order_ref": "TCO-2026-0042", "reasons": "Propaganda video.",
                "targets": ["demo:p7-0", "demo:p7-1"],
                "received_at": (now - timedelta(minutes=50)).isoformat()}, "api", "lena")
    cs.receive({"authority": "Politie", "order_ref": "TCO-2026-0043", "reasons": "Recruitment post.",
                "targets": ["demo:p7-2"], "lang": "ar", "received_at": (now - timedelta(minutes=20)).isoformat()}, "api", "lena")
    cs.execute(2, "lena")  # a closed order with a statement (the first stays open for the clock and Execute)
    cache_for(store).get(store)  # the network analysis, as the server warms it at start
    with serving(create_app(svc)) as url:
        yield url, store
    store.close()


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _wide(page) -> list[str]:
    """The innermost elements that stick out of the viewport (for the failure message)."""
    return page.evaluate("""() => { const w = document.documentElement.clientWidth; const out = [];
      for (const el of document.querySelectorAll('body *')) { const r = el.getBoundingClientRect();
        if ((r.right > w + 1 || r.left < -1) && ![...el.children].some(c => { const q = c.getBoundingClientRect();
            return q.right > w + 1 || q.left < -1; }))
          out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.left) + '..' + Math.round(r.right)); }
      return out.slice(0, 8); }""")


_ENGLISH_JS = """([skip]) => {
  const out = [];
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = w.nextNode(); n; n = w.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !el.checkVisibility()) continue;
    const words = n.textContent.match(/[A-Za-z][A-Za-z_-]{2,}/g);
    if (words) out.push(...words.map(x => x + ' «' + n.textContent.trim().slice(0, 60) + '»'));
  }
  return out;
}"""


def _english_words(page) -> list[str]:
    found = page.evaluate(_ENGLISH_JS, [CONTENT])
    return [w for w in found if w.split(" ", 1)[0].strip("-_") not in ALLOWED]


def _snippet_starts_visible(page, width: int) -> bool:
    first = page.locator("td.snippet bdi").first
    box = first.bounding_box()
    assert box is not None and box["width"] <= width
    return page.evaluate("""el => { const r = document.createRange(); const t = el.firstChild;
        r.setStart(t, 0); r.setEnd(t, 8); const b = r.getBoundingClientRect();
        const e = el.getBoundingClientRect(); return b.right <= e.right + 1 && b.left >= e.left - 1; }""",
                         first.element_handle())


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("lang", ["en", "ar", "ru"])
def test_every_page_in_both_directions_fits_and_speaks_the_language(server, browser, lang, width):
    url, _ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    tag = "phone" if width < 700 else "desktop"
    ctx = browser.new_context(viewport={"width": width, "height": 844}, base_url=url, locale=lang,
                              extra_http_headers={"Accept-Language": lang})
    problems: list[str] = []
    untranslated: dict[str, list[str]] = {}
    try:
        page = ctx.new_page()
        page.on("console", lambda m: problems.append(f"{page.url}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"{page.url}: {e}"))
        log_in(page, "lena")
        page.wait_for_url("**/queue*")
        for name, path in PAGES:
            if lang == "ru" and name not in RU_PAGES:
                continue
            if name == "case":  # a grouped case: the review group and the account's other posts
                page.goto("/queue")
                page.locator("a.group-pill").first.click()
                page.wait_for_url("**/cases/*")
                assert page.locator("#group").count() == 1
            else:
                r = page.goto(path)
                assert r is not None and r.status == 200, (name, r and r.status)
            html = page.locator("html")
            assert html.get_attribute("lang") == lang, name
            assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr"), name
            assert _overflow(page) <= 0, f"{name} {lang} {width}px overflows by {_overflow(page)} px: {_wide(page)}"
            if name == "queue":
                assert _snippet_starts_visible(page, width), "the beginning of the RTL snippet is cut off"
            if lang != "en":
                words = _english_words(page)
                if words:
                    untranslated[name] = words[:12]
            page.screenshot(path=str(SHOTS / f"{name}-{tag}-{lang}.png"), full_page=tag == "phone" and name != "audit")
    finally:
        ctx.close()
    assert untranslated == {}, "\n".join(f"{k}: {v}" for k, v in untranslated.items())
    assert problems == [], problems


def test_a_statement_speaks_the_orders_language_not_the_readers(server, browser):
    url, _ = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 844}, base_url=url,
                              extra_http_headers={"Accept-Language": "en"})
    try:
        page = ctx.new_page()
        log_in(page, "lena")
        page.wait_for_url("**/queue*")
        page.goto("/orders/2/statement")  # the order asked for Arabic; the reader's page is English
        assert page.locator("html").get_attribute("lang") == "en"
        st = page.locator(".statement-page")
        assert (st.get_attribute("lang"), st.get_attribute("dir")) == ("ar", "rtl")
        assert "بيان بشأن أمر الإزالة" in st.locator("h1").inner_text()
        assert "Removal order" in page.locator("p.crumbs").inner_text()  # the page's own links: the reader's
        pdf = page.request.get(url + "/orders/2/statement.pdf")
        assert pdf.status == 200 and pdf.body()[:5] == b"%PDF-"
    finally:
        ctx.close()


def test_arabic_numbers_and_plurals_on_the_queue(server, browser):
    url, _ = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 844}, base_url=url,
                              extra_http_headers={"Accept-Language": "ar"})
    try:
        page = ctx.new_page()
        log_in(page, "lena")
        page.wait_for_url("**/queue*")
        head = page.locator("h1").inner_text()
        assert re.search(r"\d+ (حالة|حالات|حالةً)", head), head
        assert page.locator("nav a[href='/audit']").inner_text() == "سجل التدقيق"
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", ["ar", "ru"])
def test_the_transparency_report_page_in_arabic_and_russian(server, browser, lang):
    url, _ = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1280, "height": 1400}, base_url=url,
                              extra_http_headers={"Accept-Language": lang})
    problems: list[str] = []
    try:
        page = ctx.new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        log_in(page, "lena")
        page.wait_for_url("**/queue*")
        r = page.goto("/reports/transparency.html")
        assert r is not None and r.status == 200
        html = page.locator("html")
        assert (html.get_attribute("lang"), html.get_attribute("dir")) == (lang, "rtl" if lang == "ar" else "ltr")
        # The report's own words only: its tables hold data (category codes, languages, banks, the platform's
        # name); the methodology quotes the JSON's codes.
        codes = {"basira-transparency-report", "detector", "hash_bank", "network", "removal_order", "other",
                 "unspecified", "account", "received_at", "remove"}
        words = [w for w in page.evaluate(_ENGLISH_JS, ["td, h1, footer, .meta, code"])
                 if w.split(" ", 1)[0].strip("-_") not in ALLOWED | codes]
        assert words == [], words[:12]
        assert page.locator("h2").last.inner_text() == {"ar": "المنهجية", "ru": "Методология"}[lang]
        page.screenshot(path=str(SHOTS / f"transparency-report-{lang}.png"))
    finally:
        ctx.close()
    assert problems == [], problems
