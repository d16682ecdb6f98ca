"""The interface in Arabic, English and Russian: the language per request (user setting, Accept-Language),
`lang`/`dir` on every page, plural forms, localised numbers, and the committed .mo files matching their .po."""

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from web_support import session_client as _client

from basira.review.auth import hash_password
from basira.review.demo import seed_cases
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.web import i18n
from basira.web.app import create_app


def test_accept_language_and_the_users_setting_pick_the_language():
    assert i18n.pick(None, "ar-EG,ar;q=0.9,en;q=0.5") == "ar"
    assert i18n.pick(None, "de-DE, ru;q=0.4, en;q=0.8") == "en"
    assert i18n.pick(None, "fr, ru;q=0.3") == "ru"
    assert i18n.pick(None, "") == "en" and i18n.pick(None, "ar;q=0") == "en"
    assert i18n.pick("ar", "ru") == "ar" and i18n.pick("xx", "ru") == "ru"
    assert (i18n.direction("ar"), i18n.direction("en"), i18n.direction("ru")) == ("rtl", "ltr", "ltr")


@pytest.mark.parametrize(("n", "want"), [(0, "لا حالات"), (1, "حالة واحدة"), (2, "حالتان"), (3, "3 حالات"),
                                         (10, "10 حالات"), (11, "11 حالةً"), (99, "99 حالةً"), (100, "100 حالة"),
                                         (102, "102 حالة"), (103, "103 حالات")])
def test_arabic_has_six_plural_forms(n, want):
    token = i18n.use("ar")
    try:
        assert i18n.ngettext("%(num)s case", "%(num)s cases", n, num=n) == want
    finally:
        i18n.reset(token)


def test_russian_plurals_and_localised_numbers():
    token = i18n.use("ru")
    try:
        got = [i18n.ngettext("%(num)s case", "%(num)s cases", n, num=n) for n in (1, 3, 5, 21, 111)]
        assert got == ["1 случай", "3 случая", "5 случаев", "21 случай", "111 случаев"]
        assert i18n.number(12345.5, 1) == "12\xa0345,5"
    finally:
        i18n.reset(token)
    token = i18n.use("ar")
    try:
        assert i18n.number(12345, 0) in ("12,345", "12٬345")
    finally:
        i18n.reset(token)


def _key(x):
    return tuple(x) if isinstance(x, list | tuple) else x


def _translated(s):
    return all(s) if isinstance(s, list | tuple) else bool(s)


def test_committed_mo_files_match_their_catalogues():
    for lang in ("ar", "ru"):
        base = i18n.LOCALE_DIR / lang / "LC_MESSAGES"
        with open(base / "basira.po", "rb") as f:
            catalogue = list(read_po(f))
        po = {_key(m.id): _key(m.string) for m in catalogue if m.id and _translated(m.string)}
        with open(base / "basira.mo", "rb") as f:
            mo = {_key(m.id): _key(m.string) for m in read_mo(f) if m.id}
        assert {k: mo.get(k) for k in po} == po, f"{lang}: run `make i18n`"
        assert not [k for k, v in mo.items() if k not in po and v != k and v != (k if isinstance(k, str) else None)
                    and _translated(v) and v[:2] != k[:2]], f"{lang}: the .mo has translations the .po lost"
        untranslated = [m.id for m in catalogue if m.id and not _translated(m.string)]
        assert untranslated == [], f"{lang}: untranslated messages: {untranslated[:10]}"  # both complete


@pytest.fixture
def app(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'i.db'}")
    seed_cases(store, 3)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.repo.add_user("rana", hash_password("a long enough password"), "reviewer")
    yield svc, create_app(svc)
    store.close()


def test_pages_follow_the_browser_then_the_users_setting(app):
    svc, a = app
    c = _client(svc, a)
    en = c.get("/queue")
    assert '<html lang="en" dir="ltr">' in en.text and "3 cases" in en.text and en.headers["content-language"] == "en"
    ar = c.get("/queue", headers={"Accept-Language": "ar,en;q=0.5"})
    assert '<html lang="ar" dir="rtl">' in ar.text and "قائمة المراجعة" in ar.text and "3 حالات" in ar.text
    assert "استلام الحالة التالية" in ar.text and ar.headers["content-language"] == "ar"
    ru = c.get("/settings", headers={"Accept-Language": "ru"})
    assert '<html lang="ru" dir="ltr">' in ru.text and "Язык интерфейса" in ru.text
    # The user's own setting beats the browser's.
    r = c.post("/settings", data={"lang": "ar", "blur_media": "on", "greyscale_media": "on",
                                  "break_reminder_minutes": "90"}, headers={"Accept-Language": "en"})
    assert r.status_code == 303 and "%D8%AD%D9%8F%D9%81%D8%B8%D8%AA" in r.headers["location"]  # «حُفظت»
    assert '<html lang="ar" dir="rtl">' in c.get("/queue", headers={"Accept-Language": "en"}).text
    c.post("/settings", data={"lang": "", "blur_media": "on", "greyscale_media": "on", "break_reminder_minutes": "90"})
    assert '<html lang="en" dir="ltr">' in c.get("/queue", headers={"Accept-Language": "en"}).text


def test_notices_and_statements_speak_the_orders_language_whoever_reads_them():
    from datetime import UTC, datetime

    from basira.compliance.orders import REDRESS_ORDER, content_notice, order_language
    from basira.compliance.statement_pdf import render_statement_pdf, statement_document

    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    order = {"authority": "BKA", "order_ref": "R-1", "details": {"lang": "ar"}}
    assert order_language(order) == "ar" and order_language({"details": {"lang": "xx"}}) == "en"
    token = i18n.use("ru")  # the reader's language plays no part
    try:
        ar = content_notice(order, {"platform": "demo"}, reasons="r", legal_basis="b", now=now)
        en = content_notice({**order, "details": {}}, {"platform": "demo"}, reasons="r", legal_basis="b", now=now)
        st = {"authority": "BKA", "order_ref": "R-1", "legal_basis": "b", "received_at": "2026-11-29T08:00:00Z",
              "deadline_at": "2026-11-29T09:00:00Z", "status": "executed", "removal_confirmed": False, "outstanding": 3,
              "actioned_at": "2026-11-29T08:10:00Z", "prepared_at": "2026-11-29T08:10:00Z", "items": []}
        doc = statement_document(st, order_language(order))
    finally:
        i18n.reset(token)
    assert ar["lang"] == "ar" and ar["redress"].startswith("أُزيل هذا المحتوى امتثالًا")
    assert "lang" not in en and en["redress"] == REDRESS_ORDER
    assert (doc["lang"], doc["dir"]) == ("ar", "rtl") and doc["title"] == "بيان بشأن أمر الإزالة R-1"
    assert doc["outstanding"] == "لم يُنفَّذ بعد: 3 عناصر لم تؤكّد المنصّة إزالتها."  # the "few" form (3-10)
    assert dict(doc["rows"])["الحالة"] == "مُنفَّذ"
    assert render_statement_pdf(st, "ar")[:5] == b"%PDF-"


@pytest.mark.parametrize(("n", "want"), [(0, "لا مُدخلات"), (2, "مُدخلان"), (7, "7 مُدخلات"), (67, "67 مُدخلًا"),
                                         (100, "100 مُدخل"), (1_234, "1,234 مُدخلًا")])
def test_arabic_plural_forms_on_a_page_string_with_a_localised_number(n, want):
    from jinja2 import Environment

    env = Environment(autoescape=True)
    i18n.install(env)
    token = i18n.use("ar")
    try:
        got = env.from_string('{{ ngettext("%(num)s entry", "%(num)s entries", n, num=n|num) }}').render(n=n)
    finally:
        i18n.reset(token)
    assert got == want


def test_the_transparency_report_page_speaks_the_readers_language(app):
    svc, a = app
    admin = "ada"
    svc.repo.add_user(admin, hash_password("a long enough password"), "legal")
    c = _client(svc, a, admin)
    ar = c.get("/reports/transparency.html", headers={"Accept-Language": "ar"})
    assert ar.status_code == 200 and '<html lang="ar" dir="rtl">' in ar.text
    assert "تقرير الشفافية · المحتوى الإرهابي والمتطرف العنيف" in ar.text and "<h2>المنهجية</h2>" in ar.text
    en = c.get("/reports/transparency.html", headers={"Accept-Language": "en"})
    assert '<html lang="en" dir="ltr">' in en.text and "<h2>Methodology</h2>" in en.text
