"""What the browser tests share: Debian's Chromium driven by Python Playwright (no browser download) against the
app served by uvicorn on 127.0.0.1. Screenshots go to a temporary folder;
`BASIRA_SCREENSHOTS=docs/screenshots pytest tests/test_..._browser.py` refreshes the ones in the docs."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("BASIRA_CHROMIUM", "/usr/bin/chromium")
SHOTS = Path(os.environ.get("BASIRA_SCREENSHOTS") or tempfile.mkdtemp(prefix="basira-shots-"))
PASSWORD = "a long enough password"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_browser():
    """Skip the calling test module when Chromium or Playwright is missing; else return `playwright.sync_api`."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(app) -> Iterator[str]:
    """Serve `app` on a free local port in a thread; yield its base URL; stop it afterwards."""
    import uvicorn

    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    while not srv.started:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        t.join(timeout=10)


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Fill and send the login form (the caller waits for wherever it expects to land)."""
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
