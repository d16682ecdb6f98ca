"""One clock: Basira reads the wall clock only through basira.core.time (`utcnow`), so that services can take a
clock and tests can pass their own. A `datetime.now(...)` / `datetime.utcnow()` anywhere else in basira/ fails
here, with where it is."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "basira"
# time.time() too: a webhook signature stamped from it could not be fixed by a test's clock.
WALL_CLOCK = re.compile(r"\bdatetime\.(now|utcnow|today)\(|\btime\.time\(")


def test_only_core_time_reads_the_wall_clock():
    found = [f"{p.relative_to(ROOT.parent)}:{n}: {line.strip()}"
             for p in sorted(ROOT.rglob("*.py")) if p != ROOT / "core" / "time.py"
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if WALL_CLOCK.search(line)]
    assert found == []


def test_the_check_sees_a_call():
    assert WALL_CLOCK.search("x = datetime.now(UTC)") and not WALL_CLOCK.search("x = utcnow()")
    assert WALL_CLOCK.search("t = int(time.time())") and not WALL_CLOCK.search("time.monotonic()")


def test_alert_webhook_signature_takes_the_senders_clock():
    from datetime import UTC, datetime

    import httpx

    from basira.compliance.alerts import AlertSender, AlertSettings
    from basira.review import webhooks

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    settings = AlertSettings(webhook_url="https://alerts.example/hook", webhook_secret="s3cret")
    sender = AlertSender(settings, client=httpx.Client(transport=httpx.MockTransport(handler)), clock=lambda: fixed)
    assert sender.post({"kind": "test"}) == (True, None)
    stamp = int(fixed.timestamp())
    assert seen[0].headers["X-Basira-Signature"] == webhooks.sign("s3cret", seen[0].content, stamp)
