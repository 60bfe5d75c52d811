"""The vibechat command: help, migrate and seed on a fresh instance folder."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.app import app_config
from tests.support.cli import in_english, vibechat_cli
from tests.support.people import People, create_chat, send
from vibechat import schema
from vibechat.app import create_app
from vibechat.models import Base, Chat, Message, User

COMMANDS = (
    "migrate",
    "serve",
    "seed",
    "copy-to",
    "backup",
    "create-user",
    "reset-password",
    "deactivate-user",
    "reactivate-user",
)


def test_help_lists_every_command_with_a_line_about_it(tmp_path):
    result = vibechat_cli("--help", instance=tmp_path)
    assert result.returncode == 0
    listed = {}
    lines = result.stdout.splitlines()
    for number, line in enumerate(lines):
        words = line.split(maxsplit=1)
        if words and words[0] in COMMANDS:
            # argparse puts the help beside a short name, on the next line after a long one.
            listed[words[0]] = words[1] if len(words) > 1 else lines[number + 1].strip()
    assert set(listed) == set(COMMANDS)
    assert all(description for description in listed.values()), listed


async def test_migrate_then_seed_gives_people_and_chats_to_try(tmp_path):
    assert vibechat_cli("migrate", instance=tmp_path).returncode == 0
    seeded = vibechat_cli("seed", instance=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "vibechat-demo" in seeded.stdout
    again = vibechat_cli("seed", instance=tmp_path)
    assert "exist already" in again.stdout

    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'vibechat.sqlite3'}")
    try:
        async with engine.connect() as connection:
            users = (await connection.execute(select(User.username))).scalars().all()
            chats = (await connection.execute(select(Chat.kind))).scalars().all()
    finally:
        await engine.dispose()
    assert sorted(users) == ["alice", "bob", "carol", "dave"]
    assert sorted(chats) == ["direct", "group"]


@pytest.mark.slow  # the real entry point, as a process
def test_a_bad_setting_is_reported_plainly(tmp_path):
    env_instance = tmp_path
    result = subprocess.run(
        [sys.executable, "-m", "vibechat.commands.cli", "migrate"],
        env={
            **in_english(os.environ),
            "VIBECHAT_INSTANCE_PATH": str(env_instance),
            "VIBECHAT_LOG_FORMAT": "xml",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "VIBECHAT_LOG_FORMAT" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow  # the real entry point, as a process
def test_serve_starts_hypercorn_on_the_configured_port_without_the_venv_on_path(tmp_path):
    """make run calls .venv/bin/vibechat directly: hypercorn must be found all the same."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert vibechat_cli("migrate", instance=tmp_path).returncode == 0
    env = {
        "PATH": "/usr/bin:/bin",
        "VIBECHAT_INSTANCE_PATH": str(tmp_path),
        "VIBECHAT_HOST": "127.0.0.1",
        "VIBECHAT_PORT": str(port),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "vibechat.commands.cli", "serve"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            assert server.poll() is None, server.stdout.read().decode()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "vibechat serve did not answer in 20 s"
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.slow  # the real entry point, as a process
def test_serve_refuses_several_workers_without_redis(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "vibechat.commands.cli", "serve"],
        env={
            **{k: v for k, v in in_english(os.environ).items() if not k.startswith("VIBECHAT_")},
            "VIBECHAT_INSTANCE_PATH": str(tmp_path),
            "VIBECHAT_WORKERS": "2",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "VIBECHAT_WORKERS=2 needs VIBECHAT_REDIS_URL" in result.stderr
    assert "Traceback" not in result.stderr


async def test_copy_to_moves_a_sqlite_install_to_postgresql(tmp_path, postgres_url):
    """The documented move: seed SQLite, copy it into an empty PostgreSQL, compare every
    row, then keep using it (new ids continue after the copied ones)."""
    assert vibechat_cli("migrate", instance=tmp_path).returncode == 0
    assert vibechat_cli("seed", instance=tmp_path).returncode == 0
    # A deactivated account stays deactivated after the move (users.deactivated_at).
    assert vibechat_cli("deactivate-user", "dave", instance=tmp_path).returncode == 0
    await schema.downgrade(postgres_url, "base")  # as a brand-new, empty database

    copied = vibechat_cli("copy-to", postgres_url, instance=tmp_path)
    assert copied.returncode == 0, copied.stderr
    assert "messages: " in copied.stdout and "Copied " in copied.stdout

    source = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'vibechat.sqlite3'}")
    target = create_async_engine(postgres_url)
    try:
        for table in Base.metadata.sorted_tables:
            query = select(table).order_by(*table.primary_key)
            async with source.connect() as a, target.connect() as b:
                rows = (await a.execute(query)).all()
                assert rows == (await b.execute(query)).all(), table.name
                assert rows or table.name == "sessions", f"nothing seeded in {table.name}"
        async with target.connect() as b:
            deactivated = await b.scalar(
                select(User.username).where(User.deactivated_at.is_not(None))
            )
        assert deactivated == "dave"
    finally:
        await source.dispose()
        await target.dispose()

    # Copying again into a database that now has rows is refused and changes nothing.
    again = vibechat_cli("copy-to", postgres_url, instance=tmp_path)
    assert again.returncode == 1
    assert "already has rows" in again.stderr

    app = create_app(app_config(postgres_url, tmp_path / "pg"), testing=True)
    async with app.test_app():
        db = app.extensions["db"]
        async with db.read() as session:
            before = await session.scalar(select(func.count()).select_from(Message))
        erin = await People(app)("erin")
        chat = await create_chat(erin, "After the move")
        assert (await send(erin, chat, "new ids after the copied ones")).status_code == 303
        async with db.read() as session:
            assert await session.scalar(select(func.count()).select_from(Message)) == before + 1
