"""Alembic, driven from Python: the only thing that creates or changes the schema."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
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


def _upgrade_on(connection: Connection, url: str, revision: str) -> None:
    config = alembic_config(url)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to revision on the database at url.

    A plain engine of its own, not the app's tuned one: on SQLite, foreign keys must be
    off while batch mode copies a table, or the copy would cascade deletes.
    """
    ensure_sqlite_folder(url)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade_on, url, revision)
    finally:
        await engine.dispose()
