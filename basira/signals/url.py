"""Canonical URLs: one spelling per link, so a bank of URLs matches the same link written many ways.

Lower-case scheme and host, IDNA host, no `www.`/`m.`, no default port, no fragment, no user info, no tracking
parameters (utm_*, fbclid, gclid, si, igshid, ...), sorted query, no trailing slash, `http` taken as `https`,
percent-encoding normalized, and short-link hosts' case kept in the path (it is significant: t.me/AbC != t.me/abc).
"""

from __future__ import annotations

import re
from typing import ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from basira.signals.base import SignalError, SignalType, register

_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_[ce]id|igshid|igsh|si|ref_src|ref_url|"
    r"_hsenc|_hsmi|yclid|twclid|wt\.mc_id|spm|share_id|sharer?)$",
    re.IGNORECASE,
)
_STRIP_PREFIXES = ("www.", "m.", "mobile.", "amp.")
_DEFAULT_PORTS = {"http": 80, "https": 443}
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
_SAFE_PATH = "/:@!$&'()*+,;=-._~"


def canonicalize_url(url: str) -> str:
    """The canonical form of a URL (see the module docstring); raise SignalError if it is not one."""
    s = url.strip()
    if not s:
        raise SignalError("empty URL")
    if not _SCHEME.match(s):
        s = "https://" + s.lstrip("/")
    try:
        parts = urlsplit(s)
        port = parts.port
    except ValueError as exc:
        raise SignalError(f"not a URL: {url[:80]!r}") from exc
    scheme = parts.scheme.lower()
    if scheme == "http":
        scheme = "https"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise SignalError(f"URL has no host: {url[:80]!r}")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = host.lower()
    for prefix in _STRIP_PREFIXES:
        if host.startswith(prefix) and host.count(".") >= 2:
            host = host[len(prefix) :]
            break
    if port is not None and port != _DEFAULT_PORTS.get(scheme) and not (scheme == "https" and port == 80):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_SAFE_PATH)
    path = re.sub(r"/{2,}", "/", path).rstrip("/")
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)]
    q = urlencode(sorted(query), quote_via=quote)
    return urlunsplit((scheme, host, path, q, ""))


@register
class UrlSignal(SignalType):
    """A canonicalized URL; exact match on the canonical form."""

    name = "url"
    aliases: ClassVar[tuple[str, ...]] = ("uri", "link", "url_canonical")
    index_kind = "exact"
    content = "url"
    default_threshold = 0

    @classmethod
    def validate(cls, signal: str) -> str:
        return canonicalize_url(signal)

    @classmethod
    def hash_text(cls, text: str) -> str:
        return canonicalize_url(text)
