"""The one configuration object: environment variables, overridden by CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_DB_PATH = Path("basira.db")


def _db_url(value: str | None) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as SQLite)."""
    if not value:
        return f"sqlite:///{DEFAULT_DB_PATH}"
    if "://" in value:
        return value
    return f"sqlite:///{value}"


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=lambda: _db_url(os.environ.get("BASIRA_DB")))
    threshold: float | None = None  # None: the model's own threshold
    # HMA-compatible API (basira.web.hma_api): fetching media by URL for /h/hash, /m/lookup, /c/bank/.../content.
    # Private, loopback, link-local and reserved addresses are refused (at every redirect) unless allowed here:
    # only for tests and closed networks whose media servers have private addresses.
    hma_fetch_allow_private: bool = field(default_factory=lambda: _env("BASIRA_HMA_FETCH_ALLOW_PRIVATE") == "1")
    hma_fetch_max_bytes: int = field(  # HMA's own default cap: 100 MB
        default_factory=lambda: int(_env("BASIRA_HMA_FETCH_MAX_BYTES", str(100 * 1024 * 1024))))
    hma_fetch_timeout: float = field(  # seconds for the whole fetch, redirects and body included
        default_factory=lambda: float(_env("BASIRA_HMA_FETCH_TIMEOUT", "30")))
    # Comma-separated host names media may be fetched from (a host or any subdomain of it); empty: any public host.
    hma_fetch_hosts: tuple[str, ...] = field(default_factory=lambda: tuple(
        h.strip().lower() for h in _env("BASIRA_HMA_FETCH_HOSTS").split(",") if h.strip()))
    # DSA Transparency Database submission (`basira report statements --submit URL`): the platform's API token.
    tdb_token: str | None = field(default_factory=lambda: _env("BASIRA_TDB_TOKEN") or None)

    def with_db(self, db: str | None) -> Settings:
        return self if db is None else replace(self, db_url=_db_url(db))


def settings(db: str | None = None) -> Settings:
    return Settings().with_db(db)
