"""The one configuration object: environment variables, overridden by CLI flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DB_PATH = Path("basira.db")


def _db_url(value: str | None) -> str:
    """Accept a SQLAlchemy URL or a plain file path (taken as SQLite)."""
    if not value:
        return f"sqlite:///{DEFAULT_DB_PATH}"
    if "://" in value:
        return value
    return f"sqlite:///{value}"


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=lambda: _db_url(os.environ.get("BASIRA_DB")))
    threshold: float | None = None  # None: the model's own threshold

    def with_db(self, db: str | None) -> Settings:
        return self if db is None else Settings(db_url=_db_url(db), threshold=self.threshold)


def settings(db: str | None = None) -> Settings:
    return Settings().with_db(db)
