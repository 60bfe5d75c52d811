"""Alembic, driven from Python: the only thing that creates or changes the schema."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from vibechat.config import PROJECT_ROOT
from vibechat.db import ensure_sqlite_folder

MIGRATIONS = PROJECT_ROOT / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser treats % as interpolation; URLs may contain it (escaped passwords).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


async def _run(action, url: str, revision: str) -> None:
    """Run an Alembic command on a plain engine of its own, not the app's tuned one:
    on SQLite, foreign keys must stay off while batch mode copies a table, or the copy
    would cascade deletes."""
    ensure_sqlite_folder(url)
    engine = create_async_engine(url)

    def on(connection: Connection) -> None:
        config = alembic_config(url)
        config.attributes["connection"] = connection
        action(config, revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(on)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to revision on the database at url."""
    await _run(command.upgrade, url, revision)


async def downgrade(url: str, revision: str) -> None:
    """Undo migrations down to revision ("base" removes everything)."""
    await _run(command.downgrade, url, revision)


async def is_up_to_date(url: str) -> bool:
    """Whether every migration has been applied to the database at url."""
    ensure_sqlite_folder(url)
    heads = set(ScriptDirectory.from_config(alembic_config(url)).get_heads())
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            applied = await connection.run_sync(
                lambda sync: set(MigrationContext.configure(sync).get_current_heads())
            )
    finally:
        await engine.dispose()
    return applied == heads
