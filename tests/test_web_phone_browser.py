"""The queue, case, order and orders pages on a phone (390 px) and a desktop, in Arabic and English, in Chromium:
no horizontal overflow, the right `lang`/`dir`, an Arabic snippet whose beginning stays visible, no console
errors. Screenshots: BASIRA_SCREENSHOTS=docs/screenshots pytest tests/test_web_phone_browser.py."""

from datetime import UTC, datetime, timedelta

import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, SHOTS, log_in, require_browser, serving

sync_api = require_browser()

from basira.review.demo import seed_cases, seed_copies  # noqa: E402
from basira.review.service import ReviewService, ReviewSettings  # noqa: E402
from basira.store import open_store  # noqa: E402
from basira.web.app import create_app  # noqa: E402

LONG_AR = ("#القافلة #الهجرة يا موحدين هذا نص طويل تجريبي للاختبار فقط عن نادي القراءة في المكتبة العامة يوم "
           "الجمعة بعد الصلاة مع الأصدقاء والجيران (synthetic)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from basira.cases.groups import assign_groups
    from basira.cases.prioritize import reprioritize
    from basira.compliance.service import ComplianceService
    from basira.ingest.records import AccountRecord, PostRecord

    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('phone') / 'p.db'}")
    seed_cases(store, 12)
    seed_copies(store, reposts=6, copies=2)
    store.upsert_accounts([AccountRecord("demo", "ar-long", handle="long_ar")])
    store.upsert_posts([PostRecord("demo", "ar-long-1", "ar-long", LONG_AR * 2, lang="ar",
                                   created_at=datetime.now(UTC))])
    pid = store.post_ids("demo", ["ar-long-1"])["ar-long-1"]
    store.open_cases_for([{"subject_kind": "post", "subject_id": pid, "reason": "synthetic", "priority": 99.9}])
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("lena", PASSWORD, "admin")  # admin: every queue stage and the removal orders
    svc.add_user("rana", PASSWORD, "reviewer")
    assign_groups(store, svc.now())
    reprioritize(store)
    with store.write() as conn:  # the long Arabic post first in the queue
        import sqlalchemy as sa

        from basira.store.models import Case
        conn.execute(sa.update(Case).where(Case.subject_id == pid, Case.subject_kind == "post").values(priority=100.5))
    cs = ComplianceService(store, svc.settings)
    cs.receive({"authority": "Bundeskriminalamt", "order_ref": "TCO-2026-0042", "reasons": "Propaganda video.",
                "targets": ["demo:p7-0", "demo:p7-1"],
                "received_at": (datetime.now(UTC) - timedelta(minutes=50)).isoformat()}, "api", "lena")
    with serving(create_app(svc)) as url:
        yield url
    store.close()


def _overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_pages_fit_a_phone_and_mirror_in_arabic(server, lang):
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for width, tag in ((390, "phone"), (1280, "desktop")):
                ctx = browser.new_context(viewport={"width": width, "height": 844}, base_url=server,
                                          locale=lang, extra_http_headers={"Accept-Language": lang})
                problems: list[str] = []
                page = ctx.new_page()
                page.on("console", lambda m, out=problems: out.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e, out=problems: out.append(str(e)))
                log_in(page, "lena")
                page.wait_for_url("**/queue*")
                html = page.locator("html")
                assert html.get_attribute("lang") == lang
                assert html.get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
                assert _overflow(page) <= 0, f"queue {lang} {width}px overflows by {_overflow(page)} px"
                # The long Arabic snippet shows its beginning (the first words), not its end.
                first = page.locator("td.snippet bdi").first
                box = first.bounding_box()
                assert box is not None and box["width"] <= width
                start = page.evaluate("""el => { const r = document.createRange(); const t = el.firstChild;
                    r.setStart(t, 0); r.setEnd(t, 8); const b = r.getBoundingClientRect();
                    const e = el.getBoundingClientRect(); return b.right <= e.right + 1 && b.left >= e.left - 1; }""",
                                      first.element_handle())
                assert start, "the beginning of the RTL snippet is cut off"
                page.screenshot(path=str(SHOTS / f"queue-{tag}-{lang}.png"), full_page=tag == "phone")
                for path, name in (("/orders", "orders"), ("/orders/1", "order"), ("/orders/1/execute", "order-confirm")):
                    page.goto(path)
                    assert _overflow(page) <= 0, f"{name} {lang} {width}px overflows by {_overflow(page)} px"
                    if tag == "phone":
                        page.screenshot(path=str(SHOTS / f"{name}-phone-{lang}.png"), full_page=True)
                page.goto("/queue")
                page.locator("a.group-pill").first.click()
                page.wait_for_url("**/cases/*")
                assert _overflow(page) <= 0, f"case {lang} {width}px overflows by {_overflow(page)} px"
                assert page.locator("#group").count() == 1
                if tag == "phone":
                    page.screenshot(path=str(SHOTS / f"case-phone-{lang}.png"), full_page=True)
                assert problems == [], problems
                ctx.close()
        finally:
            browser.close()
