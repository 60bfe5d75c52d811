"""Alembic is the only thing that makes the schema, and it matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from vibechat import schema
from vibechat.models import Base, User, kept_by_the_models, utcnow


def _differences(connection):
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": kept_by_the_models}
    )
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


async def test_deactivated_at_comes_and_goes_without_losing_anyone(database_url):
    """0002 adds users.deactivated_at to a database with people in it, and its downgrade
    takes the column away again: on SQLite by copying the table, which must not take
    anyone's sessions or messages with it (their foreign keys cascade)."""
    engine = create_async_engine(database_url)
    counts = text(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM sessions),"
        " (SELECT count(*) FROM messages)"
    )
    try:
        await schema.downgrade(database_url, "0001")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO users (id, username, username_key, display_name,"
                    " password_hash, created_at) VALUES"
                    " (1, 'alice', 'alice', 'Alice', 'x', CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at)"
                    " VALUES ('h', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO chats (id, kind, title, created_by, created_at, last_seq,"
                    " last_rev, last_activity_at) VALUES"
                    " (1, 'group', 'Watercooler', 1, CURRENT_TIMESTAMP, 1, 1, CURRENT_TIMESTAMP)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO messages (chat_id, seq, rev, author_id, body, created_at)"
                    " VALUES (1, 1, 1, 1, 'hello', CURRENT_TIMESTAMP)"
                )
            )

        await schema.upgrade(database_url)
        async with engine.begin() as connection:
            assert (await connection.execute(counts)).one() == (1, 1, 1)
            deactivated = await connection.scalar(select(User.deactivated_at))
            assert deactivated is None  # everyone already there stays active
            await connection.execute(update(User).values(deactivated_at=utcnow()))

        await schema.downgrade(database_url, "0001")
        async with engine.connect() as connection:
            columns = await connection.run_sync(
                lambda c: {column["name"] for column in inspect(c).get_columns("users")}
            )
            assert "deactivated_at" not in columns
            assert (await connection.execute(counts)).one() == (1, 1, 1)
            author = await connection.scalar(text("SELECT author_id FROM messages"))
            assert author == 1
    finally:
        await schema.upgrade(database_url)
        await engine.dispose()
