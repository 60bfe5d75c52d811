"""Register, log in, log out, and server-side sessions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.db import count
from tests.support.html import csrf_from, html
from tests.support.people import PASSWORD
from vibechat.models import Session, User


async def register(person, **fields):
    data = {"username": "alice", "display_name": "Alice", "password": PASSWORD} | fields
    await person.refresh_token("/register")
    return await person.post("/register", {k: v for k, v in data.items() if v is not None})


async def test_root_sends_visitors_to_login_and_members_to_their_chats(people, alice):
    anonymous = people.anonymous()
    assert (await anonymous.get("/")).headers["Location"] == "/login"
    assert (await alice.get("/")).headers["Location"] == "/chats"


async def test_register_creates_an_account_and_signs_in(people, db):
    person = people.anonymous()
    response = await register(person, username="Alice_1", display_name="Алиса 🌸")
    assert response.status_code == 303
    assert response.headers["Location"] == "/chats"
    page = await person.page("/chats")
    assert page.css_first(".signed-in").text() == "Алиса 🌸"
    async with db.read() as session:
        user = await session.scalar(select(User))
    assert (user.username, user.username_key) == ("Alice_1", "alice_1")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


async def test_display_name_defaults_to_the_username(people):
    person = people.anonymous()
    await register(person, username="dora", display_name="   ")
    page = await person.page("/chats")
    assert page.css_first(".signed-in").text() == "dora"


async def test_usernames_are_unique_without_regard_to_case(people, db):
    await register(people.anonymous(), username="alice")
    second = people.anonymous()
    response = await register(second, username="ALICE")
    assert response.status_code == 422
    page = html(await response.get_data())
    assert page.css_first("#username-error").text() == "That username is taken."
    assert page.css_first("#username").attributes["value"] == "ALICE"
    assert await count(db, User) == 1


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"username": "al"}, "username", "Use 3 to 32 characters"),
        ({"username": "a" * 33}, "username", "Use 3 to 32 characters"),
        ({"username": "alice smith"}, "username", "Use 3 to 32 characters"),
        ({"username": "<script>"}, "username", "Use 3 to 32 characters"),
        ({"username": "ålice"}, "username", "Use 3 to 32 characters"),
        ({"display_name": "x" * 65}, "display_name", "at most 64"),
        ({"display_name": "bad\u0007bell"}, "display_name", "visible characters"),
        ({"password": "short"}, "password", "at least 8"),
        ({"password": "xxalicexx"}, "password", "must not contain the username"),
    ],
)
async def test_register_rejects_bad_input_and_stores_nothing(people, db, fields, field, message):
    person = people.anonymous()
    response = await register(person, **fields)
    assert response.status_code == 422
    page = html(await response.get_data())
    error = page.css_first(f"#{field}-error")
    assert error is not None and message in error.text()
    described = page.css_first(f"#{field}").attributes["aria-describedby"].split()
    assert f"{field}-error" in described
    assert page.css_first(f"#{field}").attributes["aria-invalid"] == "true"
    # The user's input is kept, except the password.
    if field != "password":
        assert page.css_first("#username").attributes.get("value") == fields.get(
            "username", "alice"
        )
    assert page.css_first("#password").attributes.get("value") is None
    assert await count(db, User) == 0
    assert await count(db, Session) == 0


async def test_register_without_the_fields_is_malformed(people, db):
    person = people.anonymous()
    await person.refresh_token("/register")
    response = await person.post("/register", {"username": "alice"})
    assert response.status_code == 400
    assert await count(db, User) == 0


async def test_login_with_the_right_password_starts_a_session(people, alice, db):
    person = people.anonymous()
    await person.refresh_token("/login")
    response = await person.post("/login", {"username": "ALICE", "password": PASSWORD})
    assert response.status_code == 303
    assert response.headers["Location"] == "/chats"
    assert (await person.get("/chats")).status_code == 200
    assert await count(db, Session) == 2  # alice's registration session and this one


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong password"), ("nobody", PASSWORD), ("", "")]
)
async def test_wrong_credentials_get_one_generic_401(people, alice, db, username, password):
    person = people.anonymous()
    await person.refresh_token("/login")
    response = await person.post("/login", {"username": username, "password": password})
    assert response.status_code == 401
    # RFC 9110 15.5.2: a 401 names a challenge; this one asks for the form, not a dialog.
    assert response.headers["WWW-Authenticate"] == 'Form realm="vibechat"'
    page = html(await response.get_data())
    assert page.css_first("[role=alert]").text() == (
        "That username and password do not match an account."
    )
    assert page.css_first("#username").attributes["value"] == username
    assert (await person.get("/chats")).headers["Location"].startswith("/login")
    assert await count(db, Session) == 1


@pytest.mark.parametrize(
    ("next_path", "expected"),
    [
        ("/chats/7", "/chats/7"),
        ("/chats?x=1", "/chats?x=1"),
        ("https://evil.example/", "/chats"),
        ("//evil.example/", "/chats"),
        ("/\\evil.example", "/chats"),
        ("javascript:alert(1)", "/chats"),
        ("chats", "/chats"),
        # Everything but printable ASCII: it would go into the Location header raw
        # (a NUL made hypercorn answer 500 after the session was stored).
        ("/ok\x00", "/chats"),
        ("/ok\x01", "/chats"),
        ("/ok\x7f", "/chats"),
        ("/café", "/chats"),
        ("/a b", "/chats"),
        ("/ok\r\nSet-Cookie: x=1", "/chats"),
    ],
)
async def test_login_next_only_leads_to_same_site_paths(people, alice, next_path, expected):
    person = people.anonymous()
    await person.refresh_token("/login")
    response = await person.post(
        "/login", {"username": "alice", "password": PASSWORD, "next": next_path}
    )
    assert response.headers["Location"] == expected


async def test_pages_need_a_session_and_remember_where_you_were_going(people):
    anonymous = people.anonymous()
    response = await anonymous.get("/chats/3")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=%2Fchats%2F3"
    form = await anonymous.page("/login?next=%2Fchats%2F3")
    assert form.css_first('input[name="next"]').attributes["value"] == "/chats/3"


async def test_logout_revokes_the_session_so_a_copied_cookie_stops_working(people, alice, app, db):
    cookie = alice.client.cookie_jar  # the browser's cookies, copied by an attacker
    stolen = app.test_client()
    for item in cookie:
        stolen.set_cookie("localhost", item.name, item.value)
    assert (await stolen.get("/chats")).status_code == 200

    response = await alice.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert await count(db, Session) == 0
    assert (await alice.get("/chats")).status_code == 303
    assert (await stolen.get("/chats")).status_code == 303


async def test_signed_in_people_skip_the_login_and_register_forms(alice):
    assert (await alice.get("/login")).headers["Location"] == "/chats"
    assert (await alice.get("/register")).headers["Location"] == "/chats"


async def test_login_and_register_forms_carry_a_csrf_token(people):
    person = people.anonymous()
    for path in ("/login", "/register"):
        response = await person.get(path)
        assert response.status_code == 200
        assert len(csrf_from(await response.get_data())) == 64
