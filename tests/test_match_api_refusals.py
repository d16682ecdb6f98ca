"""The match API's refusals say our message, not pydantic's: no "Value error, " prefix, the hash type's own words
in the reader's language (Accept-Language: ar, ru), `loc` and `type` unchanged (the machine's part)."""

from __future__ import annotations

import warnings

import pytest

from basira.review.service import ReviewService, ReviewSettings
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


@pytest.fixture
def platform(store):
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.add_user("plat", "a long enough password", "platform")
    c = TestClient(create_app(svc))
    c.headers["Authorization"] = "Bearer " + svc.create_token("plat", "test")
    return c


def _items(c, body, lang=None):
    r = c.post("/api/v1/match", json=body, headers={"Accept-Language": lang} if lang else {})
    assert r.status_code == 422, r.text
    return r.json()["detail"]


def test_a_bad_hash_and_an_empty_query_are_refused_in_our_words(platform):
    en = _items(platform, [{"md5": "zz"}, {"ref": "x"}])
    assert en == [{"loc": ["body", "batch", 0, "md5"], "msg": "not a md5 hash (32 hex characters): 'zz'",
                   "type": "value_error"},
                  {"loc": ["body", "batch", 1], "msg": "give at least one of text, pdq, md5, sha256, url, vpdq",
                   "type": "value_error"}]
    ar, ru = _items(platform, [{"md5": "zz"}, {"ref": "x"}], "ar"), _items(platform, [{"md5": "zz"}, {"ref": "x"}], "ru")
    assert [i["msg"] for i in ar] == ["ليست بصمة MD5 (32 محرفًا ست عشريًّا): 'zz'",
                                      "أعطِ واحدًا على الأقل من text وpdq وmd5 وsha256 وurl وvpdq"]
    assert [i["msg"] for i in ru] == ["не хеш MD5 (32 шестнадцатеричных символов): 'zz'",
                                      "укажите хотя бы одно из text, pdq, md5, sha256, url, vpdq"]
    assert [(i["loc"], i["type"]) for i in ar] == [(i["loc"], i["type"]) for i in ru] == [(i["loc"], i["type"]) for i in en]
    single = _items(platform, {"pdq": "1"}, "ar")
    assert single[0]["loc"] == ["body", "query", "pdq"] and "Value error" not in single[0]["msg"]
    assert single[0]["msg"] == "ليست بصمة PDQ (64 محرفًا ست عشريًّا): '1'"
