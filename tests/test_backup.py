"""`vibechat backup PATH`: an online copy of the SQLite database, and restoring it."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import subprocess
import threading
import uuid
from contextlib import closing

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.cli import vibechat_cli
from tests.support.services import POSTGRES_URL, postgres_admin, skip_or_fail

TABLES = ("users", "sessions", "chats", "memberships", "messages")


def rows(path) -> dict[str, list[tuple]]:
    with closing(sqlite3.connect(path)) as connection:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()  # noqa: S608
            for table in TABLES
        }


def seeded(tmp_path):
    assert vibechat_cli("migrate", instance=tmp_path).returncode == 0
    assert vibechat_cli("seed", instance=tmp_path).returncode == 0
    [database] = tmp_path.glob("*.sqlite3")
    return database


def test_a_backup_holds_every_row_and_passes_the_integrity_check(tmp_path):
    database = seeded(tmp_path)
    target = tmp_path / "backup.sqlite3"
    made = vibechat_cli("backup", str(target), instance=tmp_path)
    assert made.returncode == 0, made.stderr
    assert "integrity ok" in made.stdout
    assert rows(target) == rows(database)
    assert sum(len(table) for table in rows(target).values()) > 10
    with closing(sqlite3.connect(target)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_restoring_a_backup_brings_back_that_moment(tmp_path):
    """Restore as the README says: stop the server, copy the backup over the database."""
    database = seeded(tmp_path)
    target = tmp_path / "backup.sqlite3"
    assert vibechat_cli("backup", str(target), instance=tmp_path).returncode == 0
    before = rows(database)
    with closing(sqlite3.connect(database)) as connection, connection:
        connection.execute("DELETE FROM messages")
    assert rows(database)["messages"] == []
    for leftover in tmp_path.glob("*.sqlite3-*"):  # the server is stopped: no WAL left
        leftover.unlink()
    shutil.copyfile(target, database)
    assert rows(database) == before
    migrated = vibechat_cli("migrate", instance=tmp_path)  # and the app takes it as it is
    assert migrated.returncode == 0, migrated.stderr


def test_a_backup_taken_while_someone_writes_is_whole(tmp_path):
    database = seeded(tmp_path)
    stop = threading.Event()

    def write() -> None:
        with closing(sqlite3.connect(database)) as connection:
            while not stop.is_set():
                connection.execute("UPDATE users SET last_seen_at = CURRENT_TIMESTAMP")
                connection.commit()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        made = vibechat_cli("backup", str(tmp_path / "busy.sqlite3"), instance=tmp_path)
    finally:
        stop.set()
        writer.join()
    assert made.returncode == 0, made.stderr
    assert len(rows(tmp_path / "busy.sqlite3")["messages"]) == len(rows(database)["messages"])


def test_bad_targets_are_refused_and_nothing_is_written(tmp_path):
    seeded(tmp_path)
    existing = tmp_path / "existing.sqlite3"
    existing.write_bytes(b"keep me")
    refused = vibechat_cli("backup", str(existing), instance=tmp_path)
    assert refused.returncode == 1
    assert "exists already" in refused.stderr
    assert existing.read_bytes() == b"keep me"
    nowhere = vibechat_cli("backup", str(tmp_path / "no" / "such" / "b.sqlite3"), instance=tmp_path)
    assert nowhere.returncode == 1 and "no folder" in nowhere.stderr
    assert not (tmp_path / "no").exists()


def test_without_a_database_or_on_postgresql_it_says_what_to_do(tmp_path):
    empty = vibechat_cli("backup", str(tmp_path / "b.sqlite3"), instance=tmp_path)
    assert empty.returncode == 1 and "there is no database" in empty.stderr
    assert not (tmp_path / "b.sqlite3").exists()
    postgres = vibechat_cli(
        "backup",
        str(tmp_path / "b.sqlite3"),
        instance=tmp_path,
        VIBECHAT_DATABASE_URL="postgresql+asyncpg://postgres@127.0.0.1/test",
    )
    assert postgres.returncode == 1 and "pg_dump" in postgres.stderr
    assert not (tmp_path / "b.sqlite3").exists()


def test_help_names_the_backup_command(tmp_path):
    helped = vibechat_cli("--help", instance=tmp_path)
    assert "backup" in helped.stdout


# -- PostgreSQL: the commands the README documents -----------------------------------------


async def postgres_rows(url: str) -> dict[str, list[tuple]]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return {
                table: [
                    tuple(row)
                    for row in await connection.execute(
                        text(f"SELECT * FROM {table} ORDER BY 1, 2")  # noqa: S608 - our table names
                    )
                ]
                for table in TABLES
            }
    finally:
        await engine.dispose()


@pytest.mark.slow  # pg_dump and pg_restore
async def test_the_documented_pg_dump_and_pg_restore_bring_every_row_back(tmp_path):
    tools = {name: shutil.which(name) for name in ("pg_dump", "pg_restore")}
    if not all(tools.values()):
        skip_or_fail("pg_dump or pg_restore is missing: apt-get install postgresql-client")
    name = f"vibechat_restore_{uuid.uuid4().hex[:12]}"
    try:
        await postgres_admin(f'CREATE DATABASE "{name}"')
    except Exception as error:
        skip_or_fail(f"no PostgreSQL at {POSTGRES_URL} ({type(error).__name__})")
    url = make_url(POSTGRES_URL).set(database=name)
    app_url = url.render_as_string(hide_password=False)
    # What pg_dump and pg_restore take: the same database, as a libpq URL.
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        for command in ("migrate", "seed"):
            done = vibechat_cli(command, instance=tmp_path, VIBECHAT_DATABASE_URL=app_url)
            assert done.returncode == 0, done.stderr
        before = await postgres_rows(app_url)
        assert sum(len(table) for table in before.values()) > 10
        dump = tmp_path / "vibechat.dump"
        await asyncio.to_thread(
            subprocess.run, [tools["pg_dump"], "-Fc", "-d", libpq, "-f", str(dump)], check=True
        )

        engine = create_async_engine(app_url)  # a mistake to recover from
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM messages"))
        await engine.dispose()
        assert await postgres_rows(app_url) != before

        await asyncio.to_thread(
            subprocess.run,
            [tools["pg_restore"], "-d", libpq, "--clean", str(dump)],
            check=True,
            capture_output=True,
        )
        assert await postgres_rows(app_url) == before
        migrated = vibechat_cli("migrate", instance=tmp_path, VIBECHAT_DATABASE_URL=app_url)
        assert migrated.returncode == 0, migrated.stderr
    finally:
        await postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
