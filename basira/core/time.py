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


def _from_unix(seconds: float, value: object) -> datetime:
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        raise ValueError(f"not a time: {value!r}")
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"time out of range (years 1-9999): {_short(value)}") from None


def _short(value: object, n: int = 40) -> str:
    try:
        r = repr(value)
    except ValueError:  # an int of more digits than Python converts
        return "a number of thousands of digits"
    return r if len(r) <= n else r[: n - 3] + "..."


def parse_time(value: object) -> datetime:
    """ISO 8601 (a trailing Z allowed; no offset means UTC) or Unix seconds, as aware UTC.

    Raises ValueError with a short reason, also for times outside datetime's years 1-9999 once in UTC
    (`1e20`, `"0001-01-01T00:00:00+01:00"`). A ValueError, not a BasiraError: a parse error like
    datetime.fromisoformat's, which every caller turns into its own field error (InputError, OrderError). The
    reasons are fixed templates (basira.web.errors.REFUSALS), so a face gives that field error in the reader's
    language.
    """
    if isinstance(value, bool):
        raise ValueError("expected a time, got a boolean")
    if isinstance(value, int | float):
        try:
            return _from_unix(float(value), value)
        except OverflowError:  # an int too large for a float
            raise ValueError(f"time out of range (years 1-9999): {_short(value)}") from None
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected an ISO 8601 time or Unix seconds")
    text = value.strip()
    if len(text) > 64:
        raise ValueError(f"not a time: {_short(value)}")
    if text.lstrip("-").replace(".", "", 1).isdigit():
        try:
            seconds = float(text)
        except ValueError:  # digits float() does not read, such as superscripts
            raise ValueError(f"not a time: {_short(value)}") from None
        return _from_unix(seconds, value)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {_short(value)}") from None
    try:
        return utc(parsed)  # type: ignore[return-value]
    except OverflowError:
        raise ValueError(f"time out of range (years 1-9999) once in UTC: {_short(value)}") from None
