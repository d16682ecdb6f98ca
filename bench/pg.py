"""A throw-away PostgreSQL schema for one benchmark run: created empty, its URL sets the search path, dropped
(with everything in it) at the end. The one helper every PostgreSQL bench uses."""

from __future__ import annotations

import uuid
from types import TracebackType

import sqlalchemy as sa


class PgSchema:
    """`with PgSchema(url, "bench_x") as schema_url:` — or `create()` / `drop()` where a `with` does not fit."""

    def __init__(self, url: str, prefix: str = "bench") -> None:
        self.base_url = url
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.admin: sa.Engine | None = None

    def create(self) -> str:
        self.admin = sa.create_engine(self.base_url)
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{self.name}"'))
        url = sa.make_url(self.base_url).update_query_dict({"options": f"-csearch_path={self.name}"})
        return url.render_as_string(hide_password=False)

    def drop(self) -> None:
        if self.admin is None:
            return
        with self.admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
        self.admin.dispose()
        self.admin = None

    def __enter__(self) -> str:
        return self.create()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.drop()
