"""Bulk writes in one statement: INSERT ... unnest() and UPDATE ... FROM unnest() on PostgreSQL, executemany on
SQLite. The store's ingest and scan move most of their rows through these two functions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

__all__ = ["dialect_insert", "in_values", "insert_rows", "update_rows"]


def dialect_insert(dialect: str, table: sa.Table) -> Any:
    """The dialect's INSERT construct (it has on_conflict_do_nothing / on_conflict_do_update)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    else:  # pragma: no cover
        raise RuntimeError(f"unsupported database: {dialect} (use SQLite or PostgreSQL)")
    return insert(table)


def insert_rows(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    conflict: Sequence[str] = (),
    returning: Sequence[str] = (),
    where: str | None = None,
) -> list[Any]:
    """INSERT `rows` (dicts with the same keys), skipping those that hit the unique index on `conflict`
    (whose predicate is `where`, for a partial index); return the `returning` columns of the rows inserted
    (as the driver returns them: ask for ids and plain columns). Columns left out get their Python defaults.

    On PostgreSQL the rows go as one array per column through unnest(): one short statement per call,
    whatever the number of rows. A multi-row VALUES statement is new text for psycopg to parse on every
    batch, and that parsing took most of the ingest's CPU.
    """
    if not rows:
        return []
    if conn.dialect.name != "postgresql":
        stmt = dialect_insert(conn.dialect.name, table)
        if conflict:
            stmt = stmt.on_conflict_do_nothing(
                index_elements=list(conflict), index_where=sa.text(where) if where else None
            )
        if returning:
            return list(conn.execute(stmt.returning(*(table.c[c] for c in returning)), rows).all())
        conn.execute(stmt, rows)
        return []
    defaults = _python_defaults(table, frozenset(rows[0]))
    if defaults:  # what SQLAlchemy would fill in for the columns left out
        rows = [{**r, **{c: d.arg(None) if d.is_callable else d.arg for c, d in defaults}} for r in rows]
    cols = tuple(rows[0])
    sql = _unnest_insert(conn.dialect, table, cols, tuple(conflict), tuple(returning), where)
    res = conn.exec_driver_sql(sql, _pg_params(conn.dialect, table, cols, rows))
    return list(res.all()) if returning else []


def in_values(dialect: str, column: sa.ColumnElement[Any], values: Iterable[Any]) -> sa.ColumnElement[bool]:
    """`column IN values`; on PostgreSQL `column = ANY(array)`: one short statement text whatever the number of
    values, instead of one placeholder per value for psycopg to parse."""
    values = list(values)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import ARRAY

        return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def update_rows(conn: Connection, table: sa.Table, keys: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
    """UPDATE the rows matching each dict's `keys` columns with its other columns (the same in every
    dict): one statement on PostgreSQL (unnest), one executemany on SQLite."""
    if not rows:
        return
    cols = tuple(c for c in rows[0] if c not in keys)
    if conn.dialect.name == "postgresql":
        sql = _unnest_update(conn.dialect, table, tuple(keys), cols)
        conn.exec_driver_sql(sql, _pg_params(conn.dialect, table, (*keys, *cols), rows))
        return
    stmt = (
        sa.update(table)
        .where(*(table.c[k] == sa.bindparam(f"k_{k}") for k in keys))
        .values({c: sa.bindparam(f"v_{c}") for c in cols})
    )
    conn.execute(stmt, [{f"{'k' if c in keys else 'v'}_{c}": v for c, v in r.items()} for r in rows])


@lru_cache(maxsize=128)
def _pg_arrays(
    dialect: Any, table: sa.Table, cols: tuple[str, ...]
) -> tuple[list[str], list[Callable[[Any], Any] | None]]:
    """For PostgreSQL statements that take a batch as one array per column: the typed placeholders
    `%(p<i>)b::type[]`, and the per-column value converters SQLAlchemy would apply (JSON serialized with
    the dialect's serializer, json.dumps by default). The arrays go in binary: psycopg quotes every element
    of a text-format array with a regular expression, ten times slower for posts' texts."""
    arrays, procs = [], []
    for i, c in enumerate(cols):
        col_type = table.c[c].type
        arrays.append(f"%(p{i})b::{col_type.compile(dialect=dialect)}[]")
        if isinstance(col_type, sa.JSON):
            dumps = getattr(dialect, "_json_serializer", None) or json.dumps
            # None is JSON null unless the column asks for SQL NULL, as SQLAlchemy does it.
            procs.append((lambda v, d=dumps: None if v is None else d(v)) if col_type.none_as_null else dumps)
        elif isinstance(col_type, sa.Float):  # an array cannot mix ints and floats
            procs.append(lambda v: None if v is None else float(v))
        else:
            procs.append(col_type.bind_processor(dialect))
    return arrays, procs


@lru_cache(maxsize=64)
def _python_defaults(table: sa.Table, given: frozenset[str]) -> tuple[tuple[str, Any], ...]:
    """(column, default) of the columns not in `given` with a Python-side scalar or callable default."""
    return tuple(
        (c.name, c.default)
        for c in table.columns
        if c.name not in given and c.default is not None and (c.default.is_scalar or c.default.is_callable)
    )


@lru_cache(maxsize=64)
def _unnest_insert(
    dialect: Any,
    table: sa.Table,
    cols: tuple[str, ...],
    conflict: tuple[str, ...],
    returning: tuple[str, ...],
    where: str | None,
) -> str:
    """PostgreSQL `INSERT ... SELECT FROM unnest(arrays) ... ON CONFLICT DO NOTHING RETURNING`."""
    q = dialect.identifier_preparer.quote
    names = ", ".join(q(c) for c in cols)
    arrays, _ = _pg_arrays(dialect, table, cols)
    sql = (
        f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "
        f"SELECT {names} FROM unnest({', '.join(arrays)}) WITH ORDINALITY AS u({names}, basira_ord) "
        "ORDER BY basira_ord"  # ids in the rows' order, as a multi-row VALUES would give them
    )
    if conflict:
        sql += f" ON CONFLICT ({', '.join(q(c) for c in conflict)})"
        if where:
            sql += f" WHERE {where}"
        sql += " DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(q(c) for c in returning)}"
    return sql


@lru_cache(maxsize=64)
def _unnest_update(dialect: Any, table: sa.Table, keys: tuple[str, ...], cols: tuple[str, ...]) -> str:
    """PostgreSQL `UPDATE ... FROM unnest(arrays)`: set `cols` of the rows matching `keys`."""
    q = dialect.identifier_preparer.quote
    arrays, _ = _pg_arrays(dialect, table, keys + cols)
    return (
        f"UPDATE {dialect.identifier_preparer.format_table(table)} AS t "
        f"SET {', '.join(f'{q(c)} = u.{q(c)}' for c in cols)} "
        f"FROM unnest({', '.join(arrays)}) AS u({', '.join(q(c) for c in keys + cols)}) "
        f"WHERE {' AND '.join(f't.{q(k)} = u.{q(k)}' for k in keys)}"
    )


def _pg_params(
    dialect: Any, table: sa.Table, cols: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> dict[str, list[Any]]:
    """The batch as one list per column (`p<i>`), converted as SQLAlchemy would convert each value."""
    _, procs = _pg_arrays(dialect, table, cols)
    params = {}
    for i, (c, proc) in enumerate(zip(cols, procs, strict=True)):
        values = [r[c] for r in rows]
        params[f"p{i}"] = [proc(v) for v in values] if proc else values
    return params
