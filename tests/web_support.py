"""A test client with a live reviewer session, made directly (the login form has tests of its own)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():  # as the tests that imported it themselves did
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def session_client(svc, app, username: str = "rana", *, raise_server_exceptions: bool = True) -> TestClient:
    """A client of `app` logged in as `username` through `svc`, with its CSRF header set."""
    cookie, csrf = svc.start_session(svc.repo.user_by_name(username))
    c = TestClient(app, follow_redirects=False, raise_server_exceptions=raise_server_exceptions)
    c.cookies.set("basira_session", cookie)
    c.headers["X-CSRF-Token"] = csrf
    return c
