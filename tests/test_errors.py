"""Bad input never produces a 500: error pages with the right status, nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.support.html import html
from vibechat.models import Chat, Message


async def totals(db) -> tuple[int, int]:
    async with db.read() as session:
        chats = await session.scalar(select(func.count(Chat.id)))
        messages = await session.scalar(select(func.count(Message.id)))
    return chats, messages


async def test_an_unknown_page_is_a_404_page_with_one_heading(alice):
    response = await alice.get("/no/such/page")
    assert response.status_code == 404
    page = html(await response.get_data())
    assert [h.text() for h in page.css("h1")] == ["Not found"]
    assert page.css_first("main#main") is not None


async def test_htmx_gets_the_error_as_a_fragment(alice):
    response = await alice.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    body = (await response.get_data()).decode()
    assert "<html" not in body and 'role="alert"' in body


async def test_a_wrong_method_is_405_with_allow(alice):
    response = await alice.client.put("/chats", headers={"X-CSRF-Token": alice.token})
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize(
    "path",
    [
        "/chats/99999999999999999999",
        "/chats/2147483648",
        "/chats/0",
        "/chats/-1",
        "/chats/01",  # one URL per chat: no leading zeros
        "/chats/\u0661",  # ARABIC-INDIC DIGIT ONE is a digit to \\d, not to us
        "/chats/\uff11",  # FULLWIDTH DIGIT ONE
        "/chats/1/messages/99999999999999999999/edit",
        "/style/mine-99999999999999999999.css",
    ],
)
async def test_ids_out_of_range_are_not_found(alice, watercooler, path):
    assert (await alice.get(path)).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "before=99999999999999999999",
        "after=-1",
        "since=1e3",
        "before=%D9%A3",
        "after=",
        "before=1&after=2",
    ],
)
async def test_bad_message_queries_are_400(alice, watercooler, query):
    response = await alice.get(f"/chats/{watercooler}/messages?{query}")
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/chats", {"title": "ok", "members": "bob\x00"}),
        ("/chats", {"title": "bad\x00title"}),
        ("/chats/direct", {"username": "bob\x00"}),
        ("/chats/direct", {"username": "é" * 500}),
        ("/chats/{chat}/messages", {"body": "nul\x00byte"}),
        ("/chats/{chat}/messages", {"body": "ok", "client_token": "ünïcode"}),
        ("/chats/{chat}/members", {"members": "\x00"}),
        ("/chats/{chat}/rename", {"title": "\x07"}),
        ("/chats/{chat}/read", {"seq": "99999999999999999999"}),
        ("/chats/{chat}/members/bob%00/remove", {}),
    ],
)
async def test_strange_form_input_is_refused_without_changes(
    alice, bob, watercooler, db, path, data
):
    before = await totals(db)
    response = await alice.post(path.format(chat=watercooler), data)
    assert response.status_code in {400, 404, 422}, response.status_code
    assert await totals(db) == before


@pytest.mark.parametrize("token", ["ünïcode", "\x00" * 64])
async def test_a_non_ascii_csrf_token_is_a_403_not_a_500(alice, watercooler, db, token):
    response = await alice.post(
        f"/chats/{watercooler}/messages", {"body": "x", "csrf_token": token}, csrf=False
    )
    assert response.status_code == 403
    assert await totals(db) == (1, 0)


async def test_login_with_an_impossible_username_is_the_generic_401(people):
    person = people.anonymous()
    await person.refresh_token("/login")
    response = await person.post("/login", {"username": "a\x00b", "password": "whatever1"})
    assert response.status_code == 401
