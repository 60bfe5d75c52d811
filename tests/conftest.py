"""Fixtures and hooks only; the helpers they use are in tests/support/.

Fixtures: a fresh migrated database per test, the app, signed-in people, the shared
Redis. Hooks: a skip fails in CI (CI=true), and the markers that make speeds
selectable (README, "Testing").
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from jinja2 import FileSystemBytecodeCache
from playwright.sync_api import Browser, BrowserType, Playwright, sync_playwright
from quart import Quart
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.app import app_config
from tests.support.browser import Console
from tests.support.people import People, Person, create_chat
from tests.support.redis import REDIS_SERVER, RedisServer, started
from tests.support.servers import CHROMIUM, CHROMIUM_ARGS
from tests.support.services import (
    IN_CI,
    POSTGRES_URL,
    SHARED_REDIS,
    postgres_admin,
    postgres_database_url,
    redis_answers,
    skip_or_fail,
)
from vibechat import schema
from vibechat.app import create_app
from vibechat.db import Database
from vibechat.models import Base


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Belt and braces: any skip that slips through (a skip marker, an import skip)
    # is turned into a failure in CI.
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skipped tests; this one said: {report.longrepr}"


# Fixtures that start a process: the tests that use them are marked slow.
PROCESS_FIXTURES = {"own_redis"}


@pytest.hookimpl(tryfirst=True)  # before -m selects and xdist reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        # make test-postgres repeats exactly these: the others run the same either way.
        if "app_database_url" in item.fixturenames:
            item.add_marker(pytest.mark.app_database)
        # Under xdist (make test), a module's browser and slow tests stay on one worker,
        # so the servers and Chromium its module-scoped fixtures start come up once.
        # A test that starts a process through a fixture is slow like one that says so.
        if PROCESS_FIXTURES.intersection(item.fixturenames):
            item.add_marker(pytest.mark.slow)
        # The machine's Redis is one for every worker: its tests go one at a time.
        if "shared_redis" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group("shared_redis"))
        elif item.get_closest_marker("browser") or item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


# -- speed -------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def compiled_templates_shared(tmp_path_factory) -> Iterator[None]:
    """Every test makes a fresh app, and each app's Jinja environment would compile every
    template it renders again. Jinja's bytecode cache keeps what was compiled once for
    every app of this run; a template whose source changes is compiled anew (the cache
    checks the source)."""
    cache = FileSystemBytecodeCache(str(tmp_path_factory.mktemp("jinja")))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Quart, "jinja_options", {**Quart.jinja_options, "bytecode_cache": cache})
        yield


# -- databases ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One migrated SQLite file per run; each test gets a copy of it."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(schema.upgrade(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    path = tmp_path / "vibechat.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(scope="session")
def postgres_database() -> str:
    """A fresh, migrated PostgreSQL database for this run, dropped at the end."""
    name = f"vibechat_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(postgres_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        skip_or_fail(
            f"no PostgreSQL at {POSTGRES_URL} ({type(error).__name__}); start one or set"
            " VIBECHAT_TEST_POSTGRES_URL"
        )
    url = postgres_database_url(name)
    asyncio.run(schema.upgrade(url))
    yield url
    asyncio.run(postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def postgres_url(postgres_database) -> str:
    """The run's PostgreSQL database, emptied before the test."""
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    engine = create_async_engine(postgres_database)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
    return postgres_database


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request) -> str:
    """For database-layer tests: run once on SQLite and once on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
async def database(database_url):
    """A Database on the parametrised backend, for tests below the web layer."""
    db = Database(database_url)
    yield db
    await db.dispose()


# -- the app -----------------------------------------------------------------------------


# VIBECHAT_TEST_DATABASE=postgres runs every app-level test on PostgreSQL instead of
# SQLite (.ci/run does both); the database-layer tests always run on both.
APP_DATABASE = os.environ.get("VIBECHAT_TEST_DATABASE", "sqlite")


@pytest.fixture
def app_database_url(request) -> str:
    """The database the app under test uses: a SQLite copy, or the run's PostgreSQL."""
    if APP_DATABASE not in {"sqlite", "postgres"}:
        pytest.fail(f"VIBECHAT_TEST_DATABASE must be sqlite or postgres, not {APP_DATABASE!r}")
    return request.getfixturevalue(f"{APP_DATABASE}_url")


@pytest.fixture
async def app(app_database_url, tmp_path) -> AsyncIterator:
    app = create_app(app_config(app_database_url, tmp_path), testing=True)
    async with app.test_app():
        yield app


@pytest.fixture
def db(app):
    return app.extensions["db"]


@pytest.fixture
def people(app) -> People:
    return People(app)


@pytest.fixture
async def alice(people) -> Person:
    return await people("alice", "Alice Liddell")


@pytest.fixture
async def bob(people) -> Person:
    return await people("bob", "Bob Dylan")


@pytest.fixture
async def carol(people) -> Person:
    return await people("carol", "Carol Danvers")


@pytest.fixture
async def watercooler(alice, bob) -> int:
    """A group chat owned by alice, with bob in it."""
    return await create_chat(alice, "Watercooler", "bob")


# -- the machine's Redis -----------------------------------------------------------------


@pytest.fixture
def shared_redis() -> str:
    """The URL of the machine's Redis. Every test process sees the same channels and keys
    there, so the tests that use this fixture never run at the same time (the
    xdist_group above); a test that stops or fills Redis starts its own (own_redis)."""
    if not redis_answers(SHARED_REDIS):
        skip_or_fail(f"no Redis at {SHARED_REDIS}; start one or set VIBECHAT_TEST_REDIS_URL")
    return SHARED_REDIS


@pytest.fixture
async def two_processes(shared_redis):
    """Two RedisBrokers on the machine's Redis, standing for two processes."""
    first, second = await started(shared_redis), await started(shared_redis)
    if not (first.connected.is_set() and second.connected.is_set()):
        await first.close()
        await second.close()
        skip_or_fail(f"no Redis at {shared_redis}; start one or set VIBECHAT_TEST_REDIS_URL")
    yield first, second
    await first.close()
    await second.close()


@pytest.fixture
def own_redis(tmp_path) -> Iterator[RedisServer]:
    """A redis-server of the test's own, to stop and start (a slow test: a process)."""
    if not shutil.which("redis-server") and not os.path.exists(REDIS_SERVER):
        skip_or_fail("no redis-server binary (apt-get install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


# -- Chromium (browser tests) --------------------------------------------------------------
# Debian's Chromium, and a Playwright that lives for one module at a time: pytest-playwright's
# `playwright` fixture lives for the whole session, and while the sync API is started its
# event loop counts as running in this thread, so every asyncio.run() after a browser
# module (the other modules' async fixtures) would fail with "cannot be called from a
# running event loop". These fixtures, being conftest's, replace the plugin's.


@pytest.fixture(scope="session")
def chromium_executable() -> str:
    if not Path(CHROMIUM).exists():
        skip_or_fail(
            f"no Chromium at {CHROMIUM}; install it with `apt-get install chromium`"
            " (do not run `playwright install`)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_executable) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": chromium_executable,
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="module")
def playwright(_pw_api_request_contexts) -> Iterator[Playwright]:
    pw = sync_playwright().start()
    if _pw_api_request_contexts:
        _pw_api_request_contexts.instrument(pw)
    yield pw
    pw.stop()


@pytest.fixture(scope="module")
def browser_type(playwright, browser_name) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture(scope="module")
def browser(browser_type, browser_type_launch_args) -> Iterator[Browser]:
    browser = browser_type.launch(**browser_type_launch_args)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def browser_context_args(playwright, device) -> dict:
    """pytest-playwright's, at module scope and without base_url: the pages of a module
    reach its server directly, through a proxy, or from another origin, so each context
    names its own (tests/test_browser.py gives every context its server's)."""
    return dict(playwright.devices[device]) if device else {}


@pytest.fixture
def consoles(request) -> Iterator[list[Console]]:
    """The console watch of each page a test opens (tests/support/browser.py)."""
    watched: list[Console] = []
    yield watched
    tolerated = [line for console in watched for line in console.tolerated]
    if tolerated:
        print(f"\n{request.node.name}: {len(tolerated)} tolerated network error(s) during outages:")
        for line in tolerated[:12]:
            print("   ", line)
