"""`basira serve` says where it listens and how to log in, and logs each request (unless --no-access-log)."""

import os
import subprocess
import sys
import time

import httpx
from browser_support import free_port


def test_serve_prints_its_url_and_access_logs(tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.Popen([sys.executable, "-m", "basira.cli", "serve", "--db", f"sqlite:///{tmp_path / 's.db'}",
                             "--port", str(port), "--insecure-cookies"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    try:
        for _ in range(200):
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/login", timeout=1).status_code == 200
                break
            except httpx.HTTPError:
                time.sleep(0.1)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert f"http://localhost:{port}/" in err and ".venv/bin/basira users add" in err
    assert '"GET /login HTTP/1.1" 200' in out + err  # uvicorn's access log line
