"""Who is asking (session cookie or API token), CSRF, role checks and security headers."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.requests import cookie_parser

from basira.core.errors import BasiraError
from basira.review.decisions import Actor
from basira.review.roles import allowed

SESSION_COOKIE = "basira_session"
LOGIN_CSRF_COOKIE = "basira_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSP = (
    # Images and media from Basira only (a post's media is fetched through it when revealed,
    # basira.web.media_pages): no page makes the browser contact a post's own host.
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # not no-referrer: that makes browsers send "Origin: null" on same-origin form posts
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), autoplay=()"),
    (b"cache-control", b"no-store"),
]


class _ResponseStartMiddleware:
    """Pure ASGI middleware (cheaper than BaseHTTPMiddleware) that edits each HTTP response's start message."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def on_start(self, scope: dict, message: dict) -> None:
        raise NotImplementedError

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_edited(message: dict) -> None:
            if message["type"] == "http.response.start":
                self.on_start(scope, message)
            await send(message)

        await self.app(scope, receive, send_edited)


class SecurityHeaders(_ResponseStartMiddleware):
    """Adds the security headers to every response (those the route did not set itself)."""

    def on_start(self, scope: dict, message: dict) -> None:
        have = {k.lower() for k, _ in message.get("headers", [])}
        message["headers"] = list(message.get("headers", [])) + [
            (k, v) for k, v in SECURITY_HEADERS if k not in have]


def notice_mac(session_cookie: str, notice: str) -> str:
    """The MAC that makes a `?notice=` banner ours: keyed by the session cookie, which only the browser and we
    know, so a link someone else crafted (`/queue?notice=Call this number…`) shows no banner."""
    key = b"basira-notice:" + session_cookie.encode("utf-8", "surrogatepass")
    return hmac.new(key, notice.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:32]


class NoticeSigner(_ResponseStartMiddleware):
    """A redirect whose Location carries `notice=` gets `ns=` (its MAC for this session)."""

    def on_start(self, scope: dict, message: dict) -> None:
        if not 300 <= message.get("status", 200) < 400:
            return
        headers = list(message.get("headers", []))
        for i, (k, v) in enumerate(headers):
            if k.lower() == b"location" and b"notice=" in v:
                cookie = cookie_parser(next((cv.decode("latin-1") for ck, cv in scope.get("headers", [])
                                             if ck == b"cookie"), "")).get(SESSION_COOKIE)
                notice = parse_qs(urlsplit(v.decode("latin-1")).query).get("notice", [""])[0]
                if cookie and notice:
                    headers[i] = (k, v + b"&ns=" + notice_mac(cookie, notice).encode("ascii"))
        message["headers"] = headers


@dataclass
class Principal:
    user_id: int
    username: str
    role: str
    via: str  # session or token
    csrf: str | None = None
    prefs: dict[str, Any] = field(default_factory=dict)
    session_started: datetime | None = None
    cookie: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.username, self.role)

    def can(self, permission: str) -> bool:
        return allowed(self.role, permission)


class NotLoggedIn(BasiraError):
    """No session: the app's own handler sends the browser to the login page."""

    kind = "unauthenticated"


def _lookup(request: Request) -> Principal | None:
    svc = request.app.state.service
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        u = svc.token_user(auth[7:].strip())
        if u is None:
            return None
        return Principal(u["id"], u["username"], u["role"], "token", prefs=svc.prefs(u))
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    u = svc.session_user(cookie)
    if u is None:
        return None
    return Principal(u["id"], u["username"], u["role"], "session", u["csrf_token"], svc.prefs(u),
                     u["session_started"], cookie)


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if origin is None:
        return True
    host = request.headers.get("host", "")
    return origin in (f"http://{host}", f"https://{host}")


async def check_csrf(request: Request, expected: str | None) -> None:
    if not _same_origin(request):
        raise HTTPException(403, "cross-origin request refused")
    token = request.headers.get("x-csrf-token")
    if token is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        token = (await request.form()).get("csrf")
    if not expected or not isinstance(token, str) or not hmac.compare_digest(token, expected):
        raise HTTPException(403, "missing or bad CSRF token")


def require(permission: str):
    """A dependency: the caller, authenticated, CSRF-checked (sessions, unsafe methods) and holding `permission`."""

    async def dependency(request: Request) -> Principal:
        p = await run_in_threadpool(_lookup, request)
        if p is None:
            raise NotLoggedIn()
        if request.method not in SAFE_METHODS and p.via == "session":
            await check_csrf(request, p.csrf)
        if not p.can(permission):
            raise HTTPException(403, f"forbidden for role {p.role}")
        request.state.principal = p
        return p

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
