"""The suite's migrated templates (tests/db_support.py) make the same database Alembic makes: a copy and a real
migration have the same tables, columns, defaults, indexes, constraints, sequences and rows."""

from __future__ import annotations

import re

import sqlalchemy as sa

from basira.store import open_store
from basira.store.db import open_engine
from tests import db_support
from tests.conftest import fresh_db_url


def _predicate(indexdef: str) -> str:
    """A partial index's `status IN (…)` as one form: pg_dump writes PostgreSQL's deparse of it, which parses
    back with a cast per element (ARRAY[('open'::character varying)::text, …]) instead of one on the array;
    the planner folds both to the same constant array (checked below with EXPLAIN)."""
    return re.sub(r"ANY \((?:\(ARRAY\[(.*?)\]\)::text\[\]|ARRAY\[(.*?)\])\)",
                  lambda m: "ANY (" + ",".join(re.findall(r"'([^']*)'", m.group(1) or m.group(2))) + ")", indexdef)


def _describe(engine: sa.Engine) -> dict[str, list]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            schema = conn.exec_driver_sql("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name").all()
            seqs = conn.exec_driver_sql("SELECT name, seq FROM sqlite_sequence ORDER BY name").all() \
                if any(r[1] == "sqlite_sequence" for r in schema) else []
        else:
            me = conn.execute(sa.text("SELECT current_schema()")).scalar()

            def rows(sql: str) -> list:
                return [tuple(str(v).replace(f'"{me}".', "").replace(f"{me}.", "") for v in r)
                        for r in conn.execute(sa.text(sql)).all()]

            schema = rows("SELECT table_name, column_name, data_type, column_default, is_nullable, "
                          "character_maximum_length, is_identity FROM information_schema.columns "
                          "WHERE table_schema = current_schema() ORDER BY 1, 2")
            schema += [(t, i, _predicate(d)) for t, i, d in rows(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                "ORDER BY 1, 2")]
            # The queue's query can use its partial index (its predicate is implied) in both.
            conn.exec_driver_sql("SET enable_seqscan = off; SET enable_bitmapscan = off; SET enable_sort = off")
            schema += rows("EXPLAIN (COSTS OFF) SELECT id FROM cases WHERE status IN ('open', 'escalated', "
                           "'appealed') ORDER BY priority DESC, opened_at, id LIMIT 5")
            conn.exec_driver_sql("RESET ALL")
            schema += rows("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                           "JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() "
                           "ORDER BY 1, 2")
            seqs = rows("SELECT sequencename, start_value, increment_by, last_value FROM pg_sequences "
                        "WHERE schemaname = current_schema() ORDER BY 1")
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
        platforms = conn.execute(sa.text("SELECT * FROM platforms ORDER BY 1")).all()
    return {"schema": list(schema), "sequences": list(seqs), "version": version, "platforms": platforms}


def test_a_copied_template_equals_a_real_migration(db_url, tmp_path):
    kind = sa.make_url(db_url).get_backend_name()
    before = dict(db_support.COPIES)
    copied = open_store(db_url)  # the suite's way: a copy of the session's template
    if not db_support.DISABLED:
        assert db_support.COPIES[kind] == before[kind] + 1, "the empty database was migrated, not copied"
    with fresh_db_url(kind, tmp_path / "real") as url:
        real = open_engine(url, migrate_schema=False)
        db_support.real_migrate()(real)  # Alembic, every migration
        try:
            assert _describe(copied.engine) == _describe(real)
            assert _describe(real)["schema"], "nothing compared"
        finally:
            real.dispose()
            copied.close()


def test_a_database_with_tables_or_an_older_revision_migrates_for_real(db_url):
    from basira.store.db import migrate

    engine = open_engine(db_url, migrate_schema=False)
    before = dict(db_support.COPIES)
    migrate(engine, "0005_compliance")  # an older revision: Alembic
    migrate(engine)  # tables there: Alembic upgrades them
    assert db_support.COPIES == before
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar() == 1
    engine.dispose()
