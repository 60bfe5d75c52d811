"""Alembic, driven from Python: the only thing that creates or changes the schema."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from vibechat.db import ensure_sqlite_folder
from vibechat.paths import MIGRATIONS

T = TypeVar("T")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; URLs may contain it (escaped passwords).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def _on_own_engine(url: str, work: Callable[[Connection], T]) -> T:
    """work(connection) in one transaction on a plain engine of its own, not the app's
    tuned one: on SQLite, foreign keys must stay off while batch mode copies a table, or
    the copy would cascade deletes."""
    ensure_sqlite_folder(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            return await connection.run_sync(work)
    finally:
        await engine.dispose()


async def _run(action, url: str, revision: str) -> None:
    """Run an Alembic command."""

    def on(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        action(config, revision)

    await _on_own_engine(url, on)


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to revision on the database at url."""
    await _run(command.upgrade, url, revision)


async def downgrade(url: str, revision: str) -> None:
    """Undo migrations down to revision ("base" removes everything)."""
    await _run(command.downgrade, url, revision)


async def is_up_to_date(url: str) -> bool:
    """Whether every migration has been applied to the database at url."""
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    applied = await _on_own_engine(
        url, lambda connection: set(MigrationContext.configure(connection).get_current_heads())
    )
    return applied == heads
