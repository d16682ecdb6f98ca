"""Passwords (argon2), API tokens and session tokens (only their SHA-256 is stored), and login rate limiting."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from basira.core.i18n import N_
from basira.review.roles import UserError

_hasher = PasswordHasher()
_DUMMY_HASH = _hasher.hash("not a real password: keeps the timing of unknown users the same")
MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "bsr_"


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"passwords need at least {MIN_PASSWORD_LENGTH} characters").said(
            N_("passwords need at least %(n)s characters"), n=MIN_PASSWORD_LENGTH)
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass
class LoginLimiter:
    """At most `max_failures` failed logins per key (username, client address) in `window` seconds."""

    clock: Callable[[], float]
    max_failures: int = 5
    window: float = 300.0
    _failures: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def blocked(self, *keys: str) -> float:
        """Seconds until a login may be tried again for these keys (0: not blocked)."""
        now = self.clock()
        with self._lock:
            waits = []
            for k in keys:
                q = self._recent(k, now)
                if len(q) >= self.max_failures:
                    waits.append(q[0] + self.window - now)
            return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        now = self.clock()
        with self._lock:
            for k in keys:
                self._recent(k, now).append(now)

    def succeeded(self, username_key: str) -> None:
        with self._lock:
            self._failures.pop(username_key, None)
