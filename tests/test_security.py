"""CSRF tokens, the same-origin check and oversized requests."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from tests.support.people import PASSWORD, send
from vibechat.models import Message, Session


async def messages_in(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count(Message.id)))


@pytest.mark.parametrize("token", [None, "", "0" * 64, "not-even-hex"])
async def test_a_post_without_the_right_token_is_refused(alice, watercooler, db, token):
    data = {"body": "sneaky"}
    if token is not None:
        data["csrf_token"] = token
    response = await alice.post(f"/chats/{watercooler}/messages", data, csrf=False)
    assert response.status_code == 403
    assert await messages_in(db) == 0


async def test_another_sessions_token_is_refused(alice, bob, watercooler, db):
    response = await alice.post(
        f"/chats/{watercooler}/messages", {"body": "x", "csrf_token": bob.token}, csrf=False
    )
    assert response.status_code == 403
    assert await messages_in(db) == 0


async def test_the_same_persons_token_from_an_older_session_is_refused(
    people, alice, watercooler, db
):
    old_token = alice.token
    await alice.post("/logout")
    await alice.refresh_token("/login")
    await alice.post("/login", {"username": "alice", "password": PASSWORD})
    response = await alice.post(
        f"/chats/{watercooler}/messages", {"body": "x", "csrf_token": old_token}, csrf=False
    )
    assert response.status_code == 403
    assert await messages_in(db) == 0


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://localhost.evil.example"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
    ],
)
async def test_a_post_from_another_site_is_refused_even_with_a_token(
    alice, watercooler, db, headers
):
    response = await alice.post(f"/chats/{watercooler}/messages", {"body": "x"}, headers=headers)
    assert response.status_code == 403
    assert await messages_in(db) == 0


@pytest.mark.parametrize(
    "headers", [{"Origin": "http://localhost"}, {"Sec-Fetch-Site": "same-origin"}, {}]
)
async def test_a_post_from_our_own_pages_passes(alice, watercooler, db, headers):
    response = await alice.post(f"/chats/{watercooler}/messages", {"body": "x"}, headers=headers)
    assert response.status_code == 303
    assert await messages_in(db) == 1


async def test_htmx_sends_the_token_in_a_header(alice, watercooler, db):
    response = await alice.client.post(
        f"/chats/{watercooler}/messages",
        form={"body": "from htmx"},
        headers={"X-CSRF-Token": alice.token, "HX-Request": "true"},
    )
    assert response.status_code == 204
    assert await messages_in(db) == 1


async def test_public_origins_setting_names_the_origins_a_proxy_serves(app, alice, watercooler, db):
    origins = ("https://chat.example.org",)
    app.extensions["settings"] = replace(app.extensions["settings"], public_origins=origins)
    ok = await alice.post(
        f"/chats/{watercooler}/messages",
        {"body": "x"},
        headers={"Origin": "https://chat.example.org"},
    )
    refused = await alice.post(
        f"/chats/{watercooler}/messages", {"body": "y"}, headers={"Origin": "http://localhost"}
    )
    assert (ok.status_code, refused.status_code) == (303, 403)
    assert await messages_in(db) == 1


async def test_login_itself_needs_a_token(people, alice, db):
    person = people.anonymous()
    response = await person.post("/login", {"username": "alice", "password": PASSWORD}, csrf=False)
    assert response.status_code == 403
    async with db.read() as session:
        assert await session.scalar(select(func.count(Session.id))) == 1


async def test_logout_needs_a_token(alice, db):
    response = await alice.post("/logout", csrf=False)
    assert response.status_code == 403
    assert (await alice.get("/chats")).status_code == 200


async def test_an_oversized_request_gets_413_and_changes_nothing(app, alice, watercooler, db):
    limit = app.extensions["settings"].max_body_bytes
    response = await send(alice, watercooler, "x" * (limit + 10))
    assert response.status_code == 413
    assert await messages_in(db) == 0


async def test_cookies_are_httponly_and_samesite_lax(people):
    person = people.anonymous()
    await person.refresh_token("/register")
    response = await person.post(
        "/register", {"username": "erin", "display_name": "", "password": PASSWORD}
    )
    cookie = response.headers.get("Set-Cookie")
    assert "vibechat_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
