"""The one configuration object: every `BASIRA_*` environment variable is read here, and only here.

Callers take a `Settings` (or the slice of it they need) as an argument. `Settings()` and `Settings.from_env()`
read the environment when they are called (not at import), so a test that sets a variable first sees it;
`Settings.from_env(mapping)` reads a given mapping instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_DB_PATH", "Settings", "db_url", "export_for_workers", "settings"]

DEFAULT_DB_PATH = Path("basira.db")


def db_url(value: str | None) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as SQLite)."""
    if not value:
        return f"sqlite:///{DEFAULT_DB_PATH}"
    if "://" in value:
        return value
    return f"sqlite:///{value}"


# Parsers from the variable's text (None when unset or empty) to the field's value.
def _text(v: str | None) -> str | None:
    return v or None


def _on(v: str | None) -> bool:  # exactly "1", as the serve workers have always been told
    return v == "1"


def _yes(v: str | None) -> bool:
    return (v or "0").strip().lower() in ("1", "true", "yes")


def _number(default: float) -> Callable[[str | None], float]:
    return lambda v: float(v) if v else default


def _integer(default: int) -> Callable[[str | None], int]:
    return lambda v: int(v) if v else default


def _positive(name: str, default: int) -> Callable[[str | None], int]:
    """A whole number of at least 1; a bad value is an InputError naming the variable (exit 2, no traceback)."""

    def parse(v: str | None) -> int:
        if not v:
            return default
        from basira.core.errors import InputError

        try:
            n = int(v.replace("_", ""))
        except ValueError:
            raise InputError("<environment>", None, name, f"must be a whole number, got {v!r}") from None
        if n < 1:
            raise InputError("<environment>", None, name, f"must be at least 1, got {n}")
        return n

    return parse


def _names(v: str | None) -> tuple[str, ...]:
    return tuple(a.strip() for a in (v or "").split(",") if a.strip())


def _hosts(v: str | None) -> tuple[str, ...]:
    return tuple(h.lower() for h in _names(v))


def _var(name: str, parse: Callable[[str | None], Any]) -> Any:
    """A field read from `name` (when Settings() is built), remembered for from_env(mapping)."""
    return field(default_factory=lambda: parse(os.environ.get(name) or None), metadata={"env": name, "parse": parse})


def _pauses(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k.startswith("BASIRA_") and k.endswith("_TEST_PAUSE") and v}


@dataclass(frozen=True)
class Settings:
    """Every setting, with its variable. Defaults are what an unset (or empty) variable means."""

    db_url: str = _var("BASIRA_DB", db_url)  # a SQLAlchemy URL or an SQLite path
    threshold: float | None = None  # None: the model's own threshold (a CLI flag, no variable)
    # review (basira serve)
    webhook_url: str | None = _var("BASIRA_WEBHOOK_URL", _text)  # where decided actions are sent
    webhook_secret: str | None = _var("BASIRA_WEBHOOK_SECRET", _text)  # their HMAC key
    policy_catalogue: str | None = _var("BASIRA_POLICY_CATALOGUE", _text)  # a TOML file of reason codes
    claim_minutes: float = _var("BASIRA_CLAIM_MINUTES", _number(15.0))
    insecure_cookies: bool = _var("BASIRA_INSECURE_COOKIES", _on)  # cookies over plain HTTP (development)
    delivery_worker: bool = _var("BASIRA_DELIVERY_WORKER", _on)  # this web process sends webhooks itself
    # removal-order alerts (basira.compliance.alerts)
    alert_webhook_url: str | None = _var("BASIRA_ALERT_WEBHOOK_URL", _text)
    alert_webhook_secret: str | None = _var("BASIRA_ALERT_WEBHOOK_SECRET", _text)
    smtp_host: str | None = _var("BASIRA_SMTP_HOST", _text)
    smtp_port: int = _var("BASIRA_SMTP_PORT", _integer(25))
    smtp_from: str | None = _var("BASIRA_SMTP_FROM", _text)
    alert_email_to: tuple[str, ...] = _var("BASIRA_ALERT_EMAIL_TO", _names)  # comma-separated addresses
    alert_lang: str | None = _var("BASIRA_ALERT_LANG", _text)  # the e-mail alerts' language: en (default), ar, ru
    smtp_user: str | None = _var("BASIRA_SMTP_USER", _text)
    smtp_password: str | None = _var("BASIRA_SMTP_PASSWORD", _text)
    smtp_starttls: bool = _var("BASIRA_SMTP_STARTTLS", _yes)
    # reports and evidence
    platform_name: str | None = _var("BASIRA_PLATFORM_NAME", _text)  # named in transparency reports
    policy_url: str | None = _var("BASIRA_POLICY_URL", _text)  # the terms named in statements of reasons
    signing_key: str | None = _var("BASIRA_SIGNING_KEY", _text)  # the Ed25519 key that signs packages, reports
    # DSA Transparency Database submission (`basira report statements --submit URL`): the platform's API token.
    tdb_token: str | None = _var("BASIRA_TDB_TOKEN", _text)
    # HMA-compatible API (basira.web.hma_api): fetching media by URL for /h/hash, /m/lookup, /c/bank/.../content.
    # Private, loopback, link-local and reserved addresses are refused (at every redirect) unless allowed here:
    # only for tests and closed networks whose media servers have private addresses.
    hma_fetch_allow_private: bool = _var("BASIRA_HMA_FETCH_ALLOW_PRIVATE", _on)
    hma_fetch_max_bytes: int = _var("BASIRA_HMA_FETCH_MAX_BYTES", _integer(100 * 1024 * 1024))  # HMA's default
    hma_fetch_timeout: float = _var("BASIRA_HMA_FETCH_TIMEOUT", _number(30.0))  # the whole fetch, redirects too
    # Host names media may be fetched from (a host or any subdomain of it); empty: any public host.
    hma_fetch_hosts: tuple[str, ...] = _var("BASIRA_HMA_FETCH_HOSTS", _hosts)
    # An egress HTTP proxy for those fetches (e.g. one that pins DNS answers); unset: direct.
    hma_fetch_proxy: str | None = _var("BASIRA_HMA_FETCH_PROXY", _text)
    # Live hash exchanges (`basira banks sync NAME tat | threatexchange:<privacy group>`, via python-threatexchange).
    tat_username: str | None = _var("BASIRA_TAT_USERNAME", _text)  # Tech Against Terrorism (TCAP) account
    tat_password: str | None = _var("BASIRA_TAT_PASSWORD", _text)
    tat_url: str | None = _var("BASIRA_TAT_URL", _text)  # base URL; unset: python-threatexchange's (TAT's own)
    te_token: str | None = _var("BASIRA_TE_TOKEN", _text)  # Meta ThreatExchange app token, `<app id>|<secret>`
    te_url: str | None = _var("BASIRA_TE_URL", _text)  # Graph API base URL; unset: python-threatexchange's
    # ingest bounds (docs/formats.md): a post text longer than this is an error naming it; so is one input record
    # (a JSON line, a CSV line, the strings of a Telegram message) of more bytes, skipped without being read whole.
    max_text_chars: int = _var("BASIRA_MAX_TEXT_CHARS", _positive("BASIRA_MAX_TEXT_CHARS", 1_000_000))
    max_record_bytes: int = _var("BASIRA_MAX_RECORD_BYTES", _positive("BASIRA_MAX_RECORD_BYTES", 16 * 1024 * 1024))
    # content intake (POST /api/v1/content, `basira worker`) and cluster scans (`basira scan --cluster`)
    intake_max_bytes: int = _var("BASIRA_INTAKE_MAX_BYTES", _positive("BASIRA_INTAKE_MAX_BYTES", 8 * 1024 * 1024))
    # items per second each caller may submit, per `basira serve` process (a token bucket holding one minute's
    # worth); unset or 0: no limit here (the proxy's, if any)
    intake_rate: float = _var("BASIRA_INTAKE_RATE", _number(0.0))
    dask_scheduler: str | None = _var("BASIRA_DASK_SCHEDULER", _text)  # tcp://host:8786 or a scheduler file
    # test-only pause points (basira.core.killpoints): BASIRA_SCAN_TEST_PAUSE, BASIRA_INGEST_TEST_PAUSE,
    # BASIRA_WORKER_TEST_PAUSE
    test_pauses: Mapping[str, str] = field(default_factory=lambda: _pauses(os.environ))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        if environ is None:
            return cls()
        values = {f.name: f.metadata["parse"](environ.get(f.metadata["env"]) or None)
                  for f in fields(cls) if "env" in f.metadata}
        return cls(**values, test_pauses=_pauses(environ))

    def with_db(self, db: str | None) -> Settings:
        return self if db is None else replace(self, db_url=db_url(db))


def settings(db: str | None = None) -> Settings:
    """The environment's settings, with `--db` (when given) in place of BASIRA_DB."""
    return Settings().with_db(db)


def export_for_workers(s: Settings) -> None:
    """Hand the settings a CLI flag changed to server worker processes, which read the environment."""
    os.environ["BASIRA_DB"] = s.db_url
    os.environ["BASIRA_INSECURE_COOKIES"] = "1" if s.insecure_cookies else "0"
