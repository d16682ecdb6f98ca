"""API conformance: schemathesis (pinned in the dev extras) against a real `uvicorn` server started here, over
every operation of /api/v1/openapi.json — Basira's own API and the HMA-compatible one. Asserts no server error
and no response outside the schema (status codes, content types, bodies). Bounded: 30 fuzzed examples per
operation plus schemathesis' coverage phase, run under `nice`; about 2 minutes on two cores. Runs on PostgreSQL
(the stricter database: 32-bit ids, no NUL in text), on SQLite when PostgreSQL is away."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import REQUIRE_PG, _pg_unavailable, fresh_db_url

ROOT = Path(__file__).resolve().parent.parent
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
EXAMPLES = 30
CONFIG = """
[dictionaries.ids]
values = [1, 2, 3]

[dictionaries.names]
values = ["legal1", "analyst1", "intel"]

[parameters]
"path.case_id" = { dictionary = "ids", probability = 0.6 }
"path.decision_id" = { dictionary = "ids", probability = 0.6 }
"path.account_id" = { dictionary = "ids", probability = 0.6 }
"path.order_id" = { dictionary = "ids", probability = 0.6 }
"path.complaint_id" = { dictionary = "ids", probability = 0.6 }
"path.item_id" = { dictionary = "ids", probability = 0.6 }
"path.delivery_id" = { dictionary = "ids", probability = 0.6 }
"path.content_id" = { dictionary = "ids", probability = 0.6 }
"path.username" = { dictionary = "names", probability = 0.6 }
"path.bank_name" = { dictionary = "names", probability = 0.6 }
"""


def seed(url: str) -> str:
    """Cases, users, a bank with content, an executed order with its preserved copy and a complaint, a pending
    order: the fuzzer reaches real rows, not only 404s. Returns an admin's API token."""
    from basira import banks
    from basira.compliance.service import ComplianceService
    from basira.review.demo import seed_cases
    from basira.review.service import ReviewService, ReviewSettings
    from basira.store import open_store

    store = open_store(url)
    try:
        seed_cases(store, 6)
        svc = ReviewService(store, ReviewSettings())
        for name, role in (("root", "admin"), ("legal1", "legal"), ("analyst1", "analyst")):
            svc.add_user(name, "a long enough password", role)
        with store.transaction() as tx:
            banks.create_bank(tx, "intel", description="synthetic test bank")
            banks.add_content(tx, "intel", {"md5": "0" * 31 + "1"}, actor="root")
        compliance = ComplianceService(store, ReviewSettings())
        executed = compliance.receive({"authority": "Test authority", "order_ref": "T-1", "reasons": "synthetic",
                                       "targets": ["demo:p7-0"], "contact": "tco@example.org"}, "api", "root")
        compliance.execute(executed, "root")
        compliance.receive({"authority": "Test authority", "order_ref": "T-2", "reasons": "synthetic",
                            "targets": ["demo:p7-1"]}, "api", "root")
        compliance.file_complaint(complainant="owner", grounds="synthetic", order_id=executed)
        return svc.create_token("root", "schemathesis")
    finally:
        store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    kind = "postgresql" if REQUIRE_PG or _pg_unavailable() is None else "sqlite"
    with fresh_db_url(kind, tmp_path) as url:
        token = seed(url)
        port = free_port()
        env = {**os.environ, "BASIRA_DB": url, "BASIRA_INSECURE_COOKIES": "1", "PYTHONPATH": str(ROOT)}
        for k in ("BASIRA_WEBHOOK_URL", "BASIRA_ALERT_WEBHOOK_URL", "BASIRA_SMTP_HOST", "BASIRA_DELIVERY_WORKER"):
            env.pop(k, None)
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "basira.web.app:app_from_env",
                                 "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
                                env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(120):
                try:
                    if httpx.get(f"{base}/livez", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None:
                    pytest.fail(f"server exited: {proc.stdout.read().decode()[-2000:]}")
                time.sleep(0.5)
            yield base, token, kind
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_schemathesis_finds_no_server_error_and_no_schema_violation(server, tmp_path):
    base, token, kind = server
    (tmp_path / "schemathesis.toml").write_text(CONFIG)
    report = tmp_path / "report.json"
    cmd = ["nice", "-n", "10", sys.executable, "-m", "schemathesis.cli", "--config-file",
           str(tmp_path / "schemathesis.toml"), "run", f"{base}/api/v1/openapi.json",
           "-H", f"Authorization: Bearer {token}", "--checks", CHECKS, "--max-examples", str(EXAMPLES),
           "--phases", "coverage,fuzzing", "--workers", "1", "--seed", "13", "--no-color",
           "--request-timeout", "30", "--report", "json", "--report-json-path", str(report)]
    run = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    out = run.stdout + run.stderr
    assert report.exists(), out[-4000:]
    r = json.loads(report.read_text())
    ops, cases = r["operations"], r["test_cases"]
    print(f"\nschemathesis on {kind}: {ops['tested']}/{ops['total']} operations, {cases['generated']} test cases, "
          f"{cases['with_failures']} with failures, {len(r['errors'])} errors, {r['running_time']:.0f} s")
    assert ops["tested"] == ops["total"] >= 50, out[-4000:]
    assert cases["generated"] >= EXAMPLES * ops["total"], out[-4000:]
    assert r["errors"] == [] and cases["errored"] == 0, out[-6000:]
    assert r["failures"] == [] and cases["with_failures"] == 0, out[-8000:]
    assert run.returncode == 0, out[-4000:]
