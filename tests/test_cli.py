"""The vibechat command: help, migrate and seed on a fresh instance folder."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from vibechat.models import Chat, User


def run_cli(*args: str, instance) -> subprocess.CompletedProcess:
    env = {**os.environ, "VIBECHAT_INSTANCE_PATH": str(instance)}
    env.pop("VIBECHAT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "vibechat.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_lists_the_commands(tmp_path):
    result = run_cli("--help", instance=tmp_path)
    assert result.returncode == 0
    for command in ("migrate", "serve", "seed"):
        assert command in result.stdout


async def test_migrate_then_seed_gives_people_and_chats_to_try(tmp_path):
    assert run_cli("migrate", instance=tmp_path).returncode == 0
    seeded = run_cli("seed", instance=tmp_path)
    assert seeded.returncode == 0, seeded.stderr
    assert "vibechat-demo" in seeded.stdout
    again = run_cli("seed", instance=tmp_path)
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


def test_a_bad_setting_is_reported_plainly(tmp_path):
    env_instance = tmp_path
    result = subprocess.run(
        [sys.executable, "-m", "vibechat.cli", "migrate"],
        env={
            **os.environ,
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
