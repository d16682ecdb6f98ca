"""A post's media is fetched only when a reviewer reveals it, and then through Basira (issue 15 acceptance audit):
opening a case or an order's confirmation page used to make the browser fetch every `<img src>` from the post's
own host (an arbitrary server learnt that a reviewer looked, with IP and time). A local HTTP server stands in for
the media host and counts what it is asked for; Chromium (Playwright) opens the pages, reveals, and reports any
request it makes to that host and every console error."""

import io
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, log_in, require_browser, serving

from basira.cases.manual import open_case_for
from basira.ingest.records import AccountRecord, MediaRecord, PostRecord
from basira.ingest.repository import upsert_accounts, upsert_posts
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.web.app import create_app


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


PNG = _png()


class MediaHost(BaseHTTPRequestHandler):
    """The post's own media host: a PNG (declared), the same PNG as octet-stream, a video, and an HTML page."""

    hits: list[str] = []

    def do_GET(self):  # noqa: N802
        type(self).hits.append(self.path)
        body, ctype = {"/a.png": (PNG, "image/png"), "/raw": (PNG, "application/octet-stream"),
                       "/v.mp4": (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, "video/mp4"),
                       "/page.html": (b"<script>alert(1)</script>", "text/html")}.get(self.path, (b"", ""))
        self.send_response(200 if body else 404)
        self.send_header("Content-Type", ctype or "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from basira.compliance.service import ComplianceService

    host = ThreadingHTTPServer(("127.0.0.1", 0), MediaHost)
    threading.Thread(target=host.serve_forever, daemon=True).start()
    origin = f"http://127.0.0.1:{host.server_address[1]}"
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('media') / 'm.db'}")
    with store.transaction() as tx:
        upsert_accounts(tx, [AccountRecord("demo", "acc-1", handle="media_owner")])
    with store.transaction() as tx:
        upsert_posts(tx, [PostRecord("demo", "m-1", "acc-1", "a post with a photo and a video (synthetic)", lang="en",
                                     media=[MediaRecord(url=f"{origin}/a.png", kind="photo"),
                                            MediaRecord(url=f"{origin}/v.mp4", kind="video"),
                                            MediaRecord(url=f"{origin}/raw", kind="photo"),
                                            MediaRecord(url=f"{origin}/page.html", kind="photo")])])
    pid = store.post_ids("demo", ["m-1"])["m-1"]
    with store.transaction() as tx:
        case_id, _ = open_case_for(tx, "post", pid, "synthetic", priority=50)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("rita", PASSWORD, "reviewer")
    svc.add_user("lena", PASSWORD, "legal")
    ComplianceService(store, svc.settings).receive(
        {"authority": "Politie", "order_ref": "TCO-MEDIA-1", "reasons": "Propaganda.", "targets": ["demo:m-1"],
         "received_at": (datetime.now(UTC) - timedelta(minutes=5)).isoformat()}, "api", "lena")
    mp = pytest.MonkeyPatch()
    mp.setenv("BASIRA_HMA_FETCH_ALLOW_PRIVATE", "1")  # the stand-in host is on loopback, which is refused otherwise
    with serving(create_app(svc)) as url:
        yield url, origin, svc, case_id
    mp.undo()
    host.shutdown()
    store.close()


def _client(app_url, svc, username):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import httpx

    cookie, csrf = svc.start_session(svc.repo.user_by_name(username))
    return httpx.Client(base_url=app_url, cookies={"basira_session": cookie}, headers={"X-CSRF-Token": csrf})


def test_pages_name_no_media_host_and_the_csp_allows_only_basira(site):
    url, origin, svc, case_id = site
    with _client(url, svc, "rita") as c:
        r = c.get(f"/cases/{case_id}")
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "img-src 'self' data:;" in csp and "media-src 'self';" in csp and "https:" not in csp
    assert f'src="{origin}' not in r.text and origin not in r.text  # no src, no data-src naming the host
    assert f'data-src="/cases/{case_id}/media/0"' in r.text and f'data-src="/cases/{case_id}/media/1"' in r.text
    assert "autoplay" not in r.text and 'preload="none"' in r.text


def test_the_media_route_fetches_through_the_policy_and_answers_only_media(site):
    url, origin, svc, case_id = site
    with _client(url, svc, "rita") as c:
        before = len(MediaHost.hits)
        got = c.get(f"/cases/{case_id}/media/0")
        assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
        assert "sandbox" in got.headers["content-security-policy"]
        assert MediaHost.hits[before:] == ["/a.png"]
        sniffed = c.get(f"/cases/{case_id}/media/2")  # octet-stream: the first bytes say PNG
        assert sniffed.status_code == 200 and sniffed.headers["content-type"] == "image/png"
        html = c.get(f"/cases/{case_id}/media/3")  # a page, not media: never served from Basira's origin
        assert html.status_code == 502 and "<script>" not in html.text and "text/html" in html.text
        assert c.get(f"/cases/{case_id}/media/4").status_code == 404
        assert c.get(f"/cases/{case_id + 99}/media/0").status_code == 404
    with _client(url, svc, "rita") as c:
        assert c.get("/orders/1/targets/1/media/0").status_code == 403  # a reviewer does not handle orders
    with _client(url, svc, "lena") as c:
        got = c.get("/orders/1/targets/1/media/0")
        assert got.status_code == 200 and got.content == PNG
    import httpx

    assert httpx.get(f"{url}/cases/{case_id}/media/0").status_code in (303, 401)  # not logged in


def test_a_loopback_media_url_is_refused_without_the_private_setting(site, monkeypatch):
    url, _, svc, case_id = site
    monkeypatch.setenv("BASIRA_HMA_FETCH_ALLOW_PRIVATE", "0")
    before = len(MediaHost.hits)
    with _client(url, svc, "rita") as c:
        r = c.get(f"/cases/{case_id}/media/0")
    assert r.status_code == 502 and "non-public address" in r.text
    assert len(MediaHost.hits) == before  # Basira did not reach into its own network


def test_media_is_fetched_once_on_reveal_never_on_load(site):
    sync_api = require_browser()
    url, origin, svc, case_id = site
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for user, path, fig in (("rita", f"/cases/{case_id}", ".media-item"),
                                    ("lena", "/orders/1/execute", ".target-preview .media-item")):
                page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=url).new_page()
                problems: list[str] = []
                to_host: list[str] = []
                page.on("console", lambda m, p=problems: p.append(m.text) if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda e, p=problems: p.append(str(e)))
                page.on("request", lambda r, t=to_host: t.append(r.url) if r.url.startswith(origin) else None)
                log_in(page, user)
                page.wait_for_load_state("load")
                before = len(MediaHost.hits)
                page.goto(path)
                page.wait_for_load_state("networkidle")
                assert MediaHost.hits[before:] == [], path  # opening the page fetched nothing from the host
                img = page.locator(f"{fig} img").first
                assert img.get_attribute("src") is None
                assert "blur" in img.evaluate("e => getComputedStyle(e).filter")

                page.locator(fig).first.click()  # reveal the photo
                page.wait_for_function("e => e.complete && e.naturalWidth > 0", arg=img.element_handle())
                assert img.evaluate("e => [e.naturalWidth, e.naturalHeight]") == [40, 30]
                # unblurred once the CSS transition has run (its computed filter moves through blur(5.5px) …)
                page.wait_for_function("e => getComputedStyle(e).filter === 'none'", arg=img.element_handle())
                page.locator(fig).first.click()  # hide and reveal again: no second fetch
                page.locator(fig).first.click()
                page.wait_for_load_state("networkidle")
                assert MediaHost.hits[before:] == ["/a.png"], path  # once, by Basira
                video = page.locator(f"{fig} video").first
                assert video.evaluate("v => v.paused && !v.autoplay") and video.get_attribute("src") is None
                assert to_host == [], to_host  # the browser never spoke to the media host itself
                assert problems == [], problems
                page.context.close()
        finally:
            browser.close()
