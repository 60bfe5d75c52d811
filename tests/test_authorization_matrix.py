"""The authorisation matrix: every route of the app, for every kind of visitor.

The cells come from the app's own route table (every rule, every method but HEAD and
OPTIONS, and the WebSocket), so a new route shows up here by itself; EXPECTED says what
each kind of visitor gets from it, and a route without an entry fails.

The roles, in a chat the owner made for the cell:

- anonymous: signed out, with a valid anonymous CSRF token (refused for who they are,
  not for a missing token);
- non-member: signed in, not in the chat: a 404 identical to a chat that does not exist;
- member: a plain member who did not write the message;
- owner: the chat's creator;
- author: a plain member who wrote the message (for other routes, simply a member).

Every cell gets a fresh chat and message. Every refusal (4xx, or a signed-out visitor
sent to log in) must leave the database exactly as it was; every accepted POST must
change it.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
import pytest_asyncio
from quart.testing.connections import WebsocketResponseError
from sqlalchemy import select

from tests.support.app import TEST_SECRET, app_config
from tests.support.db import snapshot, user_id
from tests.support.people import PASSWORD, People, Person, create_chat, send, sign_in_again
from vibechat.app import create_app
from vibechat.config import load_settings
from vibechat.models import MAX_ID, Session, User

# One event loop for the module: the world (app, database, browsers) is made once.
in_the_world = pytest.mark.asyncio(loop_scope="module")

ROLES = ("anonymous", "non-member", "member", "owner", "author")
ACCEPTED = 101  # the table's word for "the WebSocket handshake was accepted"
OWN_ORIGIN = "http://localhost"  # what the test client's Host makes our own origin
FOREIGN_ORIGINS = ("https://evil.example", None)  # None: no Origin header at all
HANDSHAKE_TIMEOUT = 2.0
WEBSOCKET = "WEBSOCKET"  # the "method" of a WebSocket rule in the table

# Who plays each signed-in role. The owner makes each cell's chat with the member, the
# author (who writes its one message) and TARGET in it; the non-member is not in it.
PLAYERS = {"non-member": "erin", "member": "bob", "owner": "alice", "author": "dave"}
TARGET = "carol"  # the plain member whom the owner removes
OUTSIDER = "zoe"  # in no role: added to chats, written to directly, her stylesheet asked for

# POSTs that start, end or replace the caller's session: made from a fresh sign-in, so
# the shared browser of each role stays signed in for the other cells.
SESSION_ROUTES = {
    ("POST", "/register"),
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/account/password"),
}


# Accepted POSTs whose change lives in the browser, not the database: someone signed out
# who chooses a language keeps it in a cookie.
CHANGES_ONLY_A_COOKIE = {("POST", "/language", "anonymous")}


# -- the table ---------------------------------------------------------------------------

# An expected answer: a status, or (status, Location). Location is formatted with the
# cell's values ({chat}, {seq}, {next_seq}, {next}: the urlencoded next= of this GET);
# a trailing * matches any rest.
Answer = int | tuple[int, str]


@dataclass(frozen=True)
class Route:
    answers: dict[str, Answer]
    form: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)


def route(
    anonymous: Answer,
    signed_in: Answer | None = None,
    *,
    non_member: Answer | None = None,
    member: Answer | None = None,
    owner: Answer | None = None,
    author: Answer | None = None,
    form: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> Route:
    """Each signed-in role gets signed_in unless named; the author gets the member's."""
    member = member if member is not None else signed_in
    answers = {
        "anonymous": anonymous,
        "non-member": non_member if non_member is not None else signed_in,
        "member": member,
        "owner": owner if owner is not None else signed_in,
        "author": author if author is not None else member,
    }
    assert all(answer is not None for answer in answers.values()), answers
    return Route(answers, form or {}, query or {})


TO_LOGIN = (303, "/login")  # a signed-out POST: log in first (nothing to come back to)
LOGIN_NEXT = (303, "/login?{next}")  # a signed-out GET: log in, then come back here
IN_CHAT = dict(non_member=404)  # a chat route: the stranger sees "Not found"
OWNER_ONLY = dict(non_member=404, member=403)  # the author is a plain member as well
AUTHOR_ONLY = dict(non_member=404, member=403, owner=403)
CHAT = "/chats/<id:chat_id>"
MESSAGE = f"{CHAT}/messages/<id:seq>"

EXPECTED: dict[tuple[str, str], Route] = {
    # public
    ("GET", "/static/<path:filename>"): route(200, 200),
    ("GET", "/static/v-<version>/<path:filename>"): route(200, 200),
    ("GET", "/style/mine-<id:user_id>.css"): route(200, 200),
    ("GET", "/healthz"): route(200, 200),
    ("GET", "/readyz"): route(200, 200),
    # off unless VIBECHAT_METRICS=on; on, and behind a token: tests/test_metrics.py
    ("GET", "/metrics"): route(404, 404),
    # accounts
    ("GET", "/"): route((302, "/login"), (302, "/chats")),
    ("GET", "/register"): route(200, (302, "/chats")),
    ("POST", "/register"): route(
        (303, "/chats"), (303, "/chats"), form={"username": "{unique}", "password": PASSWORD}
    ),
    ("GET", "/login"): route(200, (302, "/chats")),
    ("POST", "/login"): route(
        (303, "/chats"), (303, "/chats"), form={"username": "{me}", "password": PASSWORD}
    ),
    ("POST", "/logout"): route(TO_LOGIN, (303, "/login")),
    ("GET", "/session"): route(LOGIN_NEXT, 204),
    ("GET", "/account"): route(LOGIN_NEXT, 200),
    ("POST", "/account/timezone"): route(
        TO_LOGIN, (303, "/account?saved=1"), form={"timezone": "Europe/Moscow"}
    ),
    ("GET", "/account/password"): route(LOGIN_NEXT, 200),
    ("POST", "/account/password"): route(
        TO_LOGIN,
        (303, "/account/password?changed=1"),
        # The same password again: a real change, yet later cells still sign in with it.
        form={"current_password": PASSWORD, "new_password": PASSWORD},
    ),
    # the language switch: for anyone (signed out: a cookie; in: the account). English,
    # so that the later cells read as before.
    ("POST", "/language"): route(
        (303, "/chats"), (303, "/chats"), form={"language": "en", "next": "/chats"}
    ),
    # chats
    ("GET", "/chats"): route((303, "/login"), 200),  # /chats is where login goes anyway
    ("POST", "/chats"): route(
        TO_LOGIN, (303, "/chats/*"), form={"title": "Made in a cell", "members": OUTSIDER}
    ),
    ("POST", "/chats/direct"): route(TO_LOGIN, (303, "/chats/*"), form={"username": OUTSIDER}),
    ("GET", CHAT): route(LOGIN_NEXT, 200, **IN_CHAT),
    ("GET", f"{CHAT}/members"): route(LOGIN_NEXT, 200, **IN_CHAT),
    ("POST", f"{CHAT}/members"): route(
        TO_LOGIN, owner=(303, "/chats/{chat}/members"), form={"members": OUTSIDER}, **OWNER_ONLY
    ),
    ("POST", f"{CHAT}/members/<username>/remove"): route(
        TO_LOGIN, owner=(303, "/chats/{chat}/members"), **OWNER_ONLY
    ),
    ("GET", f"{CHAT}/leave"): route(LOGIN_NEXT, 200, **IN_CHAT),
    ("POST", f"{CHAT}/leave"): route(TO_LOGIN, (303, "/chats"), **IN_CHAT),
    ("POST", f"{CHAT}/rename"): route(
        TO_LOGIN, owner=(303, "/chats/{chat}/members"), form={"title": "Renamed"}, **OWNER_ONLY
    ),
    ("GET", f"{CHAT}/delete"): route(LOGIN_NEXT, owner=200, **OWNER_ONLY),
    ("POST", f"{CHAT}/delete"): route(TO_LOGIN, owner=(303, "/chats"), **OWNER_ONLY),
    # messages
    ("GET", f"{CHAT}/messages"): route(LOGIN_NEXT, 200, query={"after": "0"}, **IN_CHAT),
    ("POST", f"{CHAT}/messages"): route(
        TO_LOGIN,
        (303, "/chats/{chat}#msg-{chat}-{next_seq}"),
        form={"body": "Written in a cell", "client_token": "{unique}"},
        **IN_CHAT,
    ),
    ("GET", f"{MESSAGE}/edit"): route(LOGIN_NEXT, author=200, **AUTHOR_ONLY),
    ("POST", f"{MESSAGE}/edit"): route(
        TO_LOGIN,
        author=(303, "/chats/{chat}#msg-{chat}-{seq}"),
        form={"body": "Edited in a cell"},
        **AUTHOR_ONLY,
    ),
    ("GET", f"{MESSAGE}/delete"): route(LOGIN_NEXT, author=200, **AUTHOR_ONLY),
    ("POST", f"{MESSAGE}/delete"): route(
        TO_LOGIN, author=(303, "/chats/{chat}#msg-{chat}-{seq}"), **AUTHOR_ONLY
    ),
    ("GET", f"{MESSAGE}/reactions"): route(LOGIN_NEXT, 200, **IN_CHAT),
    ("POST", f"{MESSAGE}/reactions"): route(
        TO_LOGIN, (303, "/chats/{chat}#msg-{chat}-{seq}"), form={"emoji": "👍"}, **IN_CHAT
    ),
    ("POST", f"{CHAT}/read"): route(
        TO_LOGIN, (303, "/chats/{chat}"), form={"seq": "{seq}"}, **IN_CHAT
    ),
    # people: someone's page shows only to those who share a chat with them (TARGET is in
    # every cell's chat, the non-member in none of them); mentions are the reader's own
    ("GET", "/people/<username>"): route(LOGIN_NEXT, 200, non_member=404),
    ("GET", "/mentions"): route(LOGIN_NEXT, 200),
    # search: anyone signed in; what it finds is scoped by membership (tests/test_search.py)
    ("GET", "/search"): route(LOGIN_NEXT, 200),
    # live
    (WEBSOCKET, "/ws"): route(403, ACCEPTED),
}


# -- the route table ---------------------------------------------------------------------


def route_table(app) -> dict[tuple[str, str], object]:
    """(method, rule) for every rule and method but HEAD and OPTIONS; WEBSOCKET for sockets."""
    table = {}
    for rule in app.url_map.iter_rules():
        if getattr(rule, "websocket", False):
            table[(WEBSOCKET, rule.rule)] = rule
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            table[(method, rule.rule)] = rule
    return table


# Read at collection time, so that every route of the app becomes cells of its own.
ROUTES = route_table(
    create_app(
        load_settings(
            overrides={
                "VIBECHAT_SECRET_KEY": TEST_SECRET,
                "VIBECHAT_INSTANCE_PATH": tempfile.gettempdir(),
            }
        ),
        testing=True,
    )
)
CELLS = [(method, rule, role) for (method, rule) in ROUTES for role in ROLES]


def test_every_route_has_an_entry_and_every_entry_a_route():
    missing = set(ROUTES) - set(EXPECTED)
    stale = set(EXPECTED) - set(ROUTES)
    assert not missing, f"routes without an entry in EXPECTED: {sorted(missing)}"
    assert not stale, f"entries in EXPECTED for routes that do not exist: {sorted(stale)}"


# -- the world: one app, one browser per role --------------------------------------------


@dataclass
class Scene:
    """One cell's fresh chat: made by the owner, one message in it by the author."""

    chat: int
    seq: int


@dataclass
class World:
    app: object
    db: object
    people: People
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))

    def unique(self) -> str:
        return f"cell{next(self.counter)}"

    async def person(self, role: str) -> Person:
        return await self.people(PLAYERS[role])

    async def scene(self) -> Scene:
        owner = await self.person("owner")
        members = f"{PLAYERS['member']} {PLAYERS['author']} {TARGET}"
        chat = await create_chat(owner, "Matrix", members)
        response = await send(await self.person("author"), chat, "The author's message")
        assert response.status_code == 303, await response.get_data()
        seq = int(response.headers["Location"].rsplit("-", 1)[1])
        return Scene(chat, seq)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def world(sqlite_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("matrix")
    shutil.copyfile(sqlite_template, folder / "vibechat.sqlite3")
    url = f"sqlite+aiosqlite:///{folder / 'vibechat.sqlite3'}"
    # No rate limits: the matrix posts far more than a person would in a minute.
    app = create_app(app_config(url, folder, VIBECHAT_RATE_LIMITS=False), testing=True)
    async with app.test_app():
        people = People(app)
        for username in (*PLAYERS.values(), TARGET, OUTSIDER):
            await people(username)
        yield World(app, app.extensions["db"], people)


async def everything(db) -> dict[str, list[tuple]]:
    """The chat tables, plus users and sessions (without the last-seen times, which a
    request may refresh without anyone changing anything)."""
    rows = await snapshot(db)
    async with db.read() as session:
        rows["users"] = (
            await session.execute(
                select(
                    User.id,
                    User.username,
                    User.display_name,
                    User.password_hash,
                    User.language,
                    User.timezone,
                ).order_by(User.id)
            )
        ).all()
        rows["sessions"] = (
            await session.execute(
                select(Session.id, Session.token_hash, Session.user_id).order_by(Session.id)
            )
        ).all()
    return rows


# -- making a request as someone ---------------------------------------------------------


async def handshake(client, path: str, origin: str | None) -> int:
    """Open a socket: ACCEPTED, or the status it was refused with (before any accept)."""
    headers = {} if origin is None else {"Origin": origin}
    connection = client.websocket(path, headers=headers)
    answered = asyncio.Event()
    forward = connection._asgi_send

    async def watch(message) -> None:
        await forward(message)
        if message["type"] == "websocket.accept" or (
            message["type"] == "websocket.http.response.body" and not message.get("more_body")
        ):
            answered.set()

    # Before entering, which is when the app is handed this callable.
    connection._asgi_send = watch
    try:
        async with connection:
            await asyncio.wait_for(answered.wait(), HANDSHAKE_TIMEOUT)
    except WebsocketResponseError as refused:
        assert not connection.accepted
        return refused.response.status_code
    assert connection.accepted
    return ACCEPTED


def url_for_cell(app, rule, values: dict) -> str:
    arguments = {name: values[name] for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, arguments)


async def ask(person: Person, method: str, url: str, entry: Route, fill: dict):
    if method == "GET":
        return await person.get(url, query_string=entry.query or None)
    assert method == "POST", f"no way to make a {method} request yet: add one"
    form = {name: value.format(**fill) for name, value in entry.form.items()}
    return await person.post(url, form)


def answer_of(response) -> Answer:
    if 300 <= response.status_code < 400:
        return (response.status_code, response.headers.get("Location"))
    return response.status_code


def matches(expected: Answer, actual: Answer, fill: dict) -> bool:
    if isinstance(expected, int) or isinstance(actual, int):
        return expected == actual
    status, location = expected
    location = location.format(**fill)
    if location.endswith("*"):
        return actual[0] == status and actual[1].startswith(location[:-1])
    return actual == (status, location)


def is_refusal(role: str, answer: Answer) -> bool:
    """Refused: an error, or a signed-out visitor sent to log in."""
    if isinstance(answer, int):
        return answer >= 400
    return role == "anonymous" and answer[1].startswith("/login")


def cell_id(cell) -> str:
    method, rule, role = cell
    return f"{method} {rule} as {role}"


@in_the_world
@pytest.mark.parametrize("cell", CELLS, ids=cell_id)
async def test_cell(world: World, cell):
    method, rule_text, role = cell
    entry = EXPECTED.get((method, rule_text))
    assert entry is not None, f"{method} {rule_text} has no entry in EXPECTED: add one"
    rule = ROUTES[(method, rule_text)]
    expected = entry.answers[role]
    scene = await world.scene()

    fresh_session = (method, rule_text) in SESSION_ROUTES
    if role == "anonymous":
        person = world.people.anonymous()
        await person.refresh_token("/login")  # a valid anonymous token: refused for who
        me = OUTSIDER
    else:
        me = PLAYERS[role]
        person = (
            await sign_in_again(world.people, me) if fresh_session else await world.person(role)
        )

    values = {
        "chat_id": scene.chat,
        "seq": scene.seq,
        "username": TARGET,
        "user_id": await user_id(world.db, OUTSIDER),
        "filename": "app.css",
        "version": "0123456789ab",
    }
    url = url_for_cell(world.app, rule, values)
    target = url + ("?" + urlencode(entry.query) if entry.query else "")
    fill = {
        "chat": scene.chat,
        "seq": scene.seq,
        "next_seq": scene.seq + 1,
        "next": urlencode({"next": target}),
        "unique": world.unique(),
        "me": me,
    }

    before = await everything(world.db)
    if method == WEBSOCKET:
        actual: Answer = await handshake(person.client, url, OWN_ORIGIN)
        assert matches(expected, actual, fill), (expected, actual)
        for origin in FOREIGN_ORIGINS:
            # From another site (or from nowhere), nobody gets a socket, signed in or not.
            assert await handshake(person.client, url, origin) == 403, origin
        assert await everything(world.db) == before
        return

    response = await ask(person, method, url, entry, fill)
    actual = answer_of(response)
    assert matches(expected, actual, fill), (expected, actual, await response.get_data())
    after = await everything(world.db)
    if is_refusal(role, actual):
        assert after == before, "a refused request changed the database"
    elif (method, rule_text, role) in CHANGES_ONLY_A_COOKIE:
        assert after == before, "it should have changed only a cookie"
        assert response.headers.get("Set-Cookie"), "it changed nothing"
    elif method == "POST":
        assert after != before, "an accepted POST changed nothing"

    if role == "non-member" and "chat_id" in rule.arguments:
        # Someone else's chat answers exactly like a chat that does not exist.
        missing_url = url_for_cell(world.app, rule, {**values, "chat_id": MAX_ID})
        missing = await ask(person, method, missing_url, entry, fill)
        assert missing.status_code == response.status_code
        assert await missing.get_data() == await response.get_data()
        assert await everything(world.db) == after

    if fresh_session and role != "anonymous" and rule_text == "/account/password":
        # Changing the password ended the role's other sessions: sign its browser in again.
        world.people.known.pop(me)
        world.people.known[me] = await sign_in_again(world.people, me)


@in_the_world
async def test_anyones_stylesheet_is_the_same_public_rule_naming_only_that_id(world: World):
    """/style/mine-<id>.css answers for any id, to anyone, with nothing but the id in it."""
    zoe = await user_id(world.db, OUTSIDER)
    anonymous = world.people.anonymous()
    bodies = set()
    for person in (anonymous, await world.person("member"), await world.person("owner")):
        response = await person.get(f"/style/mine-{zoe}.css")
        assert response.status_code == 200
        bodies.add(await response.get_data(as_text=True))
    assert len(bodies) == 1
    (body,) = bodies
    assert set(re.findall(r'"(\d+)"', body)) == {str(zoe)}, body
    assert OUTSIDER not in body.lower()
