"""The network analysis the case panel and the network pages read is computed in a child process
(basira.network.cache.compute_apart), so the server's own threads never hold the GIL for it: the result is the
same as computing it here, and the cache's background warm-up does not run the analysis in this process. On a
simulated, scanned platform, SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import fresh_db_url

from basira.network import cache as network_cache
from basira.store import open_store


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    from basira.simulate import simulate_platform

    d = tmp_path_factory.mktemp("apart")
    simulate_platform(200, 5, str(d / "p"))
    return d / "p"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def scanned(request, platform, tmp_path_factory):
    from basira.scan import scan_paths

    with fresh_db_url(request.param, tmp_path_factory.mktemp("apart-db")) as url:
        s = open_store(url)
        try:
            scan_paths(s, [str(platform)], workers=1)
            yield s
        finally:
            s.close()


def test_the_child_computes_what_this_process_computes(scanned):
    here, here_threshold = network_cache.compute(scanned)
    apart, apart_threshold = network_cache.compute_apart(scanned)
    a, b = here.analysis, apart.analysis
    assert a.data.n == b.data.n > 100 and here_threshold == apart_threshold
    assert [x.id for x in a.data.accounts] == [x.id for x in b.data.accounts]
    assert here.index == apart.index
    assert np.array_equal(a.communities.membership, b.communities.membership)
    assert np.array_equal(a.risk.score, b.risk.score)
    assert [a.risk.explain(i) for i in range(a.data.n)] == [b.risk.explain(i) for i in range(b.data.n)]
    assert (here.adjacency != apart.adjacency).nnz == 0
    assert [(m.account, [c.account for c in m.candidates]) for m in here.returning] == [
        (m.account, [c.account for c in m.candidates]) for m in apart.returning]
    assert [sorted(map(int, g.accounts)) for g in here.groups] == [sorted(map(int, g.accounts)) for g in apart.groups]


def test_the_warm_up_does_not_run_the_analysis_in_this_process(scanned, monkeypatch):
    def here(store):  # noqa: ANN001, ANN202
        raise AssertionError("the analysis ran in the server's process")

    monkeypatch.setattr(network_cache, "compute", here)  # this process's copy only: the child imports its own
    cache = network_cache.AnalysisCache()
    assert cache.current(scanned) is None  # the case panel: nothing at hand, a warm-up starts
    assert cache.warming is not None
    cache.warming.join(timeout=300)
    snap = cache.peek()
    assert snap is not None and snap.view.analysis.data.n > 100
    assert cache.current(scanned) is snap
