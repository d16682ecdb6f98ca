"""Admin lockout and password logins: an admin cannot disable itself or the last active admin (service, API,
pages); a disabled user can be enabled again; the `platform` role signs in with API tokens only, never a
password; a hostile login name (NUL, over-long) is refused and audited, never a 500. On SQLite and PostgreSQL."""

import re
import threading
import warnings

import pytest

from basira.review.repository import LockoutError
from basira.review.service import ReviewService, ReviewSettings
from basira.web.app import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PASSWORD = "a long enough password"


@pytest.fixture
def svc(store):
    s = ReviewService(store, ReviewSettings(secure_cookies=False))
    for name, role in (("root", "admin"), ("alice", "reviewer"), ("hook", "platform")):
        s.add_user(name, PASSWORD, role)
    return s


def active(svc, username):
    return svc.repo.user_by_name(username)["disabled_at"] is None


def test_an_admin_cannot_disable_itself_or_the_last_admin(svc):
    with pytest.raises(LockoutError, match="yourself"):
        svc.disable_user("root", actor="root")
    with pytest.raises(LockoutError, match="last active admin"):
        svc.disable_user("root", actor="cli")
    assert active(svc, "root")
    svc.add_user("second", PASSWORD, "admin", actor="root")
    assert svc.disable_user("root", actor="second") is True
    assert not active(svc, "root")
    with pytest.raises(LockoutError, match="last active admin"):
        svc.disable_user("second", actor="cli")
    assert svc.disable_user("root", actor="second", disabled=False) is True  # enable
    assert active(svc, "root") and svc.authenticate("root", PASSWORD) is not None
    assert svc.disable_user("nobody", actor="root") is False
    kinds = [e["kind"] for e in svc.store.iter_events()]
    assert kinds.count("user.disabled") == 1 and kinds.count("user.enabled") == 1
    assert svc.store.verify_events() == (True, None)


def test_two_admins_disabling_each_other_at_once_leave_one(db_url):
    from basira.store import open_store

    stores = [open_store(db_url) for _ in range(2)]
    try:
        a, b = (ReviewService(s, ReviewSettings()) for s in stores)
        a.add_user("ann", PASSWORD, "admin")
        a.add_user("ben", PASSWORD, "admin")
        barrier, out = threading.Barrier(2), []

        def disable(service, target, actor):
            barrier.wait()
            try:
                out.append(service.disable_user(target, actor=actor))
            except LockoutError:
                out.append("refused")

        threads = [threading.Thread(target=disable, args=(a, "ben", "ann")),
                   threading.Thread(target=disable, args=(b, "ann", "ben"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(map(str, out)) == ["True", "refused"]
        assert sum(u["disabled_at"] is None for u in a.repo.list_users()) == 1
    finally:
        for s in stores:
            s.close()


def test_the_platform_user_cannot_log_in_with_a_password(svc):
    assert svc.authenticate("hook", PASSWORD) is None
    assert svc.authenticate("alice", PASSWORD) is not None
    token = svc.create_token("hook", "integration")
    assert TestClient(create_app(svc)).get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}
                                           ).json()["role"] == "platform"


def login(c, username, password=PASSWORD):
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    return c.post("/login", data={"username": username, "password": password, "csrf": token})


def test_web_refuses_lockout_enables_and_hostile_logins_are_audited(svc):
    app = create_app(svc)
    c = TestClient(app, follow_redirects=False)
    assert login(c, "hook").status_code == 401  # platform: tokens only
    assert login(c, "ro\x00ot").status_code == 401  # NUL: refused, no 500 (PostgreSQL refuses NUL in text)
    assert login(c, "x" * 5000).status_code == 401
    failed = [e for e in svc.store.iter_events() if e["kind"] == "session.login_failed"]
    assert len(failed) == 3 and failed[1]["subject"] == "user:ro\\x00ot"
    assert login(c, "root").status_code == 303
    c.headers["X-CSRF-Token"] = re.search(r'name="csrf" value="([^"]+)"', c.get("/settings").text).group(1)
    r = c.post("/api/v1/users/root/disable")
    assert r.status_code == 409 and "yourself" in r.json()["detail"][0]["msg"]
    r = c.post("/admin/users/root/disable")
    assert r.status_code == 303 and "yourself" in c.get(r.headers["location"]).text
    # ?notice= shows only the notices we issued to this session: a crafted link shows no banner.
    forged = r.headers["location"].replace("yourself", "Call+%2B1-555-0100+now")
    assert "555-0100" not in c.get(forged).text
    assert "Call us" not in c.get("/admin/users?notice=Call+us&ns=00").text
    other = TestClient(app, follow_redirects=False)
    assert login(other, "alice").status_code == 303  # the same link in another session: no banner either
    assert "yourself" not in other.get(r.headers["location"].replace("/admin/users", "/settings")).text
    assert c.post("/api/v1/users/alice/disable").json() == {"username": "alice", "disabled": True}
    assert c.post("/api/v1/users/alice/enable").json() == {"username": "alice", "disabled": False}
    assert c.post("/api/v1/users/nobody/enable").status_code == 404
    r = c.post("/admin/users/alice/disable")
    assert "Enable" in c.get("/admin/users").text
    assert c.post("/admin/users/alice/enable").status_code == 303 and active(svc, "alice")
    assert svc.store.verify_events() == (True, None)


def test_cli_users_add_refusals_are_one_line_exit_2(tmp_path):
    """A bad password, role or name, or a taken name: one line naming what is wrong, exit 2, no traceback."""
    from typer.testing import CliRunner

    from basira.cli import app

    db = f"sqlite:///{tmp_path / 'u.db'}"
    runner = CliRunner()

    def add(name: str, role: str, password: str = "a long enough password"):
        return runner.invoke(app, ["users", "add", name, "--role", role, "--db", db, "--password-stdin"],
                             input=password + "\n")

    assert add("rana", "reviewer").exit_code == 0
    for res, said in ((add("omar", "reviewer", "short"), "passwords need at least 12 characters"),
                      (add("omar", "boss"), "unknown role 'boss'; one of: admin, reviewer"),
                      (add("[red]x", "reviewer"), "usernames are 1–64 letters"),
                      (add("rana", "reviewer"), "user 'rana' already exists")):
        assert res.exit_code == 2 and said in res.output and "Traceback" not in res.output, res.output
        assert isinstance(res.exception, SystemExit)


def test_cli_a_webhook_url_without_its_secret_names_the_setting(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from basira.cli import app

    monkeypatch.setenv("BASIRA_WEBHOOK_URL", "https://hooks.example/basira")
    monkeypatch.delenv("BASIRA_WEBHOOK_SECRET", raising=False)
    res = CliRunner().invoke(app, ["users", "add", "rana", "--role", "reviewer", "--db",
                                   f"sqlite:///{tmp_path / 'u.db'}", "--password-stdin"], input=PASSWORD + "\n")
    assert res.exit_code == 2 and "field 'BASIRA_WEBHOOK_SECRET'" in res.output and "Traceback" not in res.output
