"""Webhooks that tell the platform what to do: HMAC-SHA256 signatures, idempotency keys, a backoff schedule.

Receivers check `X-Basira-Signature: t=<unix seconds>,v1=<hex hmac_sha256(secret, f"{t}.{body}")>` and
de-duplicate on `Idempotency-Key` (deliveries are at least once). Signing and the schedule are pure; `post`
does the HTTP call and `deliver_due` (in basira.review.service) drives the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx

from basira.store import canonical_json

BACKOFF_BASE = 10.0  # seconds before the first retry
BACKOFF_CAP = 3600.0
MAX_ATTEMPTS = 8
SIGNATURE_TOLERANCE = 300  # seconds a receiver should accept between t= and its own clock


def idempotency_key(decision_id: int, action: str) -> str:
    """Stable per decision and action: a retried or re-queued delivery carries the same key."""
    return hashlib.sha256(f"basira:decision:{decision_id}:{action}".encode()).hexdigest()[:40]


def payload_bytes(payload: dict) -> bytes:
    return canonical_json(payload)


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(secret: str, body: bytes, header: str, now: int, tolerance: int = SIGNATURE_TOLERANCE) -> bool:
    """What a receiver does: check the MAC in constant time and reject stale timestamps (replays)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - ts) > tolerance:
        return False
    expected = sign(secret, body, ts).split("v1=", 1)[1].encode("ascii")
    # compare_digest takes str only when both are ASCII: compare bytes, so a non-ASCII v1= is a mismatch, not
    # a TypeError.
    return hmac.compare_digest(expected, parts.get("v1", "").encode("utf-8", "surrogatepass"))


def backoff(attempt: int, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): base × 3^(attempt−1), capped."""
    return min(cap, base * 3 ** max(attempt - 1, 0))


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    delivered: bool
    status_code: int | None
    error: str | None


def next_state(attempts: int, outcome: AttemptOutcome, now: datetime, max_attempts: int = MAX_ATTEMPTS) -> tuple[str, datetime | None]:
    """After attempt number `attempts`: (status, next attempt time or None)."""
    if outcome.delivered:
        return "delivered", None
    if attempts >= max_attempts:
        return "failed", None
    return "pending", now + timedelta(seconds=backoff(attempts))


def post(client: httpx.Client, url: str, secret: str, key: str, payload: dict, timestamp: int) -> AttemptOutcome:
    """One signed POST. 2xx is delivered; anything else (or no answer) is retried."""
    body = payload_bytes(payload)
    headers = {
        "Content-Type": "application/json",
        "Idempotency-Key": key,
        "X-Basira-Signature": sign(secret, body, timestamp),
        "User-Agent": "basira-webhooks/1",
    }
    try:
        r = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return AttemptOutcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= r.status_code < 300:
        return AttemptOutcome(True, r.status_code, None)
    return AttemptOutcome(False, r.status_code, f"HTTP {r.status_code}")
