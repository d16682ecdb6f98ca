"""The network graphs stay readable (issue 15: 150 overlapping labels on a red-green scale): Chromium draws the
community graph and an account's neighbourhood with at most LABELS = 15 labels, the riskiest nodes', plus the
centre; node colours follow the viridis scale (pale yellow = low risk, dark purple = high), not red-green."""

import json
import re

import orjson
import pytest
from browser_support import ARGS, CHROMIUM, PASSWORD, log_in, require_browser, serving

sync_api = require_browser()

from basira.review.service import ReviewService, ReviewSettings  # noqa: E402
from basira.store import open_store  # noqa: E402
from basira.web import network_pages  # noqa: E402
from basira.web.app import create_app  # noqa: E402

if not network_pages.graph_library_available():
    pytest.skip("cytoscape.js is not installed (make install copies it to basira/web/static/vendor/)",
                allow_module_level=True)

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


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from basira.network.cache import cache_for
    from basira.network.evaluate import mark_suspensions
    from basira.scan import scan_paths
    from basira.simulate import simulate_platform

    d = tmp_path_factory.mktemp("netlabels")
    simulate_platform(400, 3, str(d / "p"))
    store = open_store(f"sqlite:///{d / 'n.db'}")
    scan_paths(store, [str(d / "p")], workers=1)
    mark_suspensions(store, orjson.loads((d / "p" / "ground_truth.json").read_bytes()))
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("ana", PASSWORD, "analyst")
    cache_for(store).get(store)
    with serving(create_app(svc)) as url:
        yield url
    store.close()


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
    problems: list[str] = []
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=server).new_page()
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        log_in(page, "ana")
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
