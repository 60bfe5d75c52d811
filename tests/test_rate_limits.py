"""Rate limits: login and register per address and per username, messages per person,
socket frames per connection; 429 with Retry-After, nothing changed, and the defaults
let real use through (SPEC §8)."""

from __future__ import annotations

import json
import socket
import uuid

import pytest
from sqlalchemy import func, select

from tests.support.app import app_config
from tests.support.db import count, snapshot
from tests.support.html import html
from tests.support.live import live
from tests.support.people import PASSWORD, People, create_chat, send
from vibechat.app import create_app
from vibechat.config import SETTINGS
from vibechat.models import Message, Session, User


@pytest.fixture
def limits() -> dict:
    """Settings for this test's app; rate limits on, each test tightens what it needs."""
    return {}


@pytest.fixture
async def app(app_database_url, tmp_path, limits):
    settings = {"VIBECHAT_RATE_LIMITS": True, **limits}
    app = create_app(app_config(app_database_url, tmp_path, **settings), testing=True)
    async with app.test_app():
        yield app


def assert_too_many(response) -> int:
    assert response.status_code == 429
    seconds = int(response.headers["Retry-After"])
    assert seconds >= 1
    return seconds


async def fail_login(person, username: str, headers: dict | None = None):
    return await person.post(
        "/login", {"username": username, "password": "not the password"}, headers=headers or {}
    )


async def fresh_visitor(people, path: str = "/login"):
    visitor = people.anonymous()
    await visitor.refresh_token(path)
    return visitor


# -- the defaults ------------------------------------------------------------------------


def test_the_defaults_are_no_stricter_than_the_spec_allows():
    from limits import parse

    defaults = {setting.name: setting.default for setting in SETTINGS}

    def per_second(name: str) -> float:
        item = parse(defaults[name])
        return item.amount / item.get_expiry()

    assert defaults["VIBECHAT_RATE_LIMITS"] is True
    assert per_second("VIBECHAT_LIMIT_LOGIN_USERNAME") >= 10 / 180
    assert per_second("VIBECHAT_LIMIT_REGISTER_ADDRESS") >= 20 / 3600
    assert per_second("VIBECHAT_LIMIT_MESSAGES") >= 30 / 10


# -- sign-in -----------------------------------------------------------------------------


async def test_ten_failed_logins_for_a_username_lock_it_for_a_while(people, alice, db):
    visitor = await fresh_visitor(people)
    for _ in range(10):
        assert (await fail_login(visitor, "alice")).status_code == 401
    sessions = await count(db, Session)

    refused = await fail_login(visitor, "alice")
    seconds = assert_too_many(refused)
    assert seconds <= 180
    page = html(await refused.get_data())
    assert "Too many tries" in page.css_first("#login-error").text()
    assert page.css_first("#username").attributes["value"] == "alice"
    # Even the right password is refused now, and no session is started.
    right = await visitor.post("/login", {"username": "ALICE", "password": PASSWORD})
    assert_too_many(right)
    assert await count(db, Session) == sessions
    # Other usernames from the same address still get their tries.
    assert (await fail_login(visitor, "bob")).status_code == 401


async def test_successful_logins_do_not_count(people, alice):
    visitor = await fresh_visitor(people)
    for _ in range(12):
        response = await visitor.post("/login", {"username": "alice", "password": PASSWORD})
        assert response.status_code == 303
        await visitor.client.post("/logout", form={"csrf_token": await visitor.refresh_token()})
        await visitor.refresh_token("/login")


@pytest.mark.parametrize("limits", [{"VIBECHAT_LIMIT_LOGIN_ADDRESS": "3 per minute"}])
async def test_failed_logins_are_limited_per_address_across_usernames(people, alice):
    visitor = await fresh_visitor(people)
    for name in ("one", "two", "three"):
        assert (await fail_login(visitor, name)).status_code == 401
    assert_too_many(await fail_login(visitor, "four"))


@pytest.mark.parametrize("limits", [{"VIBECHAT_LIMIT_LOGIN_ADDRESS": "3 per minute"}])
async def test_a_forged_forwarded_for_does_not_escape_the_address_limit(people, alice):
    """With no trusted proxy, X-Forwarded-For is the attacker's to write: ignored."""
    visitor = await fresh_visitor(people)
    for n in range(3):
        forged = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert (await fail_login(visitor, f"user{n}", forged)).status_code == 401
    assert_too_many(await fail_login(visitor, "user9", {"X-Forwarded-For": "198.51.100.77"}))


@pytest.mark.parametrize(
    "limits", [{"VIBECHAT_LIMIT_LOGIN_ADDRESS": "3 per minute", "VIBECHAT_PROXY_HOPS": 1}]
)
async def test_behind_a_trusted_proxy_each_client_address_counts_apart(people, alice):
    visitor = await fresh_visitor(people)
    first = {"X-Forwarded-For": "198.51.100.1"}
    for n in range(3):
        assert (await fail_login(visitor, f"user{n}", first)).status_code == 401
    assert_too_many(await fail_login(visitor, "user9", first))
    second = {"X-Forwarded-For": "198.51.100.2"}
    assert (await fail_login(visitor, "user9", second)).status_code == 401


async def test_wrong_current_passwords_count_as_failed_logins(people, alice, db):
    async with db.read() as session:
        before = await session.scalar(select(User.password_hash).where(User.username == "alice"))
    for _ in range(10):
        response = await alice.post(
            "/account/password",
            {"current_password": "a wrong guess", "new_password": "new password 123"},
        )
        assert response.status_code == 422
    response = await alice.post(
        "/account/password", {"current_password": PASSWORD, "new_password": "new password 123"}
    )
    assert_too_many(response)
    async with db.read() as session:
        after = await session.scalar(select(User.password_hash).where(User.username == "alice"))
    assert after == before
    visitor = await fresh_visitor(people)
    assert_too_many(await visitor.post("/login", {"username": "alice", "password": PASSWORD}))


# -- sign-up -----------------------------------------------------------------------------


async def register(person, username: str, password: str = PASSWORD):
    return await person.post(
        "/register", {"username": username, "display_name": "", "password": password}
    )


@pytest.mark.parametrize("limits", [{"VIBECHAT_LIMIT_REGISTER_ADDRESS": "3 per hour"}])
async def test_sign_ups_are_limited_per_address(people, db):
    visitor = await fresh_visitor(people, "/register")
    for n in range(3):
        visitor.client.cookie_jar.clear()
        await visitor.refresh_token("/register")
        assert (await register(visitor, f"person{n}")).status_code == 303
    visitor.client.cookie_jar.clear()
    await visitor.refresh_token("/register")
    seconds = assert_too_many(await register(visitor, "person9"))
    assert 3500 < seconds <= 3600
    assert await count(db, User) == 3


async def test_twenty_sign_ups_an_hour_from_one_address_get_through(people, db):
    for n in range(20):
        visitor = await fresh_visitor(people, "/register")
        assert (await register(visitor, f"member{n}")).status_code == 303
    visitor = await fresh_visitor(people, "/register")
    assert_too_many(await register(visitor, "member20"))
    assert await count(db, User) == 20


@pytest.mark.parametrize("limits", [{"VIBECHAT_LIMIT_REGISTER_USERNAME": "2 per minute"}])
async def test_sign_up_attempts_are_limited_per_username(people, db):
    visitor = await fresh_visitor(people, "/register")
    for _ in range(2):
        assert (await register(visitor, "Erin", password="short")).status_code == 422
    assert_too_many(await register(visitor, "erin"))
    assert await count(db, User) == 0


# -- messages ----------------------------------------------------------------------------


@pytest.mark.parametrize("limits", [{"VIBECHAT_LIMIT_MESSAGES": "5 per 10 seconds"}])
async def test_posting_too_fast_is_refused_with_the_text_kept(alice, bob, db):
    chat = await create_chat(alice, "Watercooler", "bob")
    for n in range(5):
        assert (await send(alice, chat, f"message {n}")).status_code == 303
    await alice.get(f"/chats/{chat}")  # read up to here, as the refusal's page will mark
    before = await snapshot(db)
    refused = await send(alice, chat, "one too many")
    assert_too_many(refused)
    page = html(await refused.get_data())
    assert page.css_first("#body").text() == "one too many"
    assert "Too many tries" in page.css_first("#body-error").text()
    # Sent back focused, so the error is in view and read out with the field (issue 15).
    assert "autofocus" in page.css_first("#body").attributes
    assert await snapshot(db) == before
    # htmx posts get the same refusal, which app.js answers by waiting Retry-After.
    htmx = await alice.post(
        f"/chats/{chat}/messages", {"body": "again"}, headers={"HX-Request": "true"}
    )
    assert_too_many(htmx)
    # The limit is per person: bob still talks.
    assert (await send(bob, chat, "my turn")).status_code == 303


@pytest.mark.parametrize("limits", [{"VIBECHAT_LIMIT_MESSAGES": "2 per 10 seconds"}])
async def test_edits_count_against_the_message_limit(alice, db):
    chat = await create_chat(alice, "Notes")
    assert (await send(alice, chat, "first")).status_code == 303
    edit = await alice.post(f"/chats/{chat}/messages/1/edit", {"body": "first, edited"})
    assert edit.status_code == 303
    before = await snapshot(db)
    refused = await alice.post(f"/chats/{chat}/messages/1/edit", {"body": "edited again"})
    assert_too_many(refused)
    assert await snapshot(db) == before


async def test_thirty_messages_in_ten_seconds_get_through(alice, db):
    chat = await create_chat(alice, "Chatty")
    for n in range(30):
        assert (await send(alice, chat, f"burst {n}")).status_code == 303
    assert_too_many(await send(alice, chat, "burst 30"))
    assert await count(db, Message) == 30


@pytest.mark.parametrize("limits", [{"VIBECHAT_RATE_LIMITS": False}])
async def test_rate_limits_off_lets_everything_through(people, alice, db):
    visitor = await fresh_visitor(people)
    for _ in range(15):
        assert (await fail_login(visitor, "alice")).status_code == 401
    chat = await create_chat(alice, "Flood")
    for n in range(40):
        assert (await send(alice, chat, f"flood {n}")).status_code == 303


# -- socket frames -----------------------------------------------------------------------


@pytest.mark.parametrize("limits", [{"VIBECHAT_LIMIT_SOCKET_FRAMES": "3 per minute"}])
async def test_socket_frames_beyond_the_limit_are_ignored(alice, bob):
    chat = await create_chat(alice, "Watercooler", "bob")
    other = await create_chat(alice, "Elsewhere", "bob")
    async with live(alice.client) as alice_ws, live(bob.client) as bob_ws:
        await alice_ws.send(json.dumps({"typing": chat}))  # 1: within the limit
        await bob_ws.until(f"#typing-{chat}")
        await alice_ws.send("noise")  # 2
        await alice_ws.send("x" * 5000)  # 3: oversized frames count too
        await alice_ws.send(json.dumps({"typing": other}))  # 4: ignored
        await bob_ws.quiet(f"#typing-{other}", within=0.5)


# -- shared counts in Redis --------------------------------------------------------------


async def test_with_redis_every_process_shares_one_count(app_database_url, tmp_path, shared_redis):
    settings = {
        "VIBECHAT_RATE_LIMITS": True,
        "VIBECHAT_REDIS_URL": shared_redis,
        "VIBECHAT_LIMIT_LOGIN_USERNAME": "4 per minute",
    }
    username = f"shared-{uuid.uuid4().hex[:12]}"  # a key no other run has used
    first = create_app(app_config(app_database_url, tmp_path / "a", **settings), testing=True)
    second = create_app(app_config(app_database_url, tmp_path / "b", **settings), testing=True)
    async with first.test_app(), second.test_app():
        one = await fresh_visitor(People(first))
        two = await fresh_visitor(People(second))
        for visitor in (one, two, one, two):
            assert (await fail_login(visitor, username)).status_code == 401
        assert_too_many(await fail_login(one, username))
        assert_too_many(await fail_login(two, username))


async def test_when_redis_is_unreachable_people_can_still_sign_in(app_database_url, tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    app = create_app(
        app_config(
            app_database_url,
            tmp_path,
            VIBECHAT_RATE_LIMITS=True,
            VIBECHAT_REDIS_URL=f"redis://127.0.0.1:{closed_port}/0",
        ),
        testing=True,
    )
    async with app.test_app():
        people = People(app)
        alice = await people("alice")  # sign-up works
        chat = await create_chat(alice, "Still here")
        assert (await send(alice, chat, "no Redis, no problem")).status_code == 303
        visitor = await fresh_visitor(people)
        assert (await fail_login(visitor, "alice")).status_code == 401
        response = await visitor.post("/login", {"username": "alice", "password": PASSWORD})
        assert response.status_code == 303
        async with app.extensions["db"].read() as session:
            assert await session.scalar(select(func.count()).select_from(Message)) == 1
