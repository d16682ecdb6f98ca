"""Browser test of the network pages: Chromium draws the community graph with cytoscape.js (as many nodes as
the page's data), clicking a node opens its account page, whose neighbourhood graph draws too; no script
errors or CSP violations. Screenshots for docs/network.md (`BASIRA_SCREENSHOTS=docs/screenshots`)."""

import json
import re

import orjson
import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, SHOTS, log_in, require_browser, serving

sync_api = require_browser()

from basira.review.service import ReviewService, ReviewSettings  # noqa: E402
from basira.store import open_store  # noqa: E402
from basira.web import network_pages  # noqa: E402
from basira.web.app import create_app  # noqa: E402

if not network_pages.graph_library_available():
    pytest.skip("cytoscape.js is not installed (make install copies it to basira/web/static/vendor/)",
                allow_module_level=True)



@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from basira.network.cache import cache_for
    from basira.network.evaluate import mark_suspensions
    from basira.scan import scan_paths
    from basira.simulate import simulate_platform

    d = tmp_path_factory.mktemp("netbrowser")
    simulate_platform(400, 3, str(d / "p"))
    store = open_store(f"sqlite:///{d / 'n.db'}")
    scan_paths(store, [str(d / "p")], workers=1)
    mark_suspensions(store, orjson.loads((d / "p" / "ground_truth.json").read_bytes()))
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("ana", PASSWORD, "analyst")
    cache_for(store).get(store)  # the server would warm it at start; here the test waits for it
    with serving(create_app(svc)) as url:
        yield url, store
    store.close()


def test_graphs_draw_and_navigate(server):
    base, store = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base).new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        log_in(page, "ana")
        page.wait_for_url("**/queue*")

        page.goto("/network")
        page.screenshot(path=str(SHOTS / "network-index.png"))
        page.locator("table.queue tbody tr td a[href^='/communities/']").first.click()  # the riskiest community
        page.wait_for_url(re.compile(r".*/communities/\d+$"))
        page.wait_for_selector(".graph-canvas.drawn", timeout=30_000)
        data = json.loads(page.locator("#graph-data").text_content())
        canvas = page.locator(".graph-canvas")
        assert int(canvas.get_attribute("data-nodes")) == len(data["nodes"]) > 1
        assert page.evaluate("window.basiraGraph.nodes().length") == len(data["nodes"])
        assert page.evaluate("window.basiraGraph.edges().length") == len(data["edges"])
        assert page.locator(".graph-note").is_hidden()
        page.screenshot(path=str(SHOTS / "network-community.png"), full_page=True)
        page.select_option(".graph-colour", "community")
        assert page.evaluate("window.basiraGraph.nodes().map(n => n.style('background-color'))") != []
        page.select_option(".graph-colour", "risk")

        # one case for the whole community: its page lists every member with a link
        community_url = page.url
        page.click("#open-network-case button")
        page.wait_for_url(re.compile(r".*/cases/\d+"))
        page.wait_for_load_state("load")
        links = page.locator(".panel-links a[href^='/accounts/']")
        assert links.count() == len(data["nodes"])  # a small community: every member is drawn and listed
        page.screenshot(path=str(SHOTS / "network-case.png"), full_page=True)
        page.goto(community_url)
        page.wait_for_selector(".graph-canvas.drawn", timeout=30_000)

        # click the highest-risk node where cytoscape drew it
        target = max(data["nodes"], key=lambda n: n["risk"])
        pos = page.evaluate(f"(() => {{ const p = window.basiraGraph.$id('{target['id']}').renderedPosition(); "
                            "return [p.x, p.y]; })()")
        box = canvas.bounding_box()
        page.mouse.click(box["x"] + pos[0], box["y"] + pos[1])
        page.wait_for_url(re.compile(r".*/accounts/\d+$"))
        ids = {str(n["id"]) for n in data["nodes"]}
        landed = page.url.rsplit("/", 1)[1]
        assert landed in ids and landed == str(target["id"])

        page.wait_for_selector(".graph-canvas.drawn", timeout=30_000)
        ego = json.loads(page.locator("#graph-data").text_content())
        assert ego["center"] == int(landed)
        assert page.evaluate("window.basiraGraph.nodes().length") == len(ego["nodes"])
        assert page.evaluate(f"window.basiraGraph.$id('{landed}').length") == 1
        page.set_viewport_size({"width": 1280, "height": 1500})
        page.screenshot(path=str(SHOTS / "network-account.png"))

        # the library fails to load in the browser: the page says so and opens the tables
        bare = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base).new_page()
        bare.route("**/static/vendor/cytoscape.min.js", lambda route: route.abort())
        log_in(bare, "ana")
        bare.wait_for_url("**/queue*")
        bare.goto(community_url)
        bare.wait_for_selector(".graph-note", state="visible")
        assert bare.locator(".graph-canvas").is_hidden()
        assert bare.locator("details.graph-table").evaluate("d => d.open")
        assert bare.locator("details.graph-table a[href^='/accounts/']").count() == len(data["nodes"])
        assert bare.evaluate("typeof window.basiraGraph") == "undefined"
        browser.close()
    assert not problems, problems  # no CSP violations, no script errors
