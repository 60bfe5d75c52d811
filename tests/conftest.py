"""Fixtures: a fresh migrated database per test, the app, signed-in people.

Outside CI a test whose service (PostgreSQL, Chromium) is missing is skipped with a
reason that says how to get it. In CI (CI=true) nothing may be skipped: a skip fails.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from vibechat import queries, schema
from vibechat.app import create_app
from vibechat.config import Settings, load_settings
from vibechat.db import Database
from vibechat.models import Base, Chat, Membership, Message, User

# Debian's Chromium and module-scoped Playwright for the browser tests.
pytest_plugins = ["tests.browser_fixtures"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
POSTGRES_URL = os.environ.get(
    "VIBECHAT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PASSWORD = "correct horse battery"
TEST_SECRET = "test-secret-key-not-for-production"


def skip_or_fail(reason: str) -> None:
    """Skip outside CI; in CI a missing service is a failure, never a quiet skip."""
    if IN_CI:
        pytest.fail(f"CI=true and a required service is missing: {reason}")
    pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Belt and braces: any skip that slips through (a skip marker, an import skip)
    # is turned into a failure in CI.
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"CI=true forbids skipped tests; this one said: {report.longrepr}"


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


async def _postgres_admin(statement: str) -> None:
    engine = create_async_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_database() -> str:
    """A fresh, migrated PostgreSQL database for this run, dropped at the end."""
    name = f"vibechat_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_postgres_admin(f'CREATE DATABASE "{name}"'))
    except Exception as error:
        skip_or_fail(
            f"no PostgreSQL at {POSTGRES_URL} ({type(error).__name__}); start one or set"
            " VIBECHAT_TEST_POSTGRES_URL"
        )
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    asyncio.run(schema.upgrade(url))
    yield url
    asyncio.run(_postgres_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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


async def make_user(db: Database, username: str):
    async with db.write() as session:
        user = await queries.create_user(session, username, username.title(), "not-a-hash")
        await session.commit()
    return user


async def make_group(db: Database, owner, title="Watercooler", members=()):
    async with db.write() as session:
        chat = await queries.create_group_chat(session, owner, title, list(members))
        await session.commit()
    return chat


async def post(db: Database, chat_id: int, author, body: str, token: str | None = None):
    async with db.write() as session:
        membership = await queries.membership_in(session, chat_id, author, lock=True)
        message, created = await queries.post_message(session, membership.chat, author, body, token)
        await session.commit()
    return message, created


# -- the app -----------------------------------------------------------------------------


def app_config(url: str, instance: Path, **extra) -> Settings:
    """Settings for a test's app (extra: VIBECHAT_* overrides). Tests post and sign in
    at machine speed, so rate limits are off unless a test (tests/test_rate_limits.py)
    turns them on with VIBECHAT_RATE_LIMITS=True. Pass the app testing=True too."""
    return load_settings(
        overrides={
            "VIBECHAT_DATABASE_URL": url,
            "VIBECHAT_INSTANCE_PATH": str(instance),
            "VIBECHAT_SECRET_KEY": TEST_SECRET,
            "VIBECHAT_RATE_LIMITS": False,
            **extra,
        }
    )


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


def html(body: bytes | str) -> HTMLParser:
    return HTMLParser(body if isinstance(body, str) else body.decode())


def csrf_from(body: bytes | str) -> str:
    node = html(body).css_first('input[name="csrf_token"]')
    assert node is not None, "page has no csrf_token field"
    return node.attributes["value"]


@dataclass
class Person:
    """A test client signed in (or not) as someone, with their CSRF token at hand."""

    client: object
    username: str
    token: str = ""
    pages: list = field(default_factory=list)

    async def refresh_token(self, path: str = "/chats") -> str:
        response = await self.client.get(path)
        self.token = csrf_from(await response.get_data())
        return self.token

    async def get(self, path: str, **kwargs):
        return await self.client.get(path, **kwargs)

    async def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kwargs):
        form = dict(data or {})
        if csrf and "csrf_token" not in form:
            form["csrf_token"] = self.token or await self.refresh_token()
        return await self.client.post(path, form=form, **kwargs)

    async def page(self, path: str) -> HTMLParser:
        response = await self.client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return html(await response.get_data())


class People:
    """Makes signed-in people by name: await people("alice")."""

    def __init__(self, app) -> None:
        self.app = app
        self.known: dict[str, Person] = {}

    def anonymous(self) -> Person:
        return Person(self.app.test_client(), "")

    async def __call__(self, username: str, display_name: str | None = None) -> Person:
        if username in self.known:
            return self.known[username]
        person = self.anonymous()
        person.username = username
        await person.refresh_token("/register")
        response = await person.post(
            "/register",
            {
                "username": username,
                "display_name": display_name or username.capitalize(),
                "password": PASSWORD,
            },
        )
        assert response.status_code == 303, await response.get_data()
        await person.refresh_token()
        self.known[username] = person
        return person


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


async def create_chat(person: Person, title: str, members: str = "") -> int:
    """Create a group chat through the form; return its id."""
    response = await person.post("/chats", {"title": title, "members": members})
    assert response.status_code == 303, await response.get_data()
    return int(response.headers["Location"].rsplit("/", 1)[1])


async def send(person: Person, chat_id: int, body: str, client_token: str | None = None):
    data = {"body": body}
    if client_token is not None:
        data["client_token"] = client_token
    return await person.post(f"/chats/{chat_id}/messages", data)


@pytest.fixture
async def watercooler(alice, bob) -> int:
    """A group chat owned by alice, with bob in it."""
    return await create_chat(alice, "Watercooler", "bob")


# -- shared assertions -------------------------------------------------------------------


async def count(db, model, *where) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of the chat tables, to show that a refused request changed nothing."""
    tables = (Chat.__table__, Membership.__table__, Message.__table__)
    rows = {}
    async with db.read() as session:
        for table in tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in await session.execute(query)]
    return rows


async def user_id(db, username: str) -> int:
    async with db.read() as session:
        return await session.scalar(select(User.id).where(User.username_key == username))


def field_error(page, name: str) -> str:
    """The error shown for a field, checked to sit next to it and be tied to it."""
    control = page.css_first(f"#{name}")
    error = page.css_first(f"#{name}-error")
    assert error is not None, f"no #{name}-error on the page"
    assert control.parent.css_first(f"#{name}-error") is not None, "error is not by its field"
    assert f"{name}-error" in control.attributes["aria-describedby"].split()
    assert control.attributes["aria-invalid"] == "true"
    return error.text()


# -- shared guards: visitors, strangers, CSRF ---------------------------------------------


async def sign_in_again(people, username: str) -> Person:
    """A second browser signed in as the same person (a separate session)."""
    person = people.anonymous()
    person.username = username
    await person.refresh_token("/login")
    response = await person.post("/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 303
    await person.refresh_token()
    return person


async def assert_visitors_go_to_login(people, db, url: str, data: dict) -> None:
    """A signed-out browser (with a valid anonymous token) is sent to log in; nothing changes."""
    anonymous = people.anonymous()
    await anonymous.refresh_token("/login")
    before = await snapshot(db)
    response = await anonymous.post(url, data)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    assert await snapshot(db) == before


async def assert_stranger_sees_404(stranger, db, method: str, path: str, chat_id: int, data):
    """A chat someone is not in answers exactly like a chat that does not exist."""
    before = await snapshot(db)
    answers = []
    for target in (chat_id, 999_999):
        url = path.format(chat=target)
        response = await (stranger.get(url) if method == "GET" else stranger.post(url, data))
        answers.append((response.status_code, await response.get_data()))
    assert answers[0][0] == 404
    assert answers[0] == answers[1]
    assert html(answers[0][1]).css_first("h1").text() == "Not found"
    assert await snapshot(db) == before
    return answers[0][1]


async def assert_needs_this_sessions_token(people, person, someone_else, db, url, data) -> None:
    """Missing, wrong, someone else's and another session's tokens: 403, nothing changed."""
    other_session = await sign_in_again(people, person.username)
    tokens = {
        "wrong": "0" * 64,
        "someone else's": someone_else.token,
        "another session's": other_session.token,
    }
    before = await snapshot(db)
    for kind in ["missing", *tokens]:
        form = dict(data)
        if kind in tokens:
            form["csrf_token"] = tokens[kind]
            assert form["csrf_token"] != person.token
        response = await person.post(url, form, csrf=kind != "missing")
        assert response.status_code == 403, kind
        assert await snapshot(db) == before, kind


def foreign_scripts(page) -> list:
    """<script> elements that are not one of our own static files: user text that
    turned into markup would show up here."""
    return [
        script
        for script in page.css("script")
        if not script.attributes.get("src", "").startswith("/static/") or script.text().strip()
    ]
