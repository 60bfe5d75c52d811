"""Account admin from the command line: create-user, reset-password, deactivate-user and
reactivate-user, run as real commands against the database the app under test uses,
then checked through the app itself."""

from __future__ import annotations

import asyncio
import os
import pty
import select
import subprocess
import sys

import pytest
from sqlalchemy import select as query
from sqlalchemy import update

from tests.support.app import app_config
from tests.support.cli import in_english, vibechat_cli
from tests.support.db import count, snapshot
from tests.support.html import field_error, html
from tests.support.live import close_code, live
from tests.support.people import PASSWORD, People, create_chat, send, sign_in_again
from tests.support.services import skip_or_fail
from vibechat.app import create_app
from vibechat.models import Session, User, utcnow
from vibechat.views.auth import LOGIN_FAILED

NEW_PASSWORD = "a brand new passphrase"
PROMPT_TIMEOUT = 30  # seconds for the command to start and ask


@pytest.fixture
def vibechat(app, app_database_url, tmp_path):
    """Runs `vibechat ...` on the app's database; password is the line on its stdin."""

    def run(*args: str, password: str | None = None, **settings: str):
        return vibechat_cli(
            *args,
            instance=tmp_path,
            stdin="" if password is None else password + "\n",
            VIBECHAT_DATABASE_URL=app_database_url,
            **settings,
        )

    return run


async def users(db) -> list[tuple]:
    async with db.read() as session:
        rows = await session.execute(query(User.__table__).order_by(User.id))
        return [tuple(row) for row in rows]


async def user_named(db, username: str) -> User:
    async with db.read() as session:
        return await session.scalar(query(User).where(User.username_key == username))


async def login(people, username: str, password: str):
    person = people.anonymous()
    await person.refresh_token("/login")
    return await person.post("/login", {"username": username, "password": password})


def refused(result, message: str) -> None:
    """Exit status 1, the reason on stderr, nothing on stdout."""
    assert result.returncode == 1, (result.stdout, result.stderr)
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr


async def signed_in(person) -> bool:
    response = await person.get("/chats")
    assert response.status_code in (200, 303)
    return response.status_code == 200


# -- create-user -------------------------------------------------------------------------


async def test_create_user_makes_an_account_that_signs_in(vibechat, people, db):
    created = vibechat(
        "create-user", "erin", "--display-name", "Erin Brockovich", password=PASSWORD
    )
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines() == ["Created erin (Erin Brockovich): they can sign in now."]
    erin = await user_named(db, "erin")
    assert erin.display_name == "Erin Brockovich"
    assert erin.password_hash.startswith("$argon2id$")
    assert PASSWORD not in erin.password_hash

    response = await login(people, "Erin", PASSWORD)
    assert response.status_code == 303
    assert response.headers["Location"] == "/chats"


async def test_without_a_display_name_the_username_is_shown(vibechat, db):
    assert vibechat("create-user", "erin", password=PASSWORD).returncode == 0
    assert (await user_named(db, "erin")).display_name == "erin"


@pytest.mark.parametrize(
    ("username", "display_name", "password"),
    [
        ("b!", "", PASSWORD),
        ("er", "", PASSWORD),
        ("erin", "", "short"),
        ("erin", "", ""),
        ("erin", "", "erin's password"),
        ("erin", "x" * 65, PASSWORD),
        ("erin", "Erin\u0007", PASSWORD),
        ("no way!", "x" * 65, "short"),
    ],
)
async def test_create_user_refuses_what_the_register_form_refuses(
    vibechat, people, db, username, display_name, password
):
    """Not only the same outcome: the same message for every field that is wrong."""
    before = await users(db)
    result = vibechat("create-user", username, "--display-name", display_name, password=password)
    refused(result, "vibechat: ")
    assert await users(db) == before

    visitor = people.anonymous()
    await visitor.refresh_token("/register")
    form = {"username": username, "display_name": display_name, "password": password}
    response = await visitor.post("/register", form)
    assert response.status_code == 422
    page = html(await response.get_data())
    expected = [
        f"{name.replace('_', ' ')}: {field_error(page, name)}"
        for name in ("username", "display_name", "password")
        if page.css_first(f"#{name}-error") is not None
    ]
    assert expected, "the register form accepted what the command refused"
    assert result.stderr.strip() == "vibechat: " + "; ".join(expected)


async def test_a_username_is_taken_whatever_its_case(vibechat, alice, db):
    before = await users(db)
    refused(
        vibechat("create-user", "ALICE", password=PASSWORD),
        "vibechat: username: That username is taken.",
    )
    assert await users(db) == before


def run_on_a_terminal(*args: str, typed: list[str], instance, database_url: str):
    """`vibechat ARGS` with a terminal for stdin, typing each line when it is asked for."""
    main, terminal = pty.openpty()
    env = {**in_english(os.environ), "VIBECHAT_INSTANCE_PATH": str(instance)}
    env["VIBECHAT_DATABASE_URL"] = database_url
    # A session of its own has no controlling terminal, so getpass uses stdin: the pty.
    process = subprocess.Popen(
        [sys.executable, "-m", "vibechat.commands.cli", *args],
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        asked = b""
        for line in typed:
            # Type only once asked: getpass flushes what was typed before it turned
            # echo off, as a terminal does.
            while not asked.endswith(b": "):
                ready, _, _ = select.select([process.stderr], [], [], PROMPT_TIMEOUT)
                assert ready, f"no prompt within {PROMPT_TIMEOUT} s; got {asked!r}"
                chunk = os.read(process.stderr.fileno(), 1024)
                assert chunk, f"the command ended without asking; it said {asked!r}"
                asked += chunk
            asked = b""
            os.write(main, line.encode() + b"\n")
        stdout, stderr = process.communicate(timeout=60)
    finally:
        os.close(main)
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, stdout.decode(), stderr.decode()


@pytest.mark.slow  # a real process on a terminal
async def test_on_a_terminal_the_password_is_asked_for_twice(app_database_url, tmp_path, people):
    code, stdout, _ = run_on_a_terminal(
        "create-user",
        "erin",
        typed=[PASSWORD, PASSWORD],
        instance=tmp_path,
        database_url=app_database_url,
    )
    assert code == 0
    assert stdout.startswith("Created erin")
    assert (await login(people, "erin", PASSWORD)).status_code == 303


@pytest.mark.slow  # a real process on a terminal
async def test_on_a_terminal_two_different_passwords_change_nothing(app_database_url, tmp_path, db):
    code, stdout, stderr = run_on_a_terminal(
        "create-user",
        "erin",
        typed=[PASSWORD, PASSWORD + "!"],
        instance=tmp_path,
        database_url=app_database_url,
    )
    assert code == 1
    assert stdout == ""
    assert "the two passwords differ" in stderr
    assert await count(db, User) == 0


async def test_the_password_is_never_an_argument(vibechat, db):
    result = vibechat("create-user", "erin", PASSWORD)
    assert result.returncode == 2  # argparse: unrecognised argument
    assert await count(db, User) == 0


# -- reset-password ----------------------------------------------------------------------


async def test_reset_password_replaces_it_and_signs_out_every_session(vibechat, people, alice, db):
    other_browser = await sign_in_again(people, "alice")
    assert await signed_in(alice) and await signed_in(other_browser)

    reset = vibechat("reset-password", "Alice", password=NEW_PASSWORD)
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.splitlines() == ["Set a new password for alice and ended 2 sessions."]

    assert not await signed_in(alice)
    assert not await signed_in(other_browser)
    assert await count(db, Session) == 0
    old = await login(people, "alice", PASSWORD)
    assert old.status_code == 401
    assert (await login(people, "alice", NEW_PASSWORD)).status_code == 303


@pytest.mark.parametrize(
    ("new_password", "message"),
    [
        ("short", "password: Use at least 8 characters."),
        ("my ALICE password", "password: The password must not contain the username."),
        ("x" * 1025, "password: Use at most 1024 characters."),
    ],
)
async def test_reset_password_refuses_what_the_password_form_refuses(
    vibechat, people, alice, db, new_password, message
):
    before = await users(db)
    refused(vibechat("reset-password", "alice", password=new_password), "vibechat: " + message)
    assert await users(db) == before
    assert await signed_in(alice)
    assert (await login(people, "alice", PASSWORD)).status_code == 303


# -- deactivate-user and reactivate-user -------------------------------------------------


async def test_a_deactivated_person_cannot_sign_in_and_is_told_nothing_more(
    vibechat, people, alice, bob, watercooler, db
):
    assert (await send(alice, watercooler, "Back on Monday")).status_code == 303
    other_browser = await sign_in_again(people, "alice")

    deactivated = vibechat("deactivate-user", "alice")
    assert deactivated.returncode == 0, deactivated.stderr
    assert deactivated.stdout.splitlines() == ["alice is deactivated; ended 2 sessions."]

    assert not await signed_in(alice)
    assert not await signed_in(other_browser)
    # The right password gets the very answer a wrong one gets.
    right = await login(people, "alice", PASSWORD)
    wrong = await login(people, "alice", "not the password")
    assert right.status_code == wrong.status_code == 401
    for response in (right, wrong):
        page = html(await response.get_data())
        assert page.css_first("[role=alert]").text() == LOGIN_FAILED
    assert await count(db, Session, Session.user_id == (await user_named(db, "alice")).id) == 0

    # Their messages stay, for everyone still in the chat.
    chat = await bob.page(f"/chats/{watercooler}")
    bodies = [node.text(deep=True) for node in chat.css("li[data-seq]")]
    assert any("Back on Monday" in body for body in bodies)


async def test_nobody_can_start_a_chat_with_or_add_a_deactivated_person(vibechat, alice, bob, db):
    assert vibechat("deactivate-user", "alice").returncode == 0
    before = await snapshot(db)
    no_one = "No account with the username alice."
    direct = await bob.post("/chats/direct", {"username": "alice"})
    assert direct.status_code == 422
    assert field_error(html(await direct.get_data()), "username") == no_one
    group = await bob.post("/chats", {"title": "Plans", "members": "alice"})
    assert group.status_code == 422
    assert field_error(html(await group.get_data()), "members") == no_one
    assert await snapshot(db) == before
    chat = await create_chat(bob, "Bob's own")
    before = await snapshot(db)
    added = await bob.post(f"/chats/{chat}/members", {"members": "alice"})
    assert added.status_code == 422
    assert field_error(html(await added.get_data()), "members") == no_one
    assert await snapshot(db) == before
    # Once back, she can be found again.
    assert vibechat("reactivate-user", "alice").returncode == 0
    assert (await bob.post(f"/chats/{chat}/members", {"members": "alice"})).status_code == 303


async def test_reactivating_lets_them_sign_in_with_the_password_they_had(vibechat, people, alice):
    assert vibechat("deactivate-user", "alice").returncode == 0
    assert (await login(people, "alice", PASSWORD)).status_code == 401

    again = vibechat("reactivate-user", "alice")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["alice can sign in again."]
    assert (await login(people, "alice", PASSWORD)).status_code == 303


async def test_deactivating_or_reactivating_twice_says_so_and_succeeds(vibechat, alice, db):
    assert vibechat("deactivate-user", "alice").returncode == 0
    when = (await user_named(db, "alice")).deactivated_at
    twice = vibechat("deactivate-user", "alice")
    assert twice.returncode == 0
    assert twice.stdout.splitlines() == ["alice was deactivated already; ended 0 sessions."]
    assert (await user_named(db, "alice")).deactivated_at == when

    assert vibechat("reactivate-user", "alice").returncode == 0
    twice = vibechat("reactivate-user", "alice")
    assert twice.returncode == 0
    assert twice.stdout.splitlines() == ["alice was active already."]


async def test_a_session_that_outlived_the_deactivation_is_refused(people, alice, db):
    """A sign-in racing the deactivation can leave a session behind: it must not work."""
    async with db.write() as session:
        await session.execute(update(User).values(deactivated_at=utcnow()))
        await session.commit()
    assert await count(db, Session) == 1
    assert not await signed_in(alice)
    assert await count(db, Session) == 0


async def test_reset_password_of_a_deactivated_person_keeps_them_out(vibechat, people, alice):
    assert vibechat("deactivate-user", "alice").returncode == 0
    reset = vibechat("reset-password", "alice", password=NEW_PASSWORD)
    assert reset.returncode == 0, reset.stderr
    assert "still deactivated" in reset.stdout
    assert (await login(people, "alice", NEW_PASSWORD)).status_code == 401


# -- every command ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["reset-password", "deactivate-user", "reactivate-user"])
async def test_an_unknown_username_is_refused(vibechat, alice, db, command):
    before = await users(db)
    refused(vibechat(command, "nobody", password=NEW_PASSWORD), "there is no user named 'nobody'")
    assert await users(db) == before
    assert await signed_in(alice)


async def test_a_database_that_was_never_migrated_is_refused_plainly(tmp_path):
    result = vibechat_cli("create-user", "erin", instance=tmp_path, stdin=PASSWORD + "\n")
    refused(result, "run `vibechat migrate` first")


async def test_without_redis_the_command_says_open_pages_close_within_the_check(vibechat, alice):
    result = vibechat("deactivate-user", "alice")
    assert result.returncode == 0
    assert "pages open now lose their live connection within 30 s" in result.stderr
    assert "VIBECHAT_REDIS_URL" in result.stderr


async def test_without_redis_the_servers_session_check_closes_their_sockets(
    app_database_url, tmp_path
):
    """The server looks for sockets whose session is gone (every 30 s; 0.2 s here)."""
    app = create_app(
        app_config(app_database_url, tmp_path / "server"), testing=True, session_check=0.2
    )
    async with app.test_app():
        people = People(app)
        alice, bob = await people("alice"), await people("bob")
        async with live(alice.client) as alice_socket, live(bob.client):
            result = vibechat_cli(
                "deactivate-user",
                "alice",
                instance=tmp_path,
                VIBECHAT_DATABASE_URL=app_database_url,
            )
            assert result.returncode == 0, result.stderr
            assert await close_code(alice_socket, within=5) == 1008
            await asyncio.sleep(0.5)  # two more checks: bob's session is alive
            still_open = {c.user.username for c in app.extensions["live"].connections}
            assert still_open == {"bob"}


@pytest.mark.parametrize("command", ["reset-password", "deactivate-user"])
async def test_with_redis_their_open_sockets_close_at_once(
    app_database_url, tmp_path, command, shared_redis
):
    app = create_app(
        app_config(app_database_url, tmp_path / "server", VIBECHAT_REDIS_URL=shared_redis),
        testing=True,
    )
    async with app.test_app():
        if not app.extensions["live"].broker.connected.is_set():
            skip_or_fail(f"no Redis at {shared_redis}; start one or set VIBECHAT_TEST_REDIS_URL")
        people = People(app)
        alice = await people("alice")
        bob = await people("bob")
        watercooler = await create_chat(bob, "Watercooler", "alice")
        async with live(alice.client) as alice_socket, live(bob.client) as bob_socket:
            result = vibechat_cli(
                command,
                "alice",
                instance=tmp_path,
                stdin=NEW_PASSWORD + "\n",
                VIBECHAT_DATABASE_URL=app_database_url,
                VIBECHAT_REDIS_URL=shared_redis,
            )
            assert result.returncode == 0, result.stderr
            assert result.stderr == ""
            assert await close_code(alice_socket, within=5) == 1008
            # Nobody else's socket or session is touched.
            assert await signed_in(bob)
            assert (await send(bob, watercooler, "Still here")).status_code == 303
            await bob_socket.until(f"#msg-{watercooler}-1")
