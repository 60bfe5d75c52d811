"""Checks many tests share: visitors go to log in, strangers see the 404 of a chat that
does not exist, and a change needs this session's CSRF token; none changes a row."""

from __future__ import annotations

from tests.support.db import snapshot
from tests.support.html import html
from tests.support.people import sign_in_again


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
