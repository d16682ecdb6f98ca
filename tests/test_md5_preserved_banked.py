"""A reviewer's removal of a post with uploaded media banks the media's MD5 beside its SHA-256 and PDQ, so a later
byte-identical upload (or one given only by its MD5) matches by MD5; and the preserved copy of the removed post
(Regulation (EU) 2021/784, art. 6) records that MD5, as does the evidence package listing the copy. End to end
through POST /api/v1/content and the reviewer's decision API; on SQLite and PostgreSQL (the `store` fixture)."""

from __future__ import annotations

import base64
import hashlib

import orjson

from basira import banks as repo
from basira.cases.manual import open_case_for
from tests.test_intake_api import item, make_app, texts  # noqa: F401 - `texts` is a fixture
from tests.test_intake_media import _image


def test_removed_media_md5_is_banked_matched_and_preserved(store, texts):  # noqa: F811
    from basira.compliance.evidence import build_files
    from basira.compliance.evidence_data import gather, resolve
    from basira.compliance.repository import ComplianceRepo

    data = _image(7)
    md5 = hashlib.md5(data).hexdigest()  # noqa: S324 - the exchange's file hash, not a security use
    with store.transaction() as tx:
        repo.create_bank(tx, "removed")
    c, rev = make_app(store)
    up = {"data_base64": base64.b64encode(data).decode(), "mime": "image/png", "kind": "photo"}
    first = c.post("/api/v1/content", json=[item(texts[30], media=[up])]).json()["results"][0]
    assert first["status"] == "ok" and first["bank_matches"] == []
    assert first["media"][0]["hashes"]["md5"] == md5

    with store.transaction() as tx:
        case = open_case_for(tx, "post", first["post"], "reported", details={"categories": ["recruitment"]})[0]
    r = rev.post(f"/api/v1/cases/{case}/decisions",
                 json={"action": "remove", "reason_code": "TVEC-1.1", "add_to_bank": "removed"})
    assert r.status_code == 201, r.text
    assert "md5" in r.json()["banked"]["signals"]
    items = {i.signal_type: i for i in repo.iter_items(store, "removed")}
    assert {"md5", "sha256", "pdq"} <= set(items)
    assert items["md5"].signal == md5 and items["md5"].source == f"review:case:{case}"
    assert items["md5"].labels["content_type"] == "photo"  # behaviour: the case's first category

    # The preserved copy of the removed post records the media's MD5, and the evidence package shows it.
    comp = ComplianceRepo(store)
    (listed,) = [p for p in comp.preserved() if p.case_id == case]
    copy = comp.preserved_item(listed.id)
    assert copy is not None and copy.content is not None
    assert [m["md5"] for m in copy.content["media"]] == [md5]
    files = build_files(gather(store, subj := resolve(store, f"case:{case}")), {"ref": subj.ref})
    preserved = orjson.loads(files["compliance.json"])["preserved_items"]
    assert [[m["md5"] for m in p["content"]["media"]] for p in preserved if p["case_id"] == case] == [[md5]]

    # A later post with the same bytes matches the banked MD5 (among the other hashes); one that gives only the
    # MD5, as partners and HMA exchange file hashes, matches by MD5 alone.
    again = c.post("/api/v1/content", json=[item(texts[31], media=[up]),
                                            item(texts[32], media=[{"md5": md5.upper(), "kind": "photo"}])]
                   ).json()["results"]
    assert [(m["bank"], m["signal_type"]) for m in again[0]["bank_matches"] if m["signal_type"] == "md5"] == \
        [("removed", "md5")]
    assert [(m["bank"], m["signal_type"]) for m in again[1]["bank_matches"]] == [("removed", "md5")]

    # Undoing the removal takes the banked MD5 back out with the rest.
    decision = r.json()["decision_id"]
    u = rev.post(f"/api/v1/decisions/{decision}/undo")
    assert u.status_code in (200, 201), u.text
    assert [i for i in repo.iter_items(store, "removed") if i.signal_type == "md5"] == []
