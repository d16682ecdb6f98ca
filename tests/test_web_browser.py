"""Browser tests: Python Playwright driving Debian's Chromium (no browser download) against uvicorn on
127.0.0.1 — log in, work the queue with the keyboard, decide, undo, appeal — and screenshots for docs/."""

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, SHOTS, require_browser, serving

sync_api = require_browser()

from basira.cases.manual import open_case_for  # noqa: E402
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord  # noqa: E402
from basira.ingest.repository import upsert_accounts, upsert_posts  # noqa: E402
from basira.review.demo import DEMO_IMAGE, seed_cases  # noqa: E402
from basira.review.service import ReviewService, ReviewSettings  # noqa: E402
from basira.store import open_store  # noqa: E402
from basira.store.detections import add_detections, detection_id  # noqa: E402
from basira.web.app import create_app  # noqa: E402


class Clock:
    def __init__(self):
        self.offset = timedelta()

    def __call__(self):
        return datetime.now(UTC) + self.offset


class Accept(BaseHTTPRequestHandler):
    """The platform's webhook endpoint: accepts every action."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'b.db'}")
    seed_cases(store, 14)
    with store.transaction() as tx:
        upsert_accounts(tx, [AccountRecord("demo", "ar-1", handle="qari_demo", display_name="حساب تجريبي")])
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("demo", "ar-post", "ar-1", "انضموا إلى نادي القراءة في المكتبة يوم الجمعة \u202eabc\u202c <b>نص</b>",
                                       lang="ar", media=[MediaRecord(url=DEMO_IMAGE, kind="photo")])])
    pid = store.post_ids("demo", ["ar-post"])["ar-post"]
    with store.transaction() as tx:
        add_detections(tx, [{"post_id": pid, "model_version": "demo-0", "score": 0.97, "categories": ["recruitment"],
                               "evidence": {"spans": [{"start": 0, "end": 6, "text": "انضموا", "why": "call to join (synthetic)"}]}}])
    with store.transaction() as tx:
        top, _ = open_case_for(tx, "post", pid, "detector flagged (synthetic)", priority=200,
                                     detection_id=detection_id(store, pid, "demo-0"))
    clock = Clock()
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Accept)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook = f"http://127.0.0.1:{receiver.server_address[1]}/basira"
    svc = ReviewService(store, ReviewSettings(secure_cookies=False, webhook_url=hook, webhook_secret="whsec-test"),
                        clock=clock)
    for name, role in (("alice", "reviewer"), ("bob", "reviewer"), ("admin", "admin"), ("audrey", "auditor")):
        svc.add_user(name, PASSWORD, role)
    with serving(create_app(svc)) as url:
        yield url, svc, clock, top
    receiver.shutdown()
    store.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def new_page(browser, base, problems):
    ctx = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base)
    page = ctx.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return page


def login(page, user, shot=None):
    page.goto("/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    if shot:
        page.screenshot(path=str(SHOTS / shot))
    page.click("button[type=submit]")
    page.wait_for_url("**/queue*")
    page.wait_for_load_state("load")


def test_review_flow_in_chromium(server, browser):
    base, svc, clock, top = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    page = new_page(browser, base, problems)
    login(page, "alice", shot="login.png")
    assert page.locator("table.queue tbody tr").count() == 15
    page.screenshot(path=str(SHOTS / "queue.png"))

    page.keyboard.press("n")  # claim the top case
    page.wait_for_url(f"**/cases/{top}")
    page.wait_for_load_state("load")
    content = page.locator("#content")
    assert content.get_attribute("dir") == "auto"
    assert page.locator("#content mark").first.inner_text() == "انضموا"
    assert "[RLO]" in content.inner_text() and "<b>نص</b>" in content.inner_text()
    assert content.evaluate("e => getComputedStyle(e).direction") == "rtl"  # dir=auto picks RTL for Arabic
    img = page.locator(".media-item img").first
    assert "blur" in img.evaluate("e => getComputedStyle(e).filter") and "grayscale" in img.evaluate("e => getComputedStyle(e).filter")
    page.screenshot(path=str(SHOTS / "case.png"), full_page=True)
    page.locator(".media-item").first.click()
    page.wait_for_timeout(300)
    assert img.evaluate("e => getComputedStyle(e).filter") == "none"
    page.locator(".media-item").first.click()

    page.keyboard.press("r")  # remove
    assert page.locator("#reason").input_value() == "TVEC-1.1"
    page.keyboard.press("2")  # second reason backing "remove"
    assert page.locator("#reason").input_value() == "TVEC-1.2"
    page.keyboard.press("Enter")
    page.wait_for_selector("button.undo")
    page.wait_for_load_state("load")
    assert "Decision recorded" in page.locator(".notice").inner_text()
    page.screenshot(path=str(SHOTS / "case-decided.png"), full_page=True)
    page.keyboard.press("u")
    page.wait_for_selector("text=Decision undone.")
    page.wait_for_load_state("load")
    assert svc.case(top).case["status"] == "open"

    page.keyboard.press("k")
    page.keyboard.press("Enter")  # keep, default reason OK-1 ... then change mind: undo and remove
    page.wait_for_selector("button.undo")
    page.wait_for_load_state("load")
    page.keyboard.press("u")
    page.wait_for_selector("text=Decision undone.")
    page.wait_for_load_state("load")
    page.keyboard.press("r")
    page.keyboard.press("Enter")
    page.wait_for_selector("button.undo")
    page.wait_for_load_state("load")
    decisions = svc.case(top).decisions
    assert [d["action"] for d in decisions] == ["remove", "keep", "remove"]
    assert [d["undone_at"] is None for d in decisions] == [False, False, True]

    clock.offset += timedelta(seconds=61)  # the undo window closes; the decision is final
    assert svc.deliver_due().delivered == 1  # the platform is told to remove the post
    admin = new_page(browser, base, problems)
    login(admin, "admin")
    admin.goto(f"/cases/{top}")
    admin.fill("#appeal-form textarea", "I run a book club; this was an invitation to it.")
    admin.click("#appeal-form button")
    admin.wait_for_selector("text=Appeal filed")
    admin.wait_for_load_state("load")

    # alice made the first decision: she cannot decide the appeal
    page.goto(f"/cases/{top}")
    assert page.locator("#decide-form").count() == 0
    assert "did not decide it before" in page.inner_text("main")

    bob = new_page(browser, base, problems)
    login(bob, "bob")
    bob.keyboard.press("n")
    bob.wait_for_url(f"**/cases/{top}")
    bob.wait_for_load_state("load")
    assert "delivered" in bob.inner_text(".side")
    bob.screenshot(path=str(SHOTS / "appeal.png"), full_page=True)
    bob.keyboard.press("o")
    bob.keyboard.press("Enter")
    bob.wait_for_selector("text=Decision recorded")
    bob.wait_for_load_state("load")
    assert svc.case(top).case["status"] == "closed"

    auditor = new_page(browser, base, problems)
    auditor.goto("/login")
    auditor.fill("input[name=username]", "audrey")
    auditor.fill("input[name=password]", PASSWORD)
    auditor.click("button[type=submit]")
    auditor.goto("/audit?verify=1")
    assert "Chain intact" in auditor.inner_text("main")
    auditor.screenshot(path=str(SHOTS / "audit.png"))
    assert auditor.request.get(f"{base}/admin/users").status == 403

    settings = new_page(browser, base, problems)
    login(settings, "admin")
    settings.goto("/settings")
    settings.screenshot(path=str(SHOTS / "settings.png"))
    assert not problems, problems  # no CSP violations, no script errors
