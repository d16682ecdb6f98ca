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
    # the hint repeats how it was run (here `python -m basira.cli`), not a .venv/bin/basira that may not exist
    assert f"http://localhost:{port}/" in err and " -m basira.cli users add NAME --role reviewer" in err
    assert '"GET /login HTTP/1.1" 200' in out + err  # uvicorn's access log line


def test_the_hint_names_the_script_that_was_run(tmp_path):
    """Run through a `basira` script outside any virtualenv's bin/ and not on PATH: the hint names that script."""
    from pathlib import Path

    script = tmp_path / "bin" / "basira"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {os.getcwd()!r})\n"
                      "from basira.cli._common import basira_command\nprint(basira_command())\n")
    script.chmod(0o755)
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    out = subprocess.run([str(script)], capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout
    assert out.strip() == "bin/basira"
    env["PATH"] = f"{script.parent}:/usr/bin:/bin"  # on PATH: the bare name
    assert subprocess.run([str(script)], capture_output=True, text=True, env=env, check=True).stdout.strip() == "basira"
    assert Path(script).exists()
