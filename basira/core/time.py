"""Time, one way: aware UTC datetimes in, aware UTC datetimes out; one ISO form in files and events."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc", "iso", "parse_time", "utc", "utcnow"]


def utcnow() -> datetime:
    """Now, aware UTC. Services take a clock defaulting to this, so tests can pass their own."""
    return datetime.now(UTC)


def iso(t: datetime | None) -> str | None:
    """`2026-11-29T08:00:00Z` (seconds, UTC), or None."""
    return None if t is None else t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc(value: datetime | None) -> datetime | None:
    """Aware UTC datetime; a naive one is taken as UTC."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


as_utc = utc


def parse_time(value: object) -> datetime:
    """ISO 8601 (a trailing Z allowed; no offset means UTC) or Unix seconds, as aware UTC.

    Raises ValueError with a short reason.
    """
    if isinstance(value, bool):
        raise ValueError("expected a time, got a boolean")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an ISO 8601 time or Unix seconds")
    text = value.strip()
    if text.lstrip("-").replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {value!r}") from None
    return utc(parsed)  # type: ignore[return-value]
