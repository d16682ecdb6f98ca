"""/reports and the evidence button in Chromium: the report's own page is styled under its hash-only CSP (no CSP
or console errors), and the case page's button downloads a package that verifies."""

from datetime import UTC, datetime, timedelta

import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, SHOTS, log_in, require_browser, serving

sync_api = require_browser()

from basira.compliance import signing  # noqa: E402
from basira.compliance.demo import seed_decisions  # noqa: E402
from basira.compliance.evidence import read_package, verify_entries  # noqa: E402
from basira.review.demo import seed_cases  # noqa: E402
from basira.review.service import ReviewService, ReviewSettings  # noqa: E402
from basira.store import open_store  # noqa: E402
from basira.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reports")
    keys = signing.generate_keypair(tmp / "keys")
    mp = pytest.MonkeyPatch()
    mp.setenv("BASIRA_SIGNING_KEY", str(keys.private))
    store = open_store(f"sqlite:///{tmp / 'r.db'}")
    now = datetime.now(UTC)
    seed_cases(store, 16, now=now - timedelta(days=5))
    seed_decisions(store, seed=5, share=0.6, start=now - timedelta(days=3), gap_seconds=(600, 3000))
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("lena", PASSWORD, "legal")
    with serving(create_app(svc)) as url:
        yield url, store, keys
    store.close()
    mp.undo()


def test_report_page_styles_and_evidence_download(server, tmp_path):
    url, store, keys = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=url, accept_downloads=True)
            problems: list[str] = []
            page = ctx.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            log_in(page, "lena")
            page.wait_for_url("**/queue*")
            page.click("nav >> text=Reports")
            page.wait_for_url("**/reports")
            assert page.locator("#report-summary .figure").count() == 6
            page.screenshot(path=str(SHOTS / "reports.png"), full_page=True)
            page.click("#report-html")
            page.wait_for_url("**/reports/transparency.html?*")
            # The inline <style> applied (its hash is in the CSP): the header is the report's teal.
            bg = page.evaluate("getComputedStyle(document.querySelector('header')).backgroundColor")
            assert bg == "rgb(27, 73, 101)"
            assert page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
            page.screenshot(path=str(SHOTS / "reports-html.png"))

            page.goto("/cases/1")
            with page.expect_download() as info:
                page.click("button:has-text('Export evidence package')")
            path = tmp_path / info.value.suggested_filename
            info.value.save_as(path)
            assert path.name.startswith("evidence-case-1-") and path.suffix == ".zip"
            v = verify_entries(read_package(path), signing.load_public_key(keys.public))
            assert v.ok and v.manifest["exporter"] == "lena"
            assert problems == []
            ctx.close()
        finally:
            browser.close()
    assert store.count_events("evidence.exported") == 1
