"""Alembic is the only thing that makes the schema, and it matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from vibechat import schema
from vibechat.models import Base


def _differences(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, Base.metadata)


async def test_migrated_schema_matches_the_models(database_url):
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []


async def test_migrations_have_one_head_and_run_down_and_up_again(database_url):
    heads = ScriptDirectory.from_config(schema.alembic_config(database_url)).get_heads()
    assert len(heads) == 1

    engine = create_async_engine(database_url)
    try:
        await schema.downgrade(database_url, "base")
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await schema.upgrade(database_url)
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
        assert differences == []
    finally:
        await engine.dispose()
