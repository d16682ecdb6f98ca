"""Browser test of the network pages: Chromium draws the community graph with cytoscape.js (as many nodes as
the page's data), clicking a node opens its account page, whose neighbourhood graph draws too; no script
errors or CSP violations; the graphs label only the 15 riskiest nodes and colour by viridis. Screenshots for docs/network.md (`BASIRA_SCREENSHOTS=docs/screenshots`)."""

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


def _analyst_page(pw, base: str, problems: list[str], responses: bool = False, width: int = 1280,
                  lang: str = "en"):
    """Chromium (desktop size unless `width`), logged in as the analyst; script errors and console warnings
    (cytoscape's "custom wheel sensitivity" was one on every graph page) and, with `responses`, HTTP errors
    from the login on, go to `problems`."""
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
    page = browser.new_context(viewport={"width": width, "height": 900}, base_url=base,
                               extra_http_headers={"Accept-Language": lang}).new_page()
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    if responses:
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    log_in(page, "ana")
    return browser, page


def test_graphs_draw_and_navigate(server):
    base, store = server
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser, page = _analyst_page(pw, base, problems, responses=True)
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


LABELS = 15
# The viridis colour map's stops at 1, 0.75, 0.5, 0.25, 0 (matplotlib's published values): risk 0 -> #fde725.
VIRIDIS = [(0xfd, 0xe7, 0x25), (0x5e, 0xc9, 0x62), (0x21, 0x91, 0x8c), (0x3b, 0x52, 0x8b), (0x44, 0x01, 0x54)]
NODES = "window.basiraGraph.nodes().map(n => [n.id(), n.data('label'), n.data('risk'), n.style('background-color')])"


def viridis(risk: float) -> tuple[int, int, int]:
    x = max(0.0, min(1.0, risk)) * (len(VIRIDIS) - 1)
    i = min(len(VIRIDIS) - 2, int(x))
    t = x - i
    return tuple(round(a + (b - a) * t) for a, b in zip(VIRIDIS[i], VIRIDIS[i + 1], strict=True))


def rgb(css: str) -> tuple[int, int, int]:
    return tuple(int(v) for v in re.findall(r"\d+", css)[:3])


def _drawn(page, url: str) -> tuple[dict, list]:
    page.goto(url)
    page.wait_for_selector(".graph-canvas.drawn", timeout=60_000)
    return json.loads(page.locator("#graph-data").text_content()), page.evaluate(NODES)


def _check(data: dict, nodes: list) -> None:
    assert len(nodes) == len(data["nodes"]) > LABELS + 1  # enough nodes that the limit bites
    centre = str(data.get("center")) if data.get("center") is not None else None
    labelled = [(i, r) for i, label, r, _ in nodes if label and i != centre]
    # At most LABELS besides the centre, and LABELS in all (the centre counts when it is among the riskiest).
    assert LABELS - (1 if centre is not None else 0) <= len(labelled) <= LABELS
    unlabelled = [r for i, label, r, _ in nodes if not label and i != centre]
    assert min(r for _, r in labelled) >= max(unlabelled)  # the riskiest are the labelled ones
    if centre is not None:
        assert [bool(label) for i, label, _, _ in nodes if i == centre] == [True]  # the centre keeps its label
    for _, _, risk, colour in nodes:
        got, want = rgb(colour), viridis(risk)
        assert all(abs(g - w) <= 1 for g, w in zip(got, want, strict=True)), (risk, colour, want)
    reds = [c for *_, c in nodes if rgb(c)[0] > 200 and rgb(c)[1] < 100]
    assert not reds  # no red end of a red-green scale


def test_graphs_label_the_riskiest_fifteen_and_colour_by_viridis(server):
    """Issue 15 (150 overlapping labels on a red-green scale): at most LABELS labels, the riskiest nodes', plus
    the centre; node colours follow viridis (pale yellow = low risk, dark purple = high), not red-green."""
    base, _ = server
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser, page = _analyst_page(pw, base, problems)
        page.wait_for_url("**/queue*")
        page.goto("/network?min_size=3")
        rows = page.locator("table.queue tbody tr").evaluate_all(
            "rs => rs.map(r => [r.querySelector(\"a[href^='/communities/']\")?.getAttribute('href'), "
            "r.querySelector('td.num')?.textContent])")
        sizes = [(int(re.sub(r"\D", "", n)), href) for href, n in rows if href and n]
        size, href = max(sizes)
        assert size > LABELS + 1, sizes

        data, nodes = _drawn(page, href)
        _check(data, nodes)
        risks = sorted(r for _, _, r, _ in nodes)
        assert risks[0] < risks[-1]  # risks differ, so the colours are not one constant

        riskiest = max(data["nodes"], key=lambda n: n["risk"])
        ego, ego_nodes = _drawn(page, f"/accounts/{riskiest['id']}")
        assert ego["center"] == riskiest["id"]
        if len(ego_nodes) > LABELS + 1:
            _check(ego, ego_nodes)
        else:  # a small neighbourhood: every node labelled
            assert all(label for _, label, _, _ in ego_nodes)
        browser.close()
    assert not problems, problems


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_network_pages_fit_a_phone_without_console_warnings(server, lang):
    """Issue 15: the community page was 407-438 px wide at 390 px (its bridge tables had no scrolling wrapper);
    the network index, a community and an account page fit 390 px, and draw with no console warning."""
    base, _ = server
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser, page = _analyst_page(pw, base, problems, responses=True, width=390, lang=lang)
        page.wait_for_url("**/queue*")
        page.goto("/network")
        href = page.locator("table.queue tbody tr td a[href^='/communities/']").first.get_attribute("href")
        for url in ("/network", href, None):
            if url is None:  # the riskiest member's account page
                data = json.loads(page.locator("#graph-data").text_content())
                url = f"/accounts/{max(data['nodes'], key=lambda n: n['risk'])['id']}"
            page.goto(url)
            if url != "/network":
                page.wait_for_selector(".graph-canvas.drawn", timeout=60_000)
            assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
            over = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert over <= 0, f"{url} ({lang}) is {over} px wider than 390 px"
        browser.close()
    assert not problems, problems
