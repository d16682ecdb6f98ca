"""What Basira refuses, in the reader's language: the same machine `type` (kind) in every language, the
human-readable `msg` (API) and error page / notice (web) translated from the English template and its fields."""

import html

import pytest
from web_support import session_client as _client

from basira.core.errors import BasiraError
from basira.core.i18n import speaking
from basira.review.auth import hash_password
from basira.review.decisions import DecisionError
from basira.review.demo import seed_cases
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.web.app import create_app
from basira.web.errors import REFUSALS, describe, localise


def test_messages_are_translated_from_their_template_and_fields():
    with speaking("ar"):
        assert localise("case 5 is claimed by another reviewer") == "الحالة 5 مستلَمة من مراجع آخر"
        # a field that is a word of the interface is translated too (a status, a stage)
        assert localise("case 12 is closed: nothing to claim") == "الحالة 12 في وضع «مغلقة»: لا شيء لاستلامه"
        # nested: the reason inside "Not stored — field: reason" is itself a known message
        assert localise("Not stored — targets: 'ftp://x': only http(s) URLs") == (
            "لم يُحفظ — targets: 'ftp://x': عناوين http(s) فقط")
        assert localise("something nobody templated") == "something nobody templated"
    with speaking("ru"):
        assert localise("no account 7 in the current analysis") == "аккаунта 7 нет в текущем анализе"
        assert localise("no account 7") == "аккаунта 7 нет"
        assert localise("the undo window has closed; the decision is final") == (
            "окно отмены закрылось; решение окончательное")
    with speaking("en"):
        assert localise("no case 3") == "no case 3"


def test_an_error_raised_with_a_template_is_translated_from_it():
    exc = BasiraError("no user 'x'").said("no user %(user)s", user="'x'")
    assert str(exc) == "no user 'x'" and exc.kind == "invalid"
    with speaking("ar"):
        assert describe(exc) == "لا يوجد المستخدم 'x'"


def test_every_template_has_arabic_and_russian():
    from basira.core.i18n import translations

    for lang in ("ar", "ru"):
        t = translations(lang)
        missing = [m for m in REFUSALS if t.gettext(m) == m]
        assert missing == [], (lang, missing[:5])


@pytest.fixture
def web(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'e.db'}")
    cases = seed_cases(store, 3)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    for name in ("rana", "omar"):
        svc.repo.add_user(name, hash_password("a long enough password"), "reviewer")
    svc.repo.add_user("lina", hash_password("a long enough password"), "legal")
    yield svc, create_app(svc), cases
    store.close()


def test_the_api_keeps_its_type_and_translates_its_msg(web):
    svc, app, cases = web
    rana, omar = _client(svc, app, "rana"), _client(svc, app, "omar")
    assert rana.post(f"/api/v1/cases/{cases[0]}/claim").status_code == 200
    en = omar.post(f"/api/v1/cases/{cases[0]}/claim")
    ar = omar.post(f"/api/v1/cases/{cases[0]}/claim", headers={"Accept-Language": "ar"})
    ru = omar.post(f"/api/v1/cases/{cases[0]}/claim", headers={"Accept-Language": "ru"})
    assert en.status_code == ar.status_code == ru.status_code == 409
    e, a, r = (x.json()["detail"][0] for x in (en, ar, ru))
    assert e["type"] == a["type"] == r["type"] == "conflict" and e["loc"] == a["loc"] == r["loc"]
    assert e["msg"] == f"case {cases[0]} is claimed by another reviewer"
    assert a["msg"] == f"الحالة {cases[0]} مستلَمة من مراجع آخر"
    assert r["msg"] == f"дело {cases[0]} взято в работу другим проверяющим"
    missing = omar.get("/api/v1/cases/999999", headers={"Accept-Language": "ar"})
    assert missing.status_code == 404 and missing.json()["detail"][0] == {
        "loc": [], "msg": "لا توجد الحالة 999999", "type": "not_found"}


def test_the_error_page_and_the_report_form_speak_the_readers_language(web):
    svc, app, _cases = web
    c = _client(svc, app, "rana")
    page = c.get("/cases/999999", headers={"Accept-Language": "ar"})
    assert page.status_code == 404 and '<html lang="ar" dir="rtl">' in page.text
    assert "لا توجد الحالة 999999" in page.text and "no case" not in page.text
    legal = _client(svc, app, "lina")
    bad = legal.get("/reports", params={"from": "2026-02-30", "to": "2026-03-01"}, headers={"Accept-Language": "ru"})
    assert bad.status_code == 400 and "from: '2026-02-30' — несуществующая дата" in html.unescape(bad.text)
    api = legal.get("/api/v1/reports/transparency", params={"from": "soon"}, headers={"Accept-Language": "ar"})
    assert api.status_code == 400 and api.json()["detail"][0]["msg"] == "from: 'soon' ليس تاريخًا (YYYY-MM-DD)"


def test_refusals_raised_beyond_the_review_state_machine_are_said_in_the_readers_language(web, tmp_path):
    """Banks, users and legal holds raise their refusals with a template (BasiraError.said): the reader gets them
    in Arabic or Russian whether the error reaches the web app's handler or a notice; the English stays the same."""
    from datetime import UTC, datetime, timedelta

    from basira.banks import require_positive_bank
    from basira.compliance.preservation import check_hold
    from basira.review.decisions import Actor
    from basira.review.roles import check_role

    svc, app, cases = web
    refusals = []
    for attempt in (lambda: require_positive_bank(svc.store, "nope"), lambda: check_role("boss"),
                    lambda: hash_password("short"),
                    lambda: check_hold(datetime.now(UTC) - timedelta(days=1), "court order 7", datetime.now(UTC))):
        with pytest.raises(BasiraError) as got:
            attempt()
        refusals.append(got.value)
    assert [str(e) for e in refusals] == [
        "no bank named 'nope'", "unknown role 'boss'; one of: admin, reviewer, analyst, legal, auditor, platform",
        "passwords need at least 12 characters", "a legal hold must end in the future"]
    with speaking("ar"):
        assert [describe(e) for e in refusals] == [
            "لا يوجد بنك باسم 'nope'", "دور غير معروف 'boss'؛ الأدوار المتاحة: admin, reviewer, analyst, legal, auditor, platform",
            "تحتاج كلمة المرور إلى 12 حرفًا على الأقل", "يجب أن ينتهي الحجز القانوني في المستقبل"]
        assert [localise(str(e)) for e in refusals] == [describe(e) for e in refusals]  # a notice's English too
    with speaking("ru"):
        assert describe(refusals[0]) == "банка с именем 'nope' нет"
        assert describe(refusals[3]) == "юридическое удержание должно заканчиваться в будущем"

    # A decision refused because of its bank keeps the bank's template (said_as), on the API and on the page.
    rana = svc.repo.user_by_name("rana")
    with pytest.raises(DecisionError) as got:
        svc.decide(cases[0], Actor(rana["id"], "rana", "reviewer"), "remove", "TVEC-1.1", add_to_bank="nope")
    assert got.value.kind == "invalid" and got.value.template == "no bank named %(bank)s"
    c = _client(svc, app, "rana")
    api = c.post(f"/api/v1/cases/{cases[0]}/decisions", headers={"Accept-Language": "ru"},
                 json={"action": "remove", "reason_code": "TVEC-1.1", "add_to_bank": "nope"})
    assert api.status_code == 422 and api.json()["detail"][0]["msg"] == "банка с именем 'nope' нет"
    r = c.post(f"/cases/{cases[0]}/decide", data={"csrf": c.headers["X-CSRF-Token"], "action": "remove",
                                                  "reason_code": "TVEC-1.1", "bank_it": "1", "add_to_bank": "nope"})
    assert r.status_code == 303
    page = c.get(r.headers["location"], headers={"Accept-Language": "ar"}).text
    assert "لا يوجد بنك باسم" in html.unescape(page) and "no bank named" not in page


def test_refusals_of_the_pure_layers_are_templated_and_said_in_arabic_and_russian(tmp_path):
    """Signals, the subject check, the policy catalogue, signing keys and evidence packages raise their refusals
    with a template (BasiraError.of): the English message is what it always was, the reader's is translated."""
    from basira.cases.intake import check_subject
    from basira.compliance.evidence import PackageError, read_package
    from basira.compliance.signing import SigningKeyError, load_private_key
    from basira.review.policy import CatalogueError, parse_catalogue
    from basira.signals import SignalError, get_signal_type
    from basira.signals.banks import Bank

    (tmp_path / "key.pem").write_text("not a key")
    refusals = []
    for cls, attempt in ((SignalError, lambda: get_signal_type("pdq").validate("zz")),
                         (SignalError, lambda: Bank("b", enabled_ratio=2.0)),
                         (BasiraError, lambda: check_subject("network", "post")),
                         (CatalogueError, lambda: parse_catalogue('[[reason]]\ncode = ""')),
                         (SigningKeyError, lambda: load_private_key(tmp_path / "key.pem")),
                         (PackageError, lambda: read_package(tmp_path / "nothing"))):
        with pytest.raises(cls) as got:
            attempt()
        assert not isinstance(got.value, ValueError) and got.value.template
        refusals.append(got.value)
    assert [str(e) for e in refusals[:4]] == [
        "not a PDQ hash (64 hex characters): 'zz'", "enabled_ratio must be within 0..1, not 2.0",
        "subject_kind must be 'community' or 'coordinated' for a network finding, not 'post'",
        "<catalogue>: reason #1: missing code"]
    assert str(refusals[5]) == f"{tmp_path / 'nothing'}: no such file or directory"
    with speaking("ar"):
        said = [describe(e) for e in refusals]
        assert said[0] == "ليست بصمة PDQ (64 محرفًا ست عشريًّا): 'zz'"
        assert said[1] == "يجب أن يكون enabled_ratio ضمن 0..1، لا 2.0"
        assert said[3] == "<catalogue>: reason #1: الرمز مفقود"
        assert said[5] == f"{tmp_path / 'nothing'}: لا يوجد ملف أو مجلد بهذا الاسم"
        assert [localise(str(e)) for e in refusals] == said  # the English text matched, as a notice carries it
    with speaking("ru"):
        assert describe(refusals[2]) == (
            "subject_kind для находки из источника network должен быть 'community' or 'coordinated', а не «публикация»")
        # (a quoted word of the interface, 'post', is translated as a field, as every refusal's are)
        assert describe(refusals[4]).startswith(f"{tmp_path / 'key.pem'}: не закрытый ключ PEM (")


def test_request_guards_and_content_api_limits_speak_the_readers_language(web):
    """The guards' and the content API's refusals: `loc`, `type` and each item's `field` and `status` are the
    machine's and stay; `msg` and an item's `reason` follow Accept-Language (English by default, as before)."""
    svc, app, _cases = web
    svc.repo.add_user("plat", hash_password("a long enough password"), "platform")
    c = _client(svc, app, "rana")
    en = c.get("/api/v1/queue", params={"lang": "a\x00b"})
    ar = c.get("/api/v1/queue", params={"lang": "a\x00b"}, headers={"Accept-Language": "ar"})
    assert en.status_code == ar.status_code == 422
    e, a = en.json()["detail"][0], ar.json()["detail"][0]
    assert e["msg"] == "NUL characters are not allowed" and a["msg"] == "محارف NUL غير مسموح بها"
    assert e["type"] == a["type"] and e["loc"] == a["loc"]
    big = c.get("/api/v1/cases/99999999999999999999", headers={"Accept-Language": "ru"}).json()["detail"][0]
    assert big["type"] == "int_out_of_range" and big["msg"].startswith("должно быть от -")

    plat = _client(svc, app, "plat")
    item = {"platform": "x", "post_id": "p1", "text": "hello", "created_at": "yesterday"}
    res = [plat.post("/api/v1/content", json=[item], headers=h).json()["results"][0]
           for h in ({}, {"Accept-Language": "ar"}, {"Accept-Language": "ru"})]
    assert [(r["status"], r["field"]) for r in res] == [("error", "created_at")] * 3
    assert [r["reason"] for r in res] == ["not an ISO 8601 time: 'yesterday'", "ليس وقتًا بصيغة ISO 8601: 'yesterday'",
                                          "не время в формате ISO 8601: 'yesterday'"]
    empty = plat.post("/api/v1/content", json=[], headers={"Accept-Language": "ar"})
    assert empty.status_code == 422 and empty.json()["detail"] == [{"loc": ["body"], "msg": "لا عناصر", "type": "invalid"}]


def test_live_exchange_refusals_are_said_in_arabic_and_russian():
    from basira.core.settings import Settings
    from basira.signals.exchange import ExchangeError
    from basira.signals.partners.live import open_source

    for source, english in (("tat", "tat: set BASIRA_TAT_USERNAME and BASIRA_TAT_PASSWORD (a TCAP hash-list account)"),
                            ("threatexchange:x", "threatexchange:x: expected threatexchange:<privacy group id>")):
        with pytest.raises(ExchangeError) as got:
            open_source(source, Settings())
        assert str(got.value) == english and got.value.template
        if source == "tat":
            with speaking("ru"):
                assert describe(got.value) == ("tat: задайте BASIRA_TAT_USERNAME и BASIRA_TAT_PASSWORD "
                                               "(учётная запись списка хешей TCAP)")
    with speaking("ar"):
        assert describe(got.value) == "threatexchange:x: المتوقَّع threatexchange:<معرّف مجموعة الخصوصية>"
