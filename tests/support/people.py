"""People of the in-process app: a test client signed in as someone, with their CSRF
token at hand, and what they do most (start a chat, send a message).

People are seeded straight into the database unless signing up or in is what a test is
about: `people.sign_up(...)` and `sign_in_again(...)` go through the forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from quart_auth import generate_auth_token
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from tests.support.html import csrf_from, html
from vibechat import forms, queries
from vibechat.security import new_session_token
from vibechat.sessions import SESSION_COOKIE

PASSWORD = "correct horse battery"


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
    """Makes signed-in people by name: await people("alice").

    They are seeded straight into the database (the user row with a precomputed password
    hash, a session row, the signed session cookie on a fresh test client): signing up
    over HTTP costs three requests a person and is what tests/test_auth.py is about.
    `await people.sign_up("alice")` goes through the register form instead."""

    def __init__(self, app) -> None:
        self.app = app
        self.known: dict[str, Person] = {}

    def anonymous(self) -> Person:
        return Person(self.app.test_client(), "")

    async def __call__(self, username: str, display_name: str | None = None) -> Person:
        if username in self.known:
            return self.known[username]
        # The register form's own rules: the same clean names it would store.
        username, display_name, _ = forms.new_account(
            username, display_name or username.capitalize(), PASSWORD
        )
        async with self.app.extensions["db"].write() as session:
            user = await queries.create_user(
                session, username, display_name, password_hash(self.app)
            )
            assert user is not None, f"{username} exists already"
            await session.flush()
            token, token_hash = new_session_token()
            await queries.create_session(session, user.id, token_hash)
            await session.commit()
        person = self.anonymous()
        person.username = username
        sign_in_cookie(person.client, token)
        await person.refresh_token()
        self.known[username] = person
        return person

    async def sign_up(self, username: str, display_name: str | None = None) -> Person:
        """Someone who registered through the form, as a browser would."""
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


_PASSWORD_HASHES: dict[tuple, str] = {}


def password_hash(app) -> str:
    """PASSWORD hashed by the app's hasher, once per run and parameters: seeding stays
    quick, and the hash is one that signing up would have stored."""
    hasher = app.extensions["password_hasher"]
    parameters = (hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len)
    if parameters not in _PASSWORD_HASHES:
        _PASSWORD_HASHES[parameters] = hasher.hash(PASSWORD)
    return _PASSWORD_HASHES[parameters]


def sign_in_cookie(client, token: str) -> None:
    """Put the signed session cookie for `token` (a session row's) on a test client."""
    client.set_cookie(
        "localhost",
        SESSION_COOKIE,
        generate_auth_token(client, token),
        path="/",
        httponly=True,
        samesite="Lax",
    )


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


async def sign_in_again(people, username: str) -> Person:
    """A second browser signed in as the same person (a separate session)."""
    person = people.anonymous()
    person.username = username
    await person.refresh_token("/login")
    response = await person.post("/login", {"username": username, "password": PASSWORD})
    assert response.status_code == 303
    await person.refresh_token()
    return person
