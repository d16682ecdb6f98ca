"""The orders dashboard in Chromium: the deadline clock counts down with JavaScript (no CSP or console errors),
the page works without it, and an order is executed from its page."""

from datetime import UTC, datetime, timedelta

import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, SHOTS, log_in, require_browser, serving

sync_api = require_browser()

from basira.review.demo import seed_cases  # noqa: E402
from basira.review.service import ReviewService, ReviewSettings  # noqa: E402
from basira.store import open_store  # noqa: E402
from basira.web.app import create_app  # noqa: E402


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from basira.compliance.service import ComplianceService

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('orders') / 'o.db'}")
    seed_cases(store, 4)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))  # real clock: the browser's clock is real too
    svc.add_user("lena", PASSWORD, "legal")
    cs = ComplianceService(store, svc.settings)
    received = datetime.now(UTC) - timedelta(minutes=50)
    cs.receive({"authority": "Bundeskriminalamt", "order_ref": "TCO-2026-0042", "reasons": "Propaganda video.",
                "targets": ["demo:p7-0", "demo:p7-1"], "received_at": received.isoformat()}, "api", "lena")
    cs.receive({"authority": "Garda Síochána", "order_ref": "IE-7", "reasons": "Attack video.",
                "targets": ["demo:p7-2"]}, "web", "lena")
    with serving(create_app(svc)) as url:
        yield url
    store.close()


def _secs(text):
    m, s = text.split(":")
    return int(m) * 60 + int(s)


def _login(ctx):
    page = ctx.new_page()
    log_in(page, "lena")
    page.wait_for_url("**/queue*")
    return page


def test_orders_dashboard_counts_down_and_executes(server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            ctx = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=server)
            problems: list[str] = []
            page = _login(ctx)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto("/orders")
            clock = page.locator("tr.urgent .deadline-clock")
            assert clock.count() == 1  # under ten minutes left: amber
            first = clock.inner_text()
            page.wait_for_function("t => document.querySelector('tr.urgent .deadline-clock').textContent !== t", arg=first)
            assert _secs(clock.inner_text()) < _secs(first) < 600  # counting down
            page.screenshot(path=str(SHOTS / "orders.png"))
            page.click("text=TCO-2026-0042")
            page.wait_for_url("**/orders/1")
            assert page.locator(".order-banner").count() == 1  # under 30 minutes left: on every page
            page.click("text=Execute: review the content")
            page.wait_for_url("**/orders/1/execute")  # the confirmation shows the content first, media blurred
            assert page.locator(".target-preview blockquote.content").count() == 2
            assert "No action sink is configured" in page.locator("p.error").inner_text()
            page.screenshot(path=str(SHOTS / "order-confirm.png"), full_page=True)
            page.click("button:has-text('Confirm')")
            page.wait_for_url("**/orders/1?notice=*")
            assert "2 items only recorded" in page.locator(".notice").inner_text()
            assert "Not executed yet" in page.locator("p.error").first.inner_text()
            page.screenshot(path=str(SHOTS / "order.png"), full_page=True)
            page.click("text=Read the statement")
            page.wait_for_url("**/orders/1/statement")
            assert "not confirmed removed" in page.locator("p.error").inner_text()
            page.screenshot(path=str(SHOTS / "order-statement.png"), full_page=True)
            assert problems == []

            nojs = browser.new_context(base_url=server, java_script_enabled=False)
            plain = _login(nojs)
            plain.goto("/orders")
            text = plain.locator("table.orders .deadline-clock").first.inner_text()
            assert text.count(":") == 1 and int(text.split(":")[0]) in (58, 59)  # server-rendered, the IE-7 order
            nojs.close()
            ctx.close()
        finally:
            browser.close()
