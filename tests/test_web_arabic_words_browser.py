"""An Arabic page of a demo case speaks Arabic in its own words (issue 15 acceptance audit): category codes
(`recruitment`, `propaganda_brand`) in the queue's filter and the case's pills, the case's reason «detector
flagged the post (score 0.973; recruitment)», the evidence «model: «brothers» weighs towards propaganda» and the
policy reasons' titles were English. A simulated platform is scanned as `make demo` does (the real detector's
reasons and evidence); Chromium lists every visible Latin-letter word on /queue and the top cases in Arabic,
leaving out only what is content or an identifier: the posts' text (and evidence quoting it «…»), account
handles, URLs, codes with digits (TVEC-1.1, the model version), the brand, the user's name and UTC."""

import re

import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, log_in, require_browser, serving

sync_api = require_browser()

from basira.review.service import ReviewService, ReviewSettings  # noqa: E402
from basira.store import open_store  # noqa: E402
from basira.web.app import create_app  # noqa: E402

# Post text and what quotes it; handles and snippets in lists; what is not words (keys, code, form values).
CONTENT = ("blockquote.content, td.snippet, .snippet, mark, .other-posts bdi, script, style, kbd, code, textarea, "
           "input, footer, .brand, .who")
_TEXTS_JS = """([skip]) => {
  const out = [];
  const w = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = w.nextNode(); n; n = w.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(skip) || !(el.checkVisibility() || el.closest('select'))) continue;
    if (/[A-Za-z]/.test(n.textContent)) out.push(n.textContent.trim());
  }
  return out;
}"""
IDENTIFIERS = [re.compile(p) for p in (
    r"«[^»]*»",  # quoted post text (evidence)
    r"https?://\S+", r"@\w+",  # URLs, handles
    r"\b[\w.]*[A-Za-z][\w.]*-[\w.-]*\d[\w.-]*",  # codes with digits: TVEC-1.1, ESC-1, basira-detector-0.1.0-…
    r"\bUTC\b",
)]


def english_words(texts: list[str]) -> list[str]:
    """The Latin-letter words of `texts` once identifiers are taken out."""
    out = []
    for t in texts:
        for rx in IDENTIFIERS:
            t = rx.sub(" ", t)
        out += [f"{w} «{t.strip()[:60]}»" for w in re.findall(r"[A-Za-z][A-Za-z_]{2,}", t)]
    return out


def test_identifiers_are_left_out_and_words_are_not():
    assert english_words(["TVEC-1.1 · التجنيد", "@akh_omar https://t.co/x «make hijra»", "2024 UTC"]) == []
    assert [w.split()[0] for w in english_words(["detector flagged the post (score 0,973; recruitment)"])] == [
        "detector", "flagged", "the", "post", "score", "recruitment"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from basira.scan import scan_paths
    from basira.simulate import simulate_platform

    d = tmp_path_factory.mktemp("arwords")
    simulate_platform(300, 7, str(d / "p"))
    store = open_store(f"sqlite:///{d / 'b.db'}")
    scan_paths(store, [str(d / "p")], workers=1)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("rita", PASSWORD, "reviewer")
    with serving(create_app(svc)) as url:
        yield url, store
    store.close()


def test_arabic_queue_and_cases_show_no_english(demo):
    url, store = demo
    import sqlalchemy as sa

    from basira.store.models import Case

    with store.read() as conn:  # the pages below show these stored English reasons and codes
        reasons = [r for (r,) in conn.execute(sa.select(Case.reason).limit(50))]
    assert any(r.startswith("detector flagged the post (score") for r in reasons), reasons[:3]
    found: dict[str, list[str]] = {}
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=url,
                                       extra_http_headers={"Accept-Language": "ar"}).new_page()
            log_in(page, "rita")
            page.wait_for_url("**/queue*")
            hrefs = page.locator("table.queue tbody a[href^='/cases/']").evaluate_all(
                "as => as.map(a => a.getAttribute('href').split('#')[0])")
            cases = list(dict.fromkeys(hrefs))[:8]
            evidence = 0
            for path in ["/queue", *cases]:
                page.goto(path)
                assert page.locator("html").get_attribute("dir") == "rtl"
                evidence += page.locator("ul.evidence li").count()
                words = english_words(page.evaluate(_TEXTS_JS, [CONTENT]))
                if words:
                    found[path] = words[:10]
            page.goto("/queue")
            options = page.locator("select[name=category] option").all_inner_texts()
            assert len(options) > 2 and not english_words(options), options
            assert evidence > 0  # some case showed the detector's evidence
        finally:
            browser.close()
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_desktop_queue_shows_every_column_at_1280(demo, lang):
    """Issue 15 audit: at 1280 px the queue table was 1,305 px in a 1,242 px column (the Content column a fixed
    608 px), so Copies and Claim were off-screen; the content column now gives way and every column is in view."""
    url, _ = demo
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=url,
                                       extra_http_headers={"Accept-Language": lang}).new_page()
            log_in(page, "rita")
            page.wait_for_url("**/queue*")
            got = page.evaluate("""() => { const w = document.querySelector('.table-wrap');
                const ths = [...document.querySelectorAll('table.queue thead th')].map(th => th.getBoundingClientRect());
                return {scroll: w.scrollWidth, client: w.clientWidth, n: ths.length,
                        inside: ths.every(r => r.left >= 0 && r.right <= document.documentElement.clientWidth)}; }""")
            assert got["n"] == 11 and got["inside"], got
            assert got["scroll"] <= got["client"], got
        finally:
            browser.close()
