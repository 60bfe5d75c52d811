"""The engine and its sessions: created in before_serving, disposed in after_serving."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# Execution option that marks a session as a writer (see _sqlite_begin).
_WRITER = "vibechat_writer"

SQLITE_BUSY_TIMEOUT_MS = 5000


class Database:
    """One engine, with a session factory for reading and one for writing."""

    def __init__(self, url: str) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine: AsyncEngine = create_async_engine(self.url, pool_pre_ping=not self.is_sqlite)
        if self.is_sqlite:
            ensure_sqlite_folder(url)
            _tune_sqlite(self.engine)
        self._readers = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writers = async_sessionmaker(
            self.engine, expire_on_commit=False, execution_options={_WRITER: True}
        )
        # SQLite has one writer at a time. Writers of this process wait their turn here,
        # in the event loop, rather than in SQLite's busy handler: that sleeps and
        # retries in a thread, and while the loop is busy fanning out a broadcast, the
        # writer holding the lock is slow to finish, so the others can time out
        # ("database is locked") even though each write takes a millisecond.
        self._one_writer = asyncio.Lock() if self.is_sqlite else None

    def read(self) -> AsyncSession:
        """A session for queries only; on SQLite it never blocks a writer (WAL)."""
        return self._readers()

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A session that changes data; on SQLite it takes the write lock at its first query."""
        if self._one_writer is None:
            async with self._writers() as session:
                yield session
            return
        async with self._one_writer, self._writers() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


def ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder (the instance folder on a fresh clone)."""
    parsed = make_url(url)
    database = parsed.database
    is_file = database and database != ":memory:" and not database.startswith("file:")
    if parsed.get_backend_name() == "sqlite" and is_file:
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and write transactions that lock up front.

    pysqlite's own transaction handling begins lazily and DEFERRED, so two writers can
    both read a chat's last_seq and then fail to upgrade their locks ("database is
    locked"). We switch that off and emit BEGIN ourselves: BEGIN IMMEDIATE for writers,
    so they queue on the busy timeout instead, and a plain BEGIN for readers.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(connection) -> None:
        writer = connection.get_execution_options().get(_WRITER, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")
