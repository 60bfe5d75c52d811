"""The services the tests use (PostgreSQL, Redis), and what happens when one is missing.

Outside CI a test whose service is missing is skipped with a reason that says how to
get it. In CI (CI=true) nothing may be skipped: a skip fails (tests/conftest.py turns
any skip that slips through into a failure too).
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get(
    "VIBECHAT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# The machine's Redis, shared by every test process: tests that use it (the
# shared_redis fixture) run one at a time, see tests/conftest.py.
SHARED_REDIS = os.environ.get("VIBECHAT_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; in CI a missing service is a failure, never a quiet skip."""
    if IN_CI:
        pytest.fail(f"CI=true and a required service is missing: {reason}")
    pytest.skip(reason)


async def postgres_admin(statement: str) -> None:
    """One statement (CREATE or DROP DATABASE) outside any transaction."""
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def postgres_database_url(name: str) -> str:
    """POSTGRES_URL with another database name, password and all."""
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def redis_answers(url: str = SHARED_REDIS) -> bool:
    """Whether a Redis server listens at the URL's address."""
    address = urlsplit(url)
    try:
        with socket.create_connection((address.hostname, address.port or 6379), timeout=1):
            return True
    except OSError:
        return False
