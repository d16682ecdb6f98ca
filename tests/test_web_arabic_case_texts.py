"""A community case's stored English reason (basira.cases.network.open_community_case) said again in Arabic and
Russian by the `case_reason` filter, which the case page, the community page and the queue row (for cases with
no post) use; the parts it cannot read (the leader's why texts, written at opening) are kept as written."""

from basira.core.i18n import speaking
from basira.web.labels import case_reason

STORED = ("community 4: 7 accounts, 3 posting flagged material; led by @<b>evil</b> "
          "(2 flagged posts of 5; PageRank in the top 5%)")


def test_community_reason_in_arabic():
    with speaking("ar"):
        said = case_reason(STORED)
    assert said.startswith("المجتمع 4: 7 حسابات، 3 تنشر موادّ مُعلَّمة؛ بقيادة @<b>evil</b> ("), said
    assert "accounts" not in said and "posting flagged material" not in said and "led by" not in said


def test_community_reason_in_russian_and_english():
    with speaking("ru"):
        said = case_reason(STORED)
    assert said.startswith("сообщество 4: 7 аккаунтов, 3 публикуют помеченные материалы; во главе с @"), said
    with speaking("en"):
        assert case_reason(STORED) == STORED


def test_queue_row_translates_a_postless_case_and_escapes_it():
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    import basira.web.labels as labels
    from basira.core.i18n import gettext, ngettext

    env = Environment(loader=FileSystemLoader("basira/web/templates"), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    labels.install(env)
    src = "{% if r.subject_kind != 'post' %}{{ r.snippet|case_reason }}{% endif %}"
    with speaking("ar"):
        out = env.from_string(src).render(r={"subject_kind": "account", "snippet": STORED})
    assert "المجتمع 4" in out and "&lt;b&gt;evil" in out and "<b>" not in out
