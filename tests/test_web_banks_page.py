"""The hash banks page: bank a known text by pasting it (its MinHash computed by the server, never typed)."""

from web_support import session_client as _client

from basira import banks
from basira.review.auth import hash_password
from basira.review.service import ReviewService, ReviewSettings
from basira.signals.text import minhash_hex, minhash_values
from basira.store import open_store
from basira.web import banks_pages
from basira.web.app import create_app

TEXT = "Join the marching band this weekend, everyone is welcome at the park by the river (synthetic)."


def test_bank_a_known_text_from_the_web(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    with store.transaction() as tx:
        banks.create_bank(tx, "known")
    svc = ReviewService(store, ReviewSettings(secure_cookies=False))
    svc.repo.add_user("ana", hash_password("a long enough password"), "analyst")
    svc.repo.add_user("rev", hash_password("a long enough password"), "reviewer")
    app = create_app(svc)
    ana, rev = _client(svc, app, "ana"), _client(svc, app, "rev")
    page = ana.get("/banks").text
    assert "known" in page and "0 items" in page and 'href="/banks"' in page
    assert rev.get("/banks").status_code == 403 and 'href="/banks"' not in rev.get("/queue").text
    r = ana.post("/banks/known/text", data={"csrf": ana.headers["X-CSRF-Token"], "text": TEXT, "note": "from a report"})
    assert r.status_code == 303 and "Text+banked+in+known" in r.headers["location"]
    [item] = list(banks.iter_items(store, "known"))
    assert item.signal_type == "text_minhash" and item.signal == minhash_hex(minhash_values(TEXT))
    assert "1 item" in ana.get("/banks").text
    assert "Paste+the+text" in ana.post("/banks/known/text", data={"csrf": ana.headers["X-CSRF-Token"],
                                                                    "text": " "}).headers["location"]
    assert "No+bank" in ana.post("/banks/nope/text", data={"csrf": ana.headers["X-CSRF-Token"],
                                                            "text": TEXT}).headers["location"]
    for r in banks_pages.router.routes:  # one permission per route, like every other page
        perms = {getattr(d.call, "permission", None) for d in r.dependant.dependencies} - {None}
        assert perms == {"manage_banks"}, r.path
    store.close()
