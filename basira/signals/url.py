"""Canonical URLs: one spelling per link, so a bank of URLs matches the same link written many ways.

Lower-case scheme and host, IDNA host, no `www.`/`m.`, no default port, no fragment, no user info, no tracking
parameters (utm_*, fbclid, gclid, si, igshid, ...), sorted query, no trailing slash, `http` taken as `https`,
percent-encoding normalized, and short-link hosts' case kept in the path (it is significant: t.me/AbC != t.me/abc).

A `url` item keeps the URL as it was received (so an export gives partners back exactly what they sent, and a
partner holding the raw URL still matches); the canonical form is only its match key. `url_md5` is
python-threatexchange's URL hash: MD5 of the URL lower-cased without its scheme.
"""

from __future__ import annotations

import hashlib
import re
from typing import ClassVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlparse, urlsplit, urlunsplit

from basira.core.i18n import N_
from basira.signals.base import SignalError, SignalType, register
from basira.signals.content import UrlContent

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
        raise SignalError.of(N_("empty URL"))
    if not _SCHEME.match(s):
        s = "https://" + s.lstrip("/")
    try:
        parts = urlsplit(s)
        port = parts.port
    except ValueError as exc:
        raise SignalError.of(N_("not a URL: %(url)s"), url=repr(url[:80])) from exc
    scheme = parts.scheme.lower()
    if scheme == "http":
        scheme = "https"
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise SignalError.of(N_("URL has no host: %(url)s"), url=repr(url[:80]))
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
    """A URL as received; exact match on its canonical form."""

    name = "url"
    aliases: ClassVar[tuple[str, ...]] = ("uri", "link", "url_canonical", "raw_uri")
    index_kind = "exact"
    content = "url"
    post_content = UrlContent
    default_threshold = 0

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip()
        canonicalize_url(s)  # raises SignalError if it is not a URL
        return s

    @classmethod
    def match_key(cls, signal: str) -> str:
        return canonicalize_url(signal)

    @classmethod
    def distance(cls, a: str, b: str) -> float:
        return 0 if canonicalize_url(a) == canonicalize_url(b) else 1

    @classmethod
    def hash_text(cls, text: str) -> str:
        return cls.validate(text)


def threatexchange_url_md5(url: str) -> str:
    """python-threatexchange's `url_md5` of a URL: MD5 of the URL lower-cased, its first `scheme://` removed."""
    parts = urlparse(url.strip().lower())
    # geturl() re-joins the parts (an empty `?` or `#` goes), as the exchange's normalization does.
    s = parts.geturl().replace(f"{parts.scheme}://", "", 1)
    return hashlib.md5(s.encode("utf-8")).hexdigest()  # noqa: S324 - the exchange's hash, not a security use


@register
class UrlMd5Signal(SignalType):
    """python-threatexchange's URL hash (`url_md5`, ThreatExchange HASH_URL_MD5): exact."""

    name = "url_md5"
    aliases: ClassVar[tuple[str, ...]] = ("hash_url_md5",)
    index_kind = "exact"
    content = "url"
    post_content = UrlContent
    default_threshold = 0

    @classmethod
    def validate(cls, signal: str) -> str:
        s = signal.strip().lower()
        if len(s) != 32 or not frozenset("0123456789abcdef").issuperset(s):
            raise SignalError.of(N_("not a %(type)s hash (%(n)s hex characters): %(signal)s"), type="url_md5", n=32,
                                     signal=repr(signal[:80]))
        return s

    @classmethod
    def hash_text(cls, text: str) -> str:
        return threatexchange_url_md5(text)

    @classmethod
    def signal_from(cls, value: str) -> str:  # a post's URL: the exchange's MD5 of it
        return threatexchange_url_md5(value)
