"""Fuzzing: every form field, query parameter and id in a path, property-based.

For each route, hypothesis sends values nobody would type: any Unicode (never lone
surrogates, which no browser can send), control characters and NULs, invisible and
whitespace-only text, strings far beyond the limits of vibechat/forms.py, bytes that
are not UTF-8, numbers of every size and sign, fields left out or sent twice. The
properties, for every answer:

- never a 5xx, and the status is one the route may give for what was sent;
- a redirect goes to a path on this site, written as a valid URI (printable ASCII);
- a refusal (4xx) leaves every row as it was: chats, memberships, messages, users,
  sessions;
- after an accepted request every row still obeys the data rules (SPEC §3): bodies of
  1-4000 visible characters, titles of 1-100, seq and rev gapless, a direct chat with
  exactly two people, and so on, so nothing was half written.

One app and one set of people serve all the examples of the module; each example runs
on the module's event loop (asyncio.Runner). Nothing is remembered between runs
(database=None), so every run of CI explores afresh.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.support.app import app_config
from tests.support.people import PASSWORD, People, Person, create_chat, send
from vibechat.app import create_app
from vibechat.models import Chat, Membership, Message, Session, User

# -- limits, written out again: the rules the stored data must obey (SPEC §3) ---------------

USERNAME = re.compile(r"[A-Za-z0-9_.-]{3,32}")
CLIENT_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
DISPLAY_NAME_MAX = 64
TITLE_MAX = 100
BODY_MAX = 4000
MAX_ID = 2**31 - 1
OWN_ORIGIN = "http://localhost"  # the test client's scheme and host
FORM = {"Content-Type": "application/x-www-form-urlencoded"}

EXAMPLES = 50  # per property: about 30 s for the whole file on two cores
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


# -- strategies --------------------------------------------------------------------------

CONTROL = [chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u202e", "\u2066", "\u2060", "\ufeff"]
INVISIBLE += ["\u00ad", "\u061c", "\u202a", "\u2069", "\ufff9", "\U000e0067", "\u3164", "\ufe0f"]
SPACES = [" ", "\t", "\n", "\r", "\x0b", "\x0c", "\x85", "\xa0", "\u1680", "\u2003"]
SPACES += ["\u2028", "\u2029", "\u202f", "\u3000"]
ODD = ["\u0301", "\ufdfd", "\U0001f469\u200d\U0001f469\u200d\U0001f467", "\U0010fffd"]
ODD += ["\uffff", "\ufffe", "\ufffd", "\u212b", "\u0130", "\u0131", "\u00df", "\ufb03"]
ODD += ["\u0661", "\uff11", "\u00b9", "\u2160", "<", ">", "&", '"', "'", "%", "+", "/", "\\"]
DIGITS = ["0", "00", "01", "-0", "-1", "+1", "1.0", "1e3", "0x1f", " 1", "1 ", "\u0661"]
DIGITS += ["\uff11", "\u00b2", str(MAX_ID), str(MAX_ID + 1), str(2**63), str(10**40)]
SPECIAL = ["", "null", "None", "undefined", "NaN", "-Infinity", "[]", "{}", "%00", "%ZZ"]
SPECIAL += ["../../etc/passwd", "<script>alert(1)</script>", "'; DROP TABLE users; --"]
SPECIAL += ["${7*7}", "{{7*7}}", "\x00", "a\x00b", "\r\nSet-Cookie: x=1", "@", ",", " , "]
SPECIAL += ["\u202egnp.exe", "//evil.example", "https://evil.example", "javascript:alert(1)"]


def joined(pieces: list[str], min_size: int = 0, max_size: int = 12):
    """Pieces (characters, or clusters such as a family emoji) strung together."""
    return st.lists(st.sampled_from(pieces), min_size=min_size, max_size=max_size).map("".join)


def repeated(unit: st.SearchStrategy[str], sizes: st.SearchStrategy[int]):
    """A unit repeated: long strings without asking hypothesis for thousands of draws."""
    return st.builds(lambda text, times: text * times, unit, sizes)


# Lengths around every limit in vibechat/forms.py and past them, still under the
# request size limit (a larger request is tried on its own: 413).
AROUND_LIMITS = st.sampled_from(
    [31, 32, 33, 63, 64, 65, 99, 100, 101, 1023, 1024, 1025, 3999, 4000, 4001, 4500]
)
UNITS = ["x", "\u00e9", "\U0001f600", "a ", " ", "\u200d", "\n", "\x00", "\u0301"]

junk = st.one_of(
    st.text(max_size=40),  # any Unicode but lone surrogates
    joined(CONTROL + INVISIBLE + ["a", " "]),
    joined(SPACES + INVISIBLE, min_size=1),  # blank
    joined([*ODD, "a", "1"]),
    repeated(st.sampled_from(UNITS), AROUND_LIMITS),  # long
    st.integers().map(str),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats().map(repr),
    st.sampled_from(DIGITS + SPECIAL),
    st.binary(max_size=12),  # not UTF-8: the server decodes with replacement characters
)


@st.composite
def fields(draw, **strategies):
    """(name, value) pairs for a form: each field sent once (mostly), left out or sent
    twice; sometimes a field the route does not know."""
    pairs = []
    for name, values in strategies.items():
        how = draw(st.sampled_from(["once", "once", "once", "once", "missing", "twice"]))
        if how == "once":
            pairs.append((name, draw(values)))
        elif how == "twice":
            pairs += [(name, draw(values)), (name, draw(values))]
    if draw(st.booleans()) and draw(st.booleans()):
        pairs.append((draw(st.sampled_from(["extra", "csrf_token", "_method"])), draw(junk)))
    return pairs


@st.composite
def sometimes(draw, plausible: st.SearchStrategy):
    """Plausible values two times in three (so that requests get accepted too), else junk."""
    return draw(junk if draw(st.integers(0, 2)) == 0 else plausible)


def names_joined(names):
    return lambda separator: separator.join(names)


usernames = sometimes(
    st.one_of(
        st.from_regex(USERNAME, fullmatch=True),
        st.sampled_from(["bob", "BOB", " bob ", "@bob", "carol", "dave", "alice", "fuzzer"]),
    )
)
passwords = sometimes(
    st.one_of(st.just(PASSWORD), st.text(min_size=8, max_size=40), st.just("short"))
)
display_names = sometimes(st.text(max_size=70))
titles = sometimes(st.text(min_size=1, max_size=30))
bodies = sometimes(st.text(min_size=1, max_size=60))
member_lists = sometimes(
    st.one_of(
        st.lists(
            st.sampled_from(["bob", "carol", "dave", "@bob", "BOB", "nobody", "x", "a" * 33]),
            max_size=5,
        ).flatmap(
            lambda names: st.sampled_from([" ", ",", ", ", "\n", "\t,"]).map(names_joined(names))
        ),
        st.integers(99, 102).map(lambda n: " ".join(f"user{i}" for i in range(n))),
    )
)
tokens = sometimes(st.from_regex(CLIENT_TOKEN, fullmatch=True))
numbers = sometimes(st.integers(min_value=0, max_value=MAX_ID).map(str))
ids = st.one_of(
    st.integers(min_value=-(2**40), max_value=2**70).map(str),
    st.sampled_from([*DIGITS, "", ".", "..", "direct", "%", "1/2", "1;2", "1?x=1", "1#x"]),
    st.text(max_size=8),
)
next_paths = sometimes(
    st.one_of(
        st.sampled_from(["/chats", "/chats/1", "/account/password", "/", "//evil.example"]),
        st.sampled_from(["/\\evil.example", "/\t/evil.example", "https://evil.example/"]),
        st.sampled_from(["/ok\x00", "/ok\x7f", "/ok\x01", "/ /evil", "/\u3000", "/caf\u00e9"]),
        st.builds(lambda a, b: f"/{a}/{b}", st.text(max_size=5), st.text(max_size=5)),
    )
)


# -- the world ---------------------------------------------------------------------------


@dataclass
class World:
    runner: asyncio.Runner
    app: object
    db: object
    people: People
    room: int = 0  # a group chat owned by alice, with bob and fuzzer in it
    seq: int = 0  # fuzzer's message in it
    passwords: dict[str, str] = field(default_factory=dict)

    def run(self, coroutine):
        return self.runner.run(coroutine)

    @property
    def max_request(self) -> int:
        return self.app.extensions["settings"].max_body_bytes

    async def person(self, username: str) -> Person:
        return await self.people(username)

    async def visitor(self) -> Person:
        """A signed-out browser with a valid anonymous token."""
        visitor = self.people.anonymous()
        await visitor.refresh_token("/login")
        return visitor


@pytest.fixture(scope="module")
def world(sqlite_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    shutil.copyfile(sqlite_template, folder / "vibechat.sqlite3")
    url = f"sqlite+aiosqlite:///{folder / 'vibechat.sqlite3'}"
    # No rate limits: hypothesis fails at logging in far more often than anyone may.
    app = create_app(app_config(url, folder, VIBECHAT_RATE_LIMITS=False), testing=True)
    serving = app.test_app()
    with asyncio.Runner() as runner:
        runner.run(serving.__aenter__())
        try:
            people = People(app)
            world = World(runner, app, app.extensions["db"], people)

            async def setup():
                for username in ("alice", "bob", "carol", "dave", "fuzzer", "keymaster"):
                    await people(username)
                world.room = await create_chat(await people("alice"), "Room", "bob fuzzer")
                response = await send(await people("fuzzer"), world.room, "to be edited")
                world.seq = int(response.headers["Location"].rsplit("-", 1)[1])
                world.passwords["keymaster"] = PASSWORD

            runner.run(setup())
            yield world
        finally:
            runner.run(serving.__aexit__(None, None, None))


# -- looking at the database -------------------------------------------------------------


async def everything(db) -> dict[str, list[tuple]]:
    """Every row that a request may write (last-seen times aside, which reading refreshes)."""
    queries = {
        "users": select(User.id, User.username, User.username_key, User.display_name)
        .add_columns(User.password_hash)
        .order_by(User.id),
        "sessions": select(Session.id, Session.token_hash, Session.user_id).order_by(Session.id),
        "chats": select(Chat.__table__).order_by(Chat.id),
        "memberships": select(Membership.__table__).order_by(
            Membership.chat_id, Membership.user_id
        ),
        "messages": select(Message.__table__).order_by(Message.id),
    }
    rows = {}
    async with db.read() as session:
        for name, query in queries.items():
            rows[name] = [tuple(row) for row in await session.execute(query)]
    return rows


# Issue 15 changed the rule on purpose: format characters (Cf) that languages need are
# kept; only those that reorder or hide text are refused (vibechat/forms.py says why).
REFUSED = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0xFFF9, 0xFFFA, 0xFFFB)}
FILLERS = set("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0")
FILLERS |= {chr(c) for c in (*range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0))}


def visible(text: str, limit: int, *, multiline: bool = False) -> bool:
    """1..limit characters, something visible (not only spaces, format characters and
    fillers), no control characters (but newlines and tabs in a message) and none of the
    format characters that reorder or hide text; trimmed, no byte order mark in front;
    single-spaced when it is a one-line field."""
    allowed = {"\n", "\t"} if multiline else set()
    return (
        0 < len(text) <= limit
        and text == text.strip()
        and not text.startswith("\ufeff")
        and (multiline or text == " ".join(text.split()))
        and "\r" not in text
        and not all(c.isspace() or c in FILLERS or unicodedata.category(c) == "Cf" for c in text)
        and not any(unicodedata.category(c) == "Cc" and c not in allowed for c in text)
        and not REFUSED.intersection(text)
    )


async def assert_rows_obey_the_rules(db) -> None:
    """The data rules of SPEC §3 hold for every row: nothing half written, nothing invalid."""
    async with db.read() as session:
        users = list(await session.scalars(select(User)))
        chats = list(await session.scalars(select(Chat)))
        memberships = list(await session.scalars(select(Membership)))
        messages = list(await session.scalars(select(Message)))
    user_ids = {user.id for user in users}
    for user in users:
        assert USERNAME.fullmatch(user.username), user.username
        assert user.username_key == user.username.lower()
        assert visible(user.display_name, DISPLAY_NAME_MAX), user.display_name
    for chat in chats:
        members = [m for m in memberships if m.chat_id == chat.id]
        assert members, f"chat {chat.id} has nobody in it"
        assert all(m.user_id in user_ids and m.role in {"owner", "member"} for m in members)
        assert all(0 <= m.last_read_seq <= chat.last_seq for m in members)
        if chat.kind == "group":
            assert chat.title is not None and visible(chat.title, TITLE_MAX), chat.title
            assert any(m.role == "owner" for m in members), f"chat {chat.id} has no owner"
            assert chat.direct_key is None
        else:
            assert chat.kind == "direct" and chat.title is None
            pair = sorted(m.user_id for m in members)
            assert len(pair) == 2 and chat.direct_key == f"{pair[0]}:{pair[1]}"
            assert all(m.role == "member" for m in members)
        in_chat = [message for message in messages if message.chat_id == chat.id]
        assert sorted(m.seq for m in in_chat) == list(range(1, chat.last_seq + 1)), chat.id
        revs = [m.rev for m in in_chat]
        assert len(set(revs)) == len(revs) and max(revs, default=0) == chat.last_rev
    chat_ids = {chat.id for chat in chats}
    for message in messages:
        assert message.chat_id in chat_ids
        if message.deleted_at is not None:
            assert message.body == ""
        else:
            assert visible(message.body, BODY_MAX, multiline=True), message.body[:200]
        assert message.client_token is None or CLIENT_TOKEN.fullmatch(message.client_token)


# -- one exchange, and the properties every answer has -----------------------------------


def first(pairs, name):
    """The value the server reads for name: the first one sent, decoded as it decodes."""
    for key, value in pairs:
        if key == name:
            return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return None


def assert_location_is_ours(location: str | None) -> None:
    """A redirect stays on this site and is a valid URI: no control characters, no
    spaces, no raw non-ASCII (a real server refuses such a header, or sends it mangled).
    The router's own redirects (a "//" merged) name our origin in full."""
    assert location, "a redirect without a Location"
    assert re.fullmatch(r"[\x21-\x7e]+", location), f"not a valid URI: {location!r}"
    path = location.removeprefix(OWN_ORIGIN)
    parts = urlsplit(path)
    assert not parts.scheme and not parts.netloc, f"leaves the site: {location!r}"
    assert path.startswith("/") and not path.startswith(("//", "/\\")), location


@dataclass
class Exchange:
    status: int
    location: str | None
    before: dict
    after: dict
    body: bytes


async def exchange(
    world: World,
    person: Person,
    method: str,
    path: str,
    allowed: set[int],
    pairs=(),
    *,
    query=(),
    headers=None,
) -> Exchange:
    """Make one request and check what every answer must satisfy."""
    headers = dict(headers or {})
    data = None
    if method == "POST":
        data = urlencode([("csrf_token", person.token), *pairs]).encode()
        headers.update(FORM)
        if len(data) > world.max_request:
            allowed = {413}
    target = path + ("?" + urlencode(list(query)) if query else "")
    before = await everything(world.db)
    response = await person.client.open(target, method=method, data=data, headers=headers)
    body = await response.get_data()
    status = response.status_code
    shown = f"{method} {target} {list(pairs)!r}"[:2000]
    assert status < 500, f"{status} for {shown}: {body[:1000]!r}"
    assert status in allowed, f"{status} (expected one of {sorted(allowed)}) for {shown}"
    location = response.headers.get("Location")
    if 300 <= status < 400:
        assert_location_is_ours(location)
    after = await everything(world.db)
    if status >= 400:
        assert after == before, f"refused with {status} yet rows changed, for {shown}"
    else:
        await assert_rows_obey_the_rules(world.db)
    return Exchange(status, location, before, after, body)


def fuzz(*, examples: list[dict] | None = None, **strategies):
    """Run the decorated check for generated (and the given) keyword arguments; return
    how often each status came back."""

    def decorate(check):
        def run(world: World) -> Counter:
            seen: Counter = Counter()

            @FUZZ
            @given(**strategies)
            def one(**arguments):
                seen[world.run(check(world, **arguments))] += 1

            for explicit in reversed(examples or []):
                one = example(**explicit)(one)
            one()
            return seen

        return run

    return decorate


# -- accounts ----------------------------------------------------------------------------

LONG_PASSWORD = "p" * 1024


def sent(*pairs):
    return {"pairs": list(pairs)}


@fuzz(
    pairs=fields(username=usernames, display_name=display_names, password=passwords),
    examples=[
        sent(("username", "newcomer"), ("password", PASSWORD)),
        sent(("username", "Newcomer2"), ("display_name", " \u200d "), ("password", PASSWORD)),
        sent(("username", "u" * 32), ("display_name", "d" * 64), ("password", LONG_PASSWORD)),
        sent(("username", "dup-1"), ("username", "dup-2"), ("password", PASSWORD)),
        sent(("username", "u" * 33), ("password", PASSWORD)),
        sent(("username", "longname"), ("display_name", "d" * 65), ("password", PASSWORD)),
        sent(("username", "nul-name"), ("display_name", "a\x00b"), ("password", PASSWORD)),
        sent(("username", "longpassword"), ("password", LONG_PASSWORD + "p")),
        sent(("password", PASSWORD)),
    ],
)
async def register(world: World, pairs):
    visitor = await world.visitor()
    done = await exchange(world, visitor, "POST", "/register", {303, 400, 422}, pairs)
    if done.status == 303:
        assert done.location == "/chats"
        assert len(done.after["users"]) == len(done.before["users"]) + 1
        assert len(done.after["sessions"]) == len(done.before["sessions"]) + 1
        assert done.after["users"][-1][1] == first(pairs, "username").strip()
    return done.status


def test_register_never_fails_and_never_half_registers(world):
    seen = register(world)
    assert seen[303] and seen[400] and seen[422], seen


@fuzz(
    pairs=fields(username=usernames, password=passwords, next=next_paths),
    examples=[
        sent(("username", " BOB "), ("password", PASSWORD), ("next", "/chats/1")),
        sent(("username", "bob"), ("password", PASSWORD), ("next", "//evil.example")),
        sent(("username", "bob"), ("password", PASSWORD), ("next", "/ok\x00")),
        sent(("username", "bob"), ("password", "wrong password")),
        sent(("username", "bob\x00"), ("password", PASSWORD)),
        sent(("password", PASSWORD)),
    ],
)
async def login(world: World, pairs):
    visitor = await world.visitor()
    done = await exchange(world, visitor, "POST", "/login", {303, 400, 401}, pairs)
    if done.status == 303:
        assert len(done.after["sessions"]) == len(done.before["sessions"]) + 1
        assert done.after["users"] == done.before["users"]
    return done.status


def test_login_never_fails_and_redirects_only_to_our_own_pages(world):
    seen = login(world)
    assert seen[303] and seen[400] and seen[401], seen


@fuzz(
    signed_in=st.booleans(),
    query=fields(next=next_paths),
    examples=[
        {"signed_in": True, "query": [("next", "/chats/1")]},
        {"signed_in": True, "query": [("next", "https://evil.example/")]},
        {"signed_in": True, "query": [("next", "/ok\x00")]},
        {"signed_in": False, "query": [("next", "/ok\x00")]},
    ],
)
async def login_page(world: World, signed_in: bool, query):
    person = await world.person("carol") if signed_in else await world.visitor()
    allowed = {302} if signed_in else {200}
    done = await exchange(world, person, "GET", "/login", allowed, query=query)
    return done.status


def test_the_login_page_takes_any_next_and_sends_only_to_our_own_pages(world):
    seen = login_page(world)
    assert seen[200] and seen[302], seen


CURRENT = "<the current password>"  # replaced by keymaster's password when sent


@fuzz(
    pairs=fields(current_password=sometimes(st.just(CURRENT)), new_password=passwords),
    examples=[
        sent(("current_password", CURRENT), ("new_password", "a new passphrase")),
        sent(("current_password", CURRENT), ("new_password", LONG_PASSWORD)),
        sent(("current_password", CURRENT), ("new_password", LONG_PASSWORD + "p")),
        sent(("current_password", CURRENT), ("new_password", "I am the KEYMASTER")),
        sent(("current_password", "wrong"), ("new_password", "another passphrase")),
        sent(("current_password", CURRENT)),
    ],
)
async def change_password(world: World, pairs):
    keymaster = await world.person("keymaster")
    current = world.passwords["keymaster"]
    pairs = [(name, current if value == CURRENT else value) for name, value in pairs]
    path = "/account/password"
    done = await exchange(world, keymaster, "POST", path, {303, 400, 422}, pairs)
    if done.status == 303:
        new_password = first(pairs, "new_password")
        hasher = world.app.extensions["password_hasher"]
        (stored,) = [row[4] for row in done.after["users"] if row[1] == "keymaster"]
        assert hasher.verify(stored, new_password)
        world.passwords["keymaster"] = new_password
    return done.status


def test_changing_the_password_never_fails_and_never_half_changes(world):
    seen = change_password(world)
    assert seen[303] and seen[400] and seen[422], seen


# -- chats -------------------------------------------------------------------------------

HUNDRED_AND_ONE = " ".join(f"user{i}" for i in range(101))


@fuzz(
    pairs=fields(title=titles, members=member_lists),
    examples=[
        sent(("title", "  A  new\tchat "), ("members", "bob,, @carol\n dave")),
        sent(("title", "t" * 100)),
        sent(("title", "t" * 101)),
        sent(("title", "a\x00b")),
        sent(("title", "Crowded"), ("members", HUNDRED_AND_ONE)),
        sent(("members", "bob")),
    ],
)
async def create_group(world: World, pairs):
    fuzzer = await world.person("fuzzer")
    done = await exchange(world, fuzzer, "POST", "/chats", {303, 400, 422}, pairs)
    if done.status == 303:
        assert len(done.after["chats"]) == len(done.before["chats"]) + 1
    return done.status


def test_starting_a_group_chat_never_fails_and_never_half_creates(world):
    seen = create_group(world)
    assert seen[303] and seen[400] and seen[422], seen


@fuzz(
    pairs=fields(username=usernames),
    examples=[
        sent(("username", "@dave")),
        sent(("username", "fuzzer")),
        sent(("username", "dave\x00")),
        sent(),
    ],
)
async def direct(world: World, pairs):
    fuzzer = await world.person("fuzzer")
    done = await exchange(world, fuzzer, "POST", "/chats/direct", {303, 400, 422}, pairs)
    return done.status


def test_opening_a_direct_chat_never_fails(world):
    seen = direct(world)
    assert seen[303] and seen[400] and seen[422], seen


@fuzz(
    pairs=fields(members=member_lists),
    examples=[
        sent(("members", "carol dave")),
        sent(("members", " , ")),
        sent(("members", HUNDRED_AND_ONE)),
        sent(),
    ],
)
async def add_members(world: World, pairs):
    alice = await world.person("alice")
    chat = await create_chat(alice, "Adding", "")
    done = await exchange(world, alice, "POST", f"/chats/{chat}/members", {303, 400, 422}, pairs)
    return done.status


def test_adding_members_never_fails_and_never_half_adds(world):
    seen = add_members(world)
    assert seen[303] and seen[400] and seen[422], seen


@fuzz(
    username=sometimes(st.sampled_from(["bob", "BOB", "carol", "alice", "dave", "nobody"])),
    examples=[
        {"username": "bob"},
        {"username": "alice"},
        {"username": "nobody"},
        {"username": "bob/"},
        {"username": "a\x00b"},
    ],
)
async def remove_member(world: World, username):
    alice = await world.person("alice")
    chat = await create_chat(alice, "Removing", "bob carol")
    path = f"/chats/{chat}/members/{quote(username, safe='')}/remove"
    # 308: a "/" in the name ("%2F" decodes to one) can leave "//", which the router
    # merges and redirects.
    done = await exchange(world, alice, "POST", path, {303, 308, 404})
    return done.status


def test_removing_a_member_by_any_name_never_fails(world):
    seen = remove_member(world)
    assert seen[303] and seen[404], seen


@fuzz(
    pairs=fields(title=titles),
    examples=[
        sent(("title", "Renamed \u200d")),
        sent(("title", "t" * 100)),
        sent(("title", "t" * 101)),
        sent(("title", "a\x00b")),
        sent(("title", "\u200b")),
        sent(),
    ],
)
async def rename(world: World, pairs):
    alice = await world.person("alice")
    path = f"/chats/{world.room}/rename"
    done = await exchange(world, alice, "POST", path, {303, 400, 422}, pairs)
    return done.status


def test_renaming_never_fails_and_keeps_a_valid_title(world):
    seen = rename(world)
    assert seen[303] and seen[400] and seen[422], seen


# -- messages ----------------------------------------------------------------------------


def posted(*pairs, htmx=False):
    return {"pairs": list(pairs), "htmx": htmx}


@fuzz(
    pairs=fields(body=bodies, client_token=tokens),
    htmx=st.booleans(),
    examples=[
        posted(("body", " hello\r\nthere\t"), ("client_token", "t" * 64)),
        posted(("body", "b" * 4000), ("client_token", "")),
        posted(("body", "b" * 4001)),
        posted(("body", "a\x00b")),
        posted(("body", "ok"), ("client_token", "t" * 65)),
        posted(("body", "x" * 70_000)),
        posted(("body", "from htmx"), htmx=True),
        posted(("client_token", "tok-2"), htmx=True),
    ],
)
async def post_message(world: World, pairs, htmx: bool):
    fuzzer = await world.person("fuzzer")
    headers = {"HX-Request": "true"} if htmx else {}
    path = f"/chats/{world.room}/messages"
    allowed = {204 if htmx else 303, 400, 422}
    done = await exchange(world, fuzzer, "POST", path, allowed, pairs, headers=headers)
    return done.status


def test_posting_a_message_never_fails_and_stores_only_valid_bodies(world):
    seen = post_message(world)
    assert seen[303] and seen[204] and seen[400] and seen[413] and seen[422], seen


@fuzz(
    pairs=fields(body=bodies),
    examples=[
        sent(("body", "edited \u200d")),
        sent(("body", "e" * 4000)),
        sent(("body", "e" * 4001)),
        sent(("body", "a\x00b")),
        sent(),
    ],
)
async def edit_message(world: World, pairs):
    fuzzer = await world.person("fuzzer")
    path = f"/chats/{world.room}/messages/{world.seq}/edit"
    done = await exchange(world, fuzzer, "POST", path, {303, 400, 422}, pairs)
    return done.status


def test_editing_a_message_never_fails_and_stores_only_valid_bodies(world):
    seen = edit_message(world)
    assert seen[303] and seen[400] and seen[422], seen


@fuzz(
    pairs=fields(seq=numbers),
    htmx=st.booleans(),
    examples=[
        posted(("seq", "1")),
        posted(("seq", str(MAX_ID)), htmx=True),
        posted(("seq", str(MAX_ID + 1))),
        posted(("seq", "-1")),
        posted(("seq", "\uff11")),
        posted(),
    ],
)
async def mark_read(world: World, pairs, htmx: bool):
    bob = await world.person("bob")
    headers = {"HX-Request": "true"} if htmx else {}
    path = f"/chats/{world.room}/read"
    allowed = {204 if htmx else 303, 400}
    done = await exchange(world, bob, "POST", path, allowed, pairs, headers=headers)
    seq = first(pairs, "seq")
    valid = seq is not None and seq.isascii() and seq.isdigit() and int(seq) <= MAX_ID
    assert (done.status < 400) == valid, (seq, done.status)
    return done.status


def test_marking_read_takes_only_a_whole_number_in_range(world):
    seen = mark_read(world)
    assert seen[303] and seen[204] and seen[400], seen


# -- query parameters --------------------------------------------------------------------


def expected_for_messages_query(query) -> int:
    """What GET /chats/<id>/messages must answer: exactly one of before, after, since,
    a whole number from 0 to MAX_ID; nothing at all is the chat itself."""
    if not query:
        return 303
    present = {
        name: value
        for name in ("before", "after", "since")
        if (value := first(query, name)) is not None
    }
    for value in present.values():
        if not (value.isascii() and value.isdigit() and int(value) <= MAX_ID):
            return 400
    return 200 if len(present) == 1 else 400


def asked(*query, htmx=False):
    return {"query": list(query), "htmx": htmx}


@fuzz(
    query=fields(before=numbers, after=numbers, since=numbers, page=junk),
    htmx=st.booleans(),
    examples=[
        asked(),
        asked(("since", "0"), htmx=True),
        asked(("after", str(MAX_ID))),
        asked(("before", "-1")),
        asked(("before", str(MAX_ID + 1))),
        asked(("before", "5"), ("after", "1")),
        asked(("after", "1"), ("after", "x")),
        asked(("page", "2")),
    ],
)
async def messages_query(world: World, query, htmx: bool):
    bob = await world.person("bob")
    headers = {"HX-Request": "true"} if htmx else {}
    path = f"/chats/{world.room}/messages"
    expected = expected_for_messages_query(query)
    done = await exchange(world, bob, "GET", path, {expected}, query=query, headers=headers)
    return done.status


def test_message_pages_take_any_query_and_answer_exactly_as_specified(world):
    seen = messages_query(world)
    assert seen[200] and seen[303] and seen[400], seen


PAGES = ["/chats", "/chats/{room}", "/chats/{room}/members", "/account/password"]
PAGES += ["/static/app.css", "/style/mine-1.css", "/healthz", "/readyz", "/register"]


@fuzz(
    page=st.sampled_from(PAGES),
    query=st.lists(
        st.tuples(st.sampled_from(["changed", "v", "next", "x", "", "before"]), junk),
        max_size=3,
    ),
    examples=[{"page": page, "query": [("changed", "1"), ("v", "\x00")]} for page in PAGES],
)
async def any_page_query(world: World, page, query):
    bob = await world.person("bob")
    path = page.format(room=world.room)
    allowed = {302} if page == "/register" else {200}
    done = await exchange(world, bob, "GET", path, allowed, query=query)
    return done.status


def test_every_page_ignores_query_parameters_it_does_not_know(world):
    seen = any_page_query(world)
    assert seen[200] and seen[302], seen


# -- ids in paths ------------------------------------------------------------------------


def member_chat_ids(rows, username: str) -> set[int]:
    (me,) = [user[0] for user in rows["users"] if user[1] == username]
    return {row[0] for row in rows["memberships"] if row[1] == me}


def at(where, chat="{room}", seq="{seq}"):
    return {"where": where, "chat": chat, "seq": seq}


@fuzz(
    chat=st.one_of(ids, st.just("{room}")),
    seq=st.one_of(ids, st.just("{seq}")),
    where=st.sampled_from(["show", "older", "edit", "read"]),
    examples=[
        at("show"),
        at("edit"),
        at("read"),
        at("show", chat="0"),
        at("show", chat=str(MAX_ID)),
        at("older", chat=str(MAX_ID + 1)),
        at("edit", seq=str(2**64)),
        at("read", chat="-1"),
        at("show", chat="direct"),
    ],
)
async def path_ids(world: World, chat: str, seq: str, where: str):
    """An id that is not a whole number from 1 to MAX_ID never matches; one that does
    opens a chat of one's own or answers 404, never anyone else's."""
    fuzzer = await world.person("fuzzer")
    chat = quote(chat.replace("{room}", str(world.room)), safe="")
    seq = quote(seq.replace("{seq}", str(world.seq)), safe="")
    method, path, query, pairs = {
        "show": ("GET", f"/chats/{chat}", (), ()),
        "older": ("GET", f"/chats/{chat}/messages", [("before", "5")], ()),
        "edit": ("GET", f"/chats/{chat}/messages/{seq}/edit", (), ()),
        "read": ("POST", f"/chats/{chat}/read", (), [("seq", "1")]),
    }[where]
    success = 303 if method == "POST" else 200
    # 405: "direct" makes /chats/direct, a POST-only route; 308: "//" merged.
    allowed = {success, 404, 405, 308}
    done = await exchange(world, fuzzer, method, path, allowed, pairs, query=query)
    if done.status == success:
        adapter = world.app.url_map.bind("localhost")
        _, arguments = adapter.match(unquote(path), method=method)
        assert 1 <= arguments["chat_id"] <= MAX_ID
        assert arguments["chat_id"] in member_chat_ids(done.before, "fuzzer"), path
    return done.status


def test_ids_in_paths_never_fail_and_never_open_someone_elses_chat(world):
    seen = path_ids(world)
    assert seen[200] and seen[303] and seen[404] and seen[405], seen


# -- search ------------------------------------------------------------------------------

# The syntax of SQLite's FTS5 and PostgreSQL's tsquery, and of the search box itself:
# none of it may reach an engine as syntax (vibechat/search.py).
SEARCH_SYNTAX = ['"', '""', "*", "NEAR(", "NEAR(a b, 2)", "-", "AND", "OR", "NOT", "(", ")"]
SEARCH_SYNTAX += [":", "^", "{", "}", "body:", "message_search:", "&", "|", "!", "<->", "<2>"]
SEARCH_SYNTAX += [":*", "'", "\\", "from:", "in:", 'in:"', "from:@", "в:", "от:", "rowid"]
SEARCH_SYNTAX += ["поис", "hello", "sneaky", " ", " ", "\x00", "\u0301", "\U0001f600"]
search_texts = st.one_of(
    junk,
    joined(SEARCH_SYNTAX, min_size=1),
    repeated(st.sampled_from(SEARCH_SYNTAX), st.sampled_from([100, 250, 501, 1000])),
)


def expected_for_search(world: World, query) -> int:
    """400 for a chat or page that is not a whole number in range, 404 for a chat that
    is not the searcher's, else 200 whatever was typed."""
    first = {}
    for name, value in query:
        # Bytes that are not UTF-8 arrive as replacement characters.
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        first.setdefault(name, text)
    for name in ("chat", "page"):
        value = first.get(name)
        if value is not None and not (value.isascii() and value.isdigit() and int(value) <= MAX_ID):
            return 400
    if "chat" in first and int(first["chat"]) != world.room:
        return 404
    return 200


@fuzz(
    query=fields(
        q=search_texts, chat=st.one_of(st.just("{room}"), numbers), page=numbers, from_=usernames
    ),
    htmx=st.booleans(),
    examples=[
        asked(("q", 'NEAR("a" b) * -x ^y "unbalanced')),
        asked(("q", "'a':* & !b | <-> c"), htmx=True),
        asked(("q", "a\x00b")),
        asked(("q", "x" * 1000)),
        asked(("q", "from:nobody in:nowhere")),
        asked(("q", "sneaky"), ("chat", "{room}"), ("page", "2")),
        asked(("q", "sneaky"), ("chat", "0")),
    ],
)
async def search_query(world: World, query, htmx: bool):
    """Any query gets a page, never a 500; only the searcher's chats are searched."""
    fuzzer = await world.person("fuzzer")
    query = [
        ("from" if name == "from_" else name, str(world.room) if value == "{room}" else value)
        for name, value in query
    ]
    headers = {"HX-Request": "true"} if htmx else {}
    expected = expected_for_search(world, query)
    done = await exchange(world, fuzzer, "GET", "/search", {expected}, query=query, headers=headers)
    return done.status


def test_search_takes_any_query_and_never_fails(world):
    seen = search_query(world)
    assert seen[200] and seen[400] and seen[404], seen


# -- the CSRF token itself ---------------------------------------------------------------


@fuzz(
    token=st.one_of(junk, st.just("<someone else's>")),
    examples=[{"token": "<someone else's>"}, {"token": ""}, {"token": "\x00"}],
)
async def csrf_tokens(world: World, token):
    fuzzer = await world.person("fuzzer")
    if token == "<someone else's>":
        token = (await world.person("bob")).token
    form = urlencode([("csrf_token", token), ("body", "sneaky")]).encode()
    before = await everything(world.db)
    response = await fuzzer.client.post(f"/chats/{world.room}/messages", data=form, headers=FORM)
    assert response.status_code == 403, (token, response.status_code)
    assert await everything(world.db) == before
    return response.status_code


def test_any_other_csrf_token_is_refused_and_changes_nothing(world):
    assert set(csrf_tokens(world)) == {403}


def test_the_strategies_hold_every_kind_of_odd_character():
    kinds = {unicodedata.category(c) for c in "".join(CONTROL + INVISIBLE + SPACES + ODD)}
    assert {"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "So", "Nd", "Co", "Cn"} <= kinds, kinds
    assert "\x00" in CONTROL and set(string.whitespace) <= set(SPACES)
