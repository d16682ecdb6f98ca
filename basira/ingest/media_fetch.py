"""Fetch media a platform hosts, for hashing (the HMA-compatible `/h/hash?url=`, `/m/lookup?url=`, adding
content to a bank by URL, and media given by URL to the content intake API, `basira.intake`): http(s) only, a size cap, one time cap for the whole fetch, and every hop (redirects
are followed by hand, at most 5) checked against the allowed hosts and refused when its name resolves to a
private, loopback, link-local, multicast or reserved address (a URL must not make Basira reach into its own
network). Known limit: the name is resolved for the check and again by the HTTP client, so a DNS server that
answers differently the second time (rebinding) is not stopped here; a deployment that needs that sends the
fetches through an egress proxy that pins or filters addresses (BASIRA_HMA_FETCH_PROXY).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from basira.core.errors import BasiraError

MAX_REDIRECTS = 5
_CHUNK = 64 * 1024


class FetchError(BasiraError):
    """A URL that may not or could not be fetched; `status` is the HTTP status to answer with (400 or 413)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
        self.kind = "too_large" if status == 413 else "bad_request"


@dataclass(frozen=True)
class FetchPolicy:
    max_bytes: int = 100 * 1024 * 1024
    timeout: float = 30.0
    allow_private: bool = False
    hosts: tuple[str, ...] = ()  # allowed host names (and their subdomains); empty: any public host
    proxy: str | None = None  # an egress HTTP proxy; the checks above still apply to every URL

    @classmethod
    def from_settings(cls, s: object) -> FetchPolicy:
        return cls(max_bytes=s.hma_fetch_max_bytes, timeout=s.hma_fetch_timeout,  # type: ignore[attr-defined]
                   allow_private=s.hma_fetch_allow_private, hosts=s.hma_fetch_hosts,  # type: ignore[attr-defined]
                   proxy=s.hma_fetch_proxy)  # type: ignore[attr-defined]


@dataclass
class Fetched:
    path: Path  # a temporary file; the caller deletes it (`cleanup`)
    content_type: str
    size: int

    def cleanup(self) -> None:
        self.path.unlink(missing_ok=True)


def _public(ip: str) -> bool:
    addr = ipaddress.ip_address(ip.split("%", 1)[0])
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


def check_url(url: str, policy: FetchPolicy) -> None:
    """Raise FetchError unless `url` may be fetched under `policy` (scheme, host list, resolved addresses)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise FetchError(f"Invalid or unsafe URL provided: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("Invalid or unsafe URL provided: only http and https URLs with a host are fetched")
    host = parts.hostname.rstrip(".").lower()
    if policy.hosts and not any(host == h or host.endswith("." + h) for h in policy.hosts):
        raise FetchError(f"Invalid or unsafe URL provided: host {host!r} is not an allowed media host")
    if policy.allow_private:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"Failed to fetch URL: cannot resolve {host!r} ({exc})") from None
    for info in infos:
        if not _public(str(info[4][0])):
            raise FetchError(f"Invalid or unsafe URL provided: {host!r} resolves to a non-public address")


def fetch_media(url: str, policy: FetchPolicy) -> Fetched:
    """Download `url` into a temporary file under `policy`; raise FetchError (400, or 413 when too large)."""
    import httpx

    deadline = time.monotonic() + policy.timeout
    # trust_env off: no proxy or .netrc from the environment, only the policy's proxy
    with httpx.Client(follow_redirects=False, timeout=policy.timeout, trust_env=False, proxy=policy.proxy) as client:
        for _ in range(MAX_REDIRECTS + 1):
            check_url(url, policy)
            try:
                with client.stream("GET", url, headers={"accept": "image/*, video/*, */*"}) as resp:
                    if resp.is_redirect:
                        url = urljoin(url, resp.headers.get("location", ""))
                        continue
                    if resp.status_code >= 400:
                        raise FetchError(f"Failed to fetch URL: HTTP {resp.status_code}")
                    declared = resp.headers.get("content-length")
                    if declared and declared.isdigit() and int(declared) > policy.max_bytes:
                        raise FetchError("Content too large", 413)
                    return _save(resp, policy, deadline)
            except httpx.HTTPError as exc:
                raise FetchError(f"Failed to fetch URL: {type(exc).__name__}: {exc}") from None
    raise FetchError(f"Failed to fetch URL: more than {MAX_REDIRECTS} redirects")


def _save(resp: object, policy: FetchPolicy, deadline: float) -> Fetched:
    size = 0
    tmp = tempfile.NamedTemporaryFile("wb", prefix="basira-fetch-", delete=False)  # noqa: SIM115 - caller cleans up
    path = Path(tmp.name)
    try:
        with tmp:
            for chunk in resp.iter_bytes(_CHUNK):  # type: ignore[attr-defined]
                size += len(chunk)
                if size > policy.max_bytes:
                    raise FetchError("Content too large", 413)
                if time.monotonic() > deadline:
                    raise FetchError(f"Failed to fetch URL: took longer than {policy.timeout:g} s")
                tmp.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    ctype = resp.headers.get("content-type", "").split(";", 1)[0].strip().lower()  # type: ignore[attr-defined]
    return Fetched(path, ctype, size)


# Content types that are not media: a CDN's error or login page answered with 200 would otherwise be hashed.
_NOT_MEDIA = ("text/", "application/json", "application/xml", "application/xhtml")
_VIDEO_KINDS = {"video", "animated_gif", "gif", "video_message"}


@dataclass
class MediaHashes:
    """What one piece of media hashed to: `md5` and `sha256` of its bytes, and `pdq` for an image."""

    hashes: dict[str, str] = field(default_factory=dict)
    content_type: str = ""
    size: int = 0


def is_video_kind(kind: str | None) -> bool:
    """A media kind hashed as a video (MD5 and SHA-256, no PDQ) whatever its content type says."""
    return (kind or "").lower() in _VIDEO_KINDS


def hash_media_file(path: str, content_type: str = "", kind: str | None = None,
                    pdq_decode: str = "fast") -> MediaHashes:
    """MD5 and SHA-256 of any file, and PDQ when it is an image (not for a video or a content type that says
    video); raise FetchError for a content type that is not media (text, HTML, JSON)."""
    from basira.signals.banks import hash_file

    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if ctype.startswith(_NOT_MEDIA):
        raise FetchError(f"not media: content type {ctype!r}")
    video = ctype.startswith("video/") or is_video_kind(kind)
    names = ("md5", "sha256") if video else ("md5", "sha256", "pdq")
    return MediaHashes(hash_file(path, names, pdq_decode=pdq_decode), ctype, os.path.getsize(path))


def hash_media_bytes(data: bytes, content_type: str = "", kind: str | None = None,
                     pdq_decode: str = "fast") -> MediaHashes:
    """`hash_media_file` for bytes in memory (an upload): written to a temporary file that is removed at once
    (the PDQ hasher reads files), so only the hashes outlive the call."""
    tmp = tempfile.NamedTemporaryFile("wb", prefix="basira-upload-", delete=False)  # noqa: SIM115 - removed below
    path = Path(tmp.name)
    try:
        with tmp:
            tmp.write(data)
        return hash_media_file(str(path), content_type, kind, pdq_decode)
    finally:
        path.unlink(missing_ok=True)
