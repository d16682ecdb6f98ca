"""How an order was executed is stored as a code and said in the reader's language on the order page, the
statement page and the statement's rows (the PDF's), not as an English sentence on Arabic pages; rows stored
before the code (the English sentence) still render, translated (issue 15 audit)."""

import warnings

import pytest
import sqlalchemy as sa
from compliance_support import HASH, Clock

from basira.compliance.orders import execution_method, method_code, method_words
from basira.compliance.statement_pdf import statement_rows
from basira.core.i18n import gettext, speaking
from basira.review.demo import seed_cases
from basira.review.service import ReviewService, ReviewSettings
from basira.store import open_store
from basira.store.compliance_models import RemovalOrder
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

OLD_RECORDED = "recorded only; no action sink configured, nothing removed"
AR_RECORDED = "سُجّل فقط؛ لا توجد وجهة إجراءات مهيّأة، ولم يُحذف شيء"
RU_RECORDED = "только записано; получатель действий не настроен, ничего не удалено"


@pytest.fixture
def legal(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'w.db'}")
    seed_cases(store, 4)
    svc = ReviewService(store, ReviewSettings(secure_cookies=False), clock=Clock())
    svc.repo.add_user("legal1", HASH, "legal")
    c = TestClient(create_app(svc), follow_redirects=False)
    cookie, csrf = svc.start_session(svc.repo.user_by_name("legal1"))
    c.cookies.set("basira_session", cookie)
    c.headers["X-CSRF-Token"] = csrf
    r = c.post("/orders", data={"csrf": csrf, "authority": "BKA", "order_ref": "M-1", "reasons": "Propaganda.",
                                "targets": "demo:p7-0\n"})
    assert r.status_code == 303
    r = c.post("/orders/1/execute", data={"csrf": csrf, "confirm": "execute"})
    assert r.status_code == 303
    yield store, c
    store.close()


def _stored(store) -> str:
    with store.read() as conn:
        return conn.execute(sa.select(RemovalOrder.__table__.c.execution_method)).scalar_one()


def _set(store, value: str) -> None:
    with store.write() as conn:
        conn.execute(sa.update(RemovalOrder.__table__).values(execution_method=value))


def test_the_method_is_a_code_and_each_page_says_it_in_its_language(legal):
    store, c = legal
    assert _stored(store) == "recorded"  # a code, not a sentence
    ar = c.get("/orders/1", headers={"Accept-Language": "ar"}).text
    assert AR_RECORDED in ar and OLD_RECORDED not in ar and "— recorded<" not in ar
    assert RU_RECORDED in c.get("/orders/1", headers={"Accept-Language": "ru"}).text
    assert OLD_RECORDED in c.get("/orders/1", headers={"Accept-Language": "en"}).text
    # The statement is written in the order's language (English here), whoever reads it: words, not the code.
    statement = c.get("/orders/1/statement", headers={"Accept-Language": "ar"}).text
    assert OLD_RECORDED in statement and ">recorded<" not in statement
    st = c.get("/api/v1/orders/1").json()["statement"]
    assert st["method"] == "recorded"  # the JSON carries the code
    assert AR_RECORDED in dict(statement_rows(st, "ar")).values()  # an Arabic order's page and PDF
    assert RU_RECORDED in dict(statement_rows(st, "ru")).values()


def test_rows_stored_before_the_code_still_render_translated(legal):
    store, c = legal
    _set(store, OLD_RECORDED)
    assert AR_RECORDED in c.get("/orders/1", headers={"Accept-Language": "ar"}).text
    _set(store, "action webhook (remove): 3 sent, awaiting acknowledgement")
    ar = c.get("/orders/1", headers={"Accept-Language": "ar"}).text
    assert "أُرسل 3" in ar and "awaiting acknowledgement" not in ar
    _set(store, "webhook_sent:2")
    assert "отправлено 2" in c.get("/orders/1", headers={"Accept-Language": "ru"}).text
    _set(store, "by hand, ticket 77")  # free text someone entered stays as it is
    assert "by hand, ticket 77" in c.get("/orders/1", headers={"Accept-Language": "ar"}).text


def test_codes_and_old_sentences_map_to_the_same_words():
    assert (execution_method(2, 0), execution_method(0, 1), execution_method(0, 0)) == (
        "webhook_sent:2", "recorded", "already_removed")
    assert method_code("action webhook (remove): 5 sent, awaiting acknowledgement") == ("webhook_sent", 5)
    assert method_code("already removed by review") == method_code("already_removed") == ("already_removed", 0)
    assert method_code("anything else") is None and method_code(None) is None
    with speaking("ar"):
        assert method_words(OLD_RECORDED, gettext) == method_words("recorded", gettext) == AR_RECORDED
    rows = dict(statement_rows({"authority": "A", "order_ref": "R", "legal_basis": "L", "received_at": None,
                                "deadline_at": None, "status": "executed", "method": OLD_RECORDED}, "ru"))
    assert RU_RECORDED in rows.values()
