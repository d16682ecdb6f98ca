"""The network risk explanations (basira.network.risk) in the reader's language: plural forms by language,
localised numbers; English unchanged for the CLI."""

import numpy as np

from basira.core.i18n import speaking
from basira.network.graph import Edges, build_graph
from basira.network.risk import ActivityStats, risk_scores
from basira.network.structure import pagerank


def _risk():
    # Node 0 posts flagged material that nodes 1-5 repost; node 6 is a bystander that mentions 0 once.
    rows = [(i, 0, "repost", 10 + i, True) for i in range(1, 6) for _ in range(8)] + [(6, 0, "mention", 5, False)]
    g = build_graph(Edges.from_rows(rows), 7)
    stats = ActivityStats(np.array([60, 8, 8, 8, 8, 8, 1.0]), np.array([30, 0, 0, 0, 0, 0, 0.0]),
                          np.array([0, 8, 8, 8, 8, 8, 0.0]), np.full(7, 10.0))
    return risk_scores(g, np.zeros(7, np.int64), stats, pagerank(g))


def test_risk_explanations_in_arabic_russian_and_english():
    r = _risk()
    en = r.explain(0)
    with speaking("ar"):
        ar = r.explain(0)
    with speaking("ru"):
        ru = r.explain(0)
    assert en[0] == "30 flagged posts of 60" and len(ar) == len(ru) == len(en)
    assert ar[0] == "30 منشورًا مُعلَّمًا من أصل 60"  # Arabic 11-99: singular accusative
    assert "ضخّمت 5 حسابات المنشورات المُعلَّمة 40 مرة، معظمها من المجتمع 0" in ar  # 3-10: plural
    assert ru[0] == "30 отмеченных публикаций из 60"
    assert "5 аккаунтов усилили отмеченные публикации (усилений: 40), в основном сообщество 0" in ru
    assert "نشاط مفرط: 6.0 منشور/يوم (z = 2.6)" in ar and "гиперактивен: 6,0 публикаций в день (z = 2,6)" in ru
    assert not any(word in w for w in ar + ru for word in ("flagged", "posts", "accounts", "community"))
