"""XSS: hostile text in every place people type, rendered everywhere it is shown.

A corpus of payloads (script and style tags, event handlers, `javascript:` URLs, SVG and
MathML, frames and embeds, template syntax for Jinja and others, htmx attributes, broken
markup) goes into message bodies, edits, display names, chat titles, and the username,
title and member fields of forms that are refused and shown again.

1. HTTP (Quart's test client): two twin chats are built the same way, one from the
   payloads and one from harmless text. Every rendering of the payload chat (the full
   page, the older-messages fragment and page, the `?after=` and `?since=` catch-up as
   fragment and page, the live frames a socket receives, the edit form, the members
   page, the chat list, direct chats) must have exactly the elements and attribute
   names of its harmless twin, no script of its own, no `on*` attribute, no htmx or ws
   attribute the app does not put there itself, no `javascript:` URL. Message bodies are
   Markdown (SPEC §10): inside `.message-body` only the formatter's own elements and
   attributes may be (links to http, https and mailto only, each with its `rel`), and
   the rest of the page must match the twin exactly. Every payload shows as text,
   character for character (so `{{ 7*7 }}` stays `{{ 7*7 }}`), but for the bodies with
   Markdown in them, which read as tests/support/xss.py says by hand (`Shown`): their
   words and the elements they make.
2. Chromium: tests/test_xss_browser.py puts the same corpus in front of a real browser.

Each payload names its own number: `window.__xss=N`, `alert(N)`, `/xss-probe-N`.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import jinja2
import jinja2.sandbox
import pytest
from jinja2.filters import do_truncate
from markupsafe import escape
from quart.testing.connections import WebsocketDisconnectError
from selectolax.lexbor import LexborHTMLParser, LexborNode
from sqlalchemy import func, select

from tests.support.app import app_config
from tests.support.db import snapshot, user_id
from tests.support.html import foreign_scripts, html
from tests.support.people import PASSWORD, create_chat, send
from tests.support.report import report
from tests.support.xss import NAME_PAYLOADS, PAYLOADS, TITLE_PAYLOADS, shown
from vibechat import forms
from vibechat.app import create_app
from vibechat.models import User
from vibechat.templating import PREVIEW_CHARS

HTMX = {"HX-Request": "true"}
OWN_ORIGIN = "http://localhost"
RECEIVE_TIMEOUT = 5.0


def test_the_corpus_is_big_and_covers_every_class():
    kinds = Counter(p.kind for p in PAYLOADS)
    assert len(PAYLOADS) >= 50
    assert len({p.text for p in PAYLOADS}) == len(PAYLOADS), "a payload is listed twice"
    assert set(kinds) == {
        "script",
        "style",
        "event",
        "javascript-url",
        "svg",
        "frame",
        "template",
        "htmx",
        "encoding",
        "markdown",
    }
    assert all(count >= 5 for count in kinds.values()), kinds
    # Every class reaches display names and titles too, not only message bodies. Names
    # and titles are never Markdown (shown as typed, as text), so the markdown class is
    # for bodies; its short payloads are names and titles all the same.
    assert {p.kind for p in NAME_PAYLOADS} == set(kinds)
    markdown = [p for p in PAYLOADS if p.kind == "markdown"]
    assert len(markdown) >= 15
    assert all(str(p.number) in p.body for p in markdown), "a payload does not name itself"
    assert sum(len(p.body) == forms.BODY_MAX for p in markdown) >= 3, "pathological sizes"
    # Most bodies read exactly as typed; those with Markdown say how (tests/support/xss.py).
    assert 5 <= sum(p.markdown is not None for p in PAYLOADS) < len(PAYLOADS) // 3
    assert len(NAME_PAYLOADS) >= 50 and len(TITLE_PAYLOADS) >= 60
    for p in PAYLOADS:
        assert forms.body(p.text) == p.body
        with pytest.raises(forms.Invalid):
            forms.username(p.text)
    for p in NAME_PAYLOADS:
        assert forms.display_name(p.text, "fallback") == p.one_line
    for p in TITLE_PAYLOADS:
        assert forms.title(p.text) == p.one_line


# -- what "inert" means --------------------------------------------------------------------

URL_ATTRIBUTES = frozenset(
    {
        "action",
        "background",
        "code",
        "codebase",
        "data",
        "formaction",
        "href",
        "lowsrc",
        "ping",
        "poster",
        "src",
        "srcdoc",
        "xlink:href",
    }
)
HOSTILE_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:image/svg", "livescript:")
ACTIVE_PREFIXES = ("hx-", "data-hx-", "ws-", "data-ws-")
# Elements that carry script, load something or change the document: the harmless twin
# has a fixed number of each (mostly none); a payload may add none.
RISKY_TAGS = frozenset(
    {
        "audio",
        "base",
        "embed",
        "frame",
        "frameset",
        "iframe",
        "image",
        "img",
        "link",
        "math",
        "meta",
        "noscript",
        "object",
        "script",
        "source",
        "style",
        "svg",
        "template",
        "video",
    }
)


# What the Markdown formatter (vibechat/formatting.py, SPEC §10) may put in a message
# body, and nothing else: its elements, only the attributes it sets, links only to the
# web and mail, each with the same rel.
BODY_CONTAINERS = frozenset({"p", "div", "blockquote"})  # the blockquote: the delete page
BODY_ELEMENTS = frozenset(
    {"p", "br", "strong", "em", "s", "code", "pre", "blockquote", "ul", "ol", "li", "a"}
)
BODY_ATTRIBUTES = {"a": frozenset({"href", "rel", "title"}), "ol": frozenset({"start"})}
LINK_REL = "nofollow noopener noreferrer ugc"
LINK_SCHEMES = ("http:", "https:", "mailto:")
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:", "livescript:")


def root_of(tree: LexborHTMLParser | LexborNode) -> LexborNode:
    return tree.root if isinstance(tree, LexborHTMLParser) else tree


def elements(tree: LexborHTMLParser | LexborNode) -> Iterator[LexborNode]:
    """Every element (and comment) in the tree, the root included."""
    yield from root_of(tree).traverse(include_text=False)


def is_body(node: LexborNode) -> bool:
    return "message-body" in (node.attributes.get("class") or "").split()


def in_body(node: LexborNode) -> bool:
    parent = node.parent
    while parent is not None:
        if is_body(parent):
            return True
        parent = parent.parent
    return False


def shape(tree) -> Counter:
    """The markup without its text and attribute values: which elements, with which
    attribute names, how often (comments count too). A message body counts as one
    element whatever it holds (a <p> for a paragraph, a <div> for blocks): what is in it
    is the formatter's, checked by body_markup_problems."""
    return Counter(
        ("message-body" if is_body(node) else node.tag, tuple(sorted(node.attributes)))
        for node in elements(tree)
        if not in_body(node)
    )


def body_markup_problems(body: LexborNode) -> list[str]:
    """What in a message body the formatter could not have put there."""
    found = []
    if body.tag not in BODY_CONTAINERS or set(body.attributes) - {"class", "dir"}:
        found.append(f"a message body in <{body.tag} {sorted(body.attributes)}>")
    for node in list(body.traverse(include_text=False))[1:]:
        tag, attributes = node.tag, node.attributes
        what = f"<{tag} {attributes}> in a message body"
        if tag not in BODY_ELEMENTS:
            found.append(f"{what}: not one of the formatter's elements")
        extra = set(attributes) - BODY_ATTRIBUTES.get(tag, frozenset())
        if extra:
            found.append(f"{what}: {sorted(extra)} not among the formatter's attributes")
        for name, value in attributes.items():
            if url_scheme(value or "").startswith(SCRIPT_SCHEMES):
                found.append(f"{what}: {name} is a script or data URL")
        if tag == "a":
            if attributes.get("rel") != LINK_REL:
                found.append(f"{what}: a link without rel={LINK_REL!r}")
            if not url_scheme(attributes.get("href") or "").startswith(LINK_SCHEMES):
                found.append(f"{what}: a link to neither http, https nor mailto")
    return found


def active_attributes(tree) -> set[tuple[str, str]]:
    return {
        (node.tag, name)
        for node in elements(tree)
        for name in node.attributes
        if name.lower().startswith(ACTIVE_PREFIXES)
    }


def url_scheme(value: str) -> str:
    """What a browser takes the URL's scheme to be: leading white space and control
    characters go, and tabs and newlines anywhere are ignored."""
    value = re.sub(r"[\t\n\r]", "", value)
    return re.sub(r"^[\x00-\x20]+", "", value).lower()


def hostile_markup(tree) -> list[str]:
    """Markup that runs or loads something, wherever it came from."""
    found = []
    for node in elements(tree):
        for name, value in node.attributes.items():
            lowered = name.lower()
            if lowered.startswith("on"):
                found.append(f"<{node.tag} {name}={value!r}>: an event handler")
            if lowered in URL_ATTRIBUTES and url_scheme(value or "").startswith(HOSTILE_SCHEMES):
                found.append(f"<{node.tag} {name}={value!r}>: a script URL")
            if lowered == "style":
                found.append(f"<{node.tag} style={value!r}>: an inline style")
    root = root_of(tree)
    if isinstance(tree, LexborHTMLParser) or root.tag == "html":
        scripts = foreign_scripts(root)
    else:
        scripts = [node for node in elements(root) if node.tag == "script"]
    found += [f"a script of its own: {node.html[:120]!r}" for node in scripts]
    return found


def assert_inert(rendered, twin, where: str) -> None:
    """`rendered` (with payloads) has exactly the markup of `twin` (the same thing
    rendered from harmless text): no element, attribute or comment more or less, but for
    what is in message bodies, where only the formatter's markup may be. And, checked on
    its own so that the message says why: nothing that runs or loads."""
    problems = hostile_markup(rendered)
    for body in rendered.css(".message-body"):
        problems += body_markup_problems(body)
    # The chat list beside a chat page lists the reader's other chats: its shape follows
    # which chat is open and what is unread, not the payload. Each of its entries is
    # compared with its twin where the chat list is checked; here the rest is.
    for side in (*rendered.css("nav.chat-side"), *twin.css("nav.chat-side")):
        side.decompose()
    extra = active_attributes(rendered) - active_attributes(twin)
    problems += [f"<{tag} {name}> is not one of the app's own" for tag, name in sorted(extra)]
    mine, theirs = shape(rendered), shape(twin)
    for tag in sorted(RISKY_TAGS):
        have = sum(n for (t, _), n in mine.items() if t == tag)
        want = sum(n for (t, _), n in theirs.items() if t == tag)
        if have > want:
            problems.append(f"{have - want} <{tag}> more than the harmless twin")
    more, fewer = mine - theirs, theirs - mine
    if more or fewer:
        problems.append(
            "the markup differs from its harmless twin:"
            f" more {sorted(more.items())[:8]}, fewer {sorted(fewer.items())[:8]}"
        )
    assert not problems, f"{where}:\n  " + "\n  ".join(problems)


def text_of(node: LexborNode | None, where: str) -> str:
    assert node is not None, f"{where}: the element is missing"
    return node.text(deep=True)


# -- a socket for the test client ------------------------------------------------------------


class Listener:
    """Every frame one socket receives, kept in order, read by a task of its own."""

    def __init__(self) -> None:
        self.frames: list[str] = []
        self.closed: BaseException | None = None
        self.arrived = asyncio.Condition()

    async def pump(self, connection) -> None:
        try:
            while True:
                data = await connection.receive()
                async with self.arrived:
                    self.frames.append(data if isinstance(data, str) else data.decode())
                    self.arrived.notify_all()
        except WebsocketDisconnectError as error:
            self.closed = error

    async def count(self, *needles: str, at_least: int = 1) -> list[str]:
        """Wait until at least `at_least` frames contain every needle; return them all."""
        hits: list[str] = []
        scanned = 0

        def enough() -> bool:
            nonlocal scanned
            hits.extend(f for f in self.frames[scanned:] if all(n in f for n in needles))
            scanned = len(self.frames)
            return len(hits) >= at_least

        async def wait() -> None:
            async with self.arrived:
                await self.arrived.wait_for(enough)

        try:
            await asyncio.wait_for(wait(), RECEIVE_TIMEOUT)
        except TimeoutError:
            pytest.fail(
                f"{len(hits)} of {at_least} frames with {needles!r} arrived"
                f" (socket closed: {self.closed!r})"
            )
        return hits


@contextlib.asynccontextmanager
async def live_socket(client) -> AsyncIterator[tuple[object, Listener]]:
    """An accepted /ws (subscribed to the person's chats) and what it receives."""
    connection = client.websocket("/ws", headers={"Origin": OWN_ORIGIN})
    accepted = asyncio.Event()
    send_to_client = connection._asgi_send

    async def spy(message) -> None:
        if message["type"] == "websocket.accept":
            accepted.set()
        await send_to_client(message)

    connection._asgi_send = spy  # the test client has nothing else to await the accept by
    async with connection:
        await asyncio.wait_for(accepted.wait(), RECEIVE_TIMEOUT)
        listener = Listener()
        task = asyncio.create_task(listener.pump(connection))
        try:
            yield connection, listener
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def frame_elements(raw: str) -> list[LexborNode]:
    return [node for node in LexborHTMLParser(raw).body.iter() if node.tag != "-text"]


def frame_top(raw: str, element_id: str) -> LexborNode | None:
    return next((node for node in frame_elements(raw) if node.id == element_id), None)


def event_of(raw: str, element_id: str) -> str:
    """The part of a frame about one event: the element with this id, with the chat
    list preview that follows a message. A socket with a backlog receives several
    frames joined into one message (vibechat/live/socket.py), so a frame may hold more."""
    elements = frame_elements(raw)
    index = next(i for i, node in enumerate(elements) if node.id == element_id)
    part = [elements[index]]
    if index + 1 < len(elements) and (elements[index + 1].id or "").startswith("chat-preview-"):
        part.append(elements[index + 1])
    return "".join(node.html for node in part)


def elements_with_prefix(raw: str, prefix: str) -> str:
    return "".join(node.html for node in frame_elements(raw) if (node.id or "").startswith(prefix))


class Received:
    """A socket's frames, indexed by the ids of their top-level elements."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.by_top: dict[str, list[str]] = {}
        for raw in frames:
            for element_id in {node.id for node in frame_elements(raw) if node.id}:
                self.by_top.setdefault(element_id, []).append(raw)

    def with_top(self, element_id: str) -> list[str]:
        """The frames with a top-level element of this id, in the order they came."""
        return self.by_top.get(element_id, [])

    def typing(self, chat: int, user: int) -> list[str]:
        """The typing frames of a chat that name this person."""
        return [raw for raw in self.with_top(f"typing-{chat}") if f'data-user="{user}"' in raw]


# -- the app, with room for hundreds of quick requests ---------------------------------------


@pytest.fixture
async def app(app_database_url, tmp_path, monkeypatch):
    """The app of conftest, with the rate limits off (this module posts hundreds of
    messages a second) and a socket queue no test here can fill."""
    monkeypatch.setenv("VIBECHAT_RATE_LIMITS", "off")
    monkeypatch.setenv("VIBECHAT_WS_QUEUE", "10000")  # the most it may be
    app = create_app(app_config(app_database_url, tmp_path), testing=True)
    async with app.test_app():
        yield app


async def get_ok(person, path: str, headers: dict | None = None) -> tuple[str, LexborHTMLParser]:
    response = await person.get(path, headers=headers or {})
    assert response.status_code == 200, (path, response.status_code)
    raw = (await response.get_data()).decode()
    return raw, html(raw)


async def posted(person, path: str, data: dict, status: int = 303):
    response = await person.post(path, data)
    assert response.status_code == status, (path, response.status_code, data)
    return response


def chat_id_from(response) -> int:
    return int(response.headers["Location"].rsplit("/", 1)[1].split("#")[0])


# -- 1. message bodies, edits and display names: twin chats ----------------------------------


@dataclass
class Twin:
    """One of two chats built step for step alike: from payloads, or from harmless text."""

    prefix: str  # of its members' usernames
    bodies: list[str]  # posted by alice, then each message edited into the next body
    names: list[str]  # display names of its members, one each
    direct_bodies: list[str]  # what member j writes to bob directly
    chat: int = 0
    history: dict[int, list[str]] = field(default_factory=dict)  # seq -> body, then edit
    authors: dict[int, str] = field(default_factory=dict)  # seq -> author's display name
    member_ids: list[int] = field(default_factory=list)
    members: list = field(default_factory=list)
    directs: list[int] = field(default_factory=list)  # member j's direct chat with bob
    rev_before_edits: int = 0

    def body(self, seq: int) -> str:
        return self.history[seq][-1]


ALICE = "Alice Liddell"
BOB = "Bob Dylan"
MEMBER_HELLO = "Hello from a member"


async def build_twin(twin: Twin, people, alice, db, bob_ws: Listener, *, every_member: bool):
    """Members with the twin's display names join; alice posts every body, then edits
    message i into body i+1 (so each body is also an edit); each member types (a typing
    frame), posts, opens a direct chat with bob and writes to him. bob's socket sees
    each step before the next starts. The harmless twin, whose members all look alike,
    needs only its first member to type and write directly (every_member=False)."""
    for j, name in enumerate(twin.names):
        member = await people(f"{twin.prefix}{j}", name)
        twin.members.append(member)
        twin.member_ids.append(await user_id(db, f"{twin.prefix}{j}"))
    usernames = [f"{twin.prefix}{j}" for j in range(len(twin.names))]
    for start in range(0, len(usernames), forms.MEMBERS_MAX):  # the most one form adds
        batch = " ".join(usernames[start : start + forms.MEMBERS_MAX])
        await posted(alice, f"/chats/{twin.chat}/members", {"members": batch})
    await bob_ws.count(f'id="member-{twin.chat}-{twin.member_ids[-1]}"')

    for seq, body in enumerate(twin.bodies, 1):
        await posted(alice, f"/chats/{twin.chat}/messages", {"body": body})
        twin.history[seq] = [body]
        twin.authors[seq] = ALICE
    last = len(twin.bodies)
    await bob_ws.count(f'id="msg-{twin.chat}-{last}"')
    _, page = await get_ok(alice, f"/chats/{twin.chat}/messages?after={last - 1}", HTMX)
    twin.rev_before_edits = int(page.css_first(f"#msg-{twin.chat}-{last}").attributes["data-rev"])
    for seq in range(1, last + 1):
        body = twin.bodies[seq % last]
        await posted(alice, f"/chats/{twin.chat}/messages/{seq}/edit", {"body": body})
        twin.history[seq].append(body)
    await bob_ws.count(f'id="msg-{twin.chat}-{last}"', at_least=2)

    seq = last
    for j, member in enumerate(twin.members):
        seq += 1
        twin.history[seq] = [MEMBER_HELLO]
        twin.authors[seq] = twin.names[j]
        if not (every_member or j == 0):
            await posted(member, f"/chats/{twin.chat}/messages", {"body": MEMBER_HELLO})
            continue
        async with live_socket(member.client) as (socket, _):
            await socket.send(f'{{"typing": {twin.chat}}}')
            await bob_ws.count(f'id="typing-{twin.chat}"', f'data-user="{twin.member_ids[j]}"')
            await posted(member, f"/chats/{twin.chat}/messages", {"body": MEMBER_HELLO})
            await bob_ws.count(f'id="msg-{twin.chat}-{seq}"')
        direct = chat_id_from(await posted(member, "/chats/direct", {"username": "bob"}))
        twin.directs.append(direct)
        await posted(member, f"/chats/{direct}/messages", {"body": twin.direct_bodies[j]})
        await bob_ws.count(f'id="msg-{direct}-1"')
    await bob_ws.count(f'id="msg-{twin.chat}-{seq}"')


def body_text(node: LexborNode | None, where: str) -> str:
    """A message body's text, its <br> (one per newline) read as newlines again: user
    text that spelled <br> is escaped, so it cannot be taken for one."""
    assert node is not None, f"{where}: the element is missing"
    return text_of(html(node.html.replace("<br>", "\n")).css_first(".message-body"), where)


def harmless(p, text: str) -> str:
    """Harmless text with as many lines as the payload's body (each newline is a <br>)."""
    return "\n".join([text] * (p.body.count("\n") + 1))


def collapsed(text: str) -> str:
    return " ".join(text.split())


def marks_of(node: LexborNode) -> list[tuple[str, ...]]:
    """The elements in a message body but its <br>, in order: (tag, text) or, for a
    link, (tag, text, href) and its title if it has one (as tests/support/xss.py's
    Shown.marks has them)."""
    found = []
    for mark in list(node.traverse(include_text=False))[1:]:
        if mark.tag == "br":
            continue
        entry = (mark.tag, collapsed(mark.text(deep=True)))
        if mark.tag == "a":
            entry += (mark.attributes.get("href") or "",)
            if "title" in mark.attributes:
                entry += (mark.attributes["title"] or "",)
        found.append(entry)
    return found


def check_body(node: LexborNode | None, body: str, where: str) -> None:
    """A message body shows the text as typed, or, where it has Markdown in it, reads
    as tests/support/xss.py says (not as vibechat/formatting.py says: that would be the
    code under test vouching for itself)."""
    expected = shown(body)
    text = body_text(node, where)
    problems = body_markup_problems(node)
    assert not problems, f"{where}: " + "; ".join(problems)
    if expected.blocks:
        assert node.tag == "div", f"{where}: blocks are not in a <div>"
        assert collapsed(text) == collapsed(expected.text), f"{where}: the body"
    else:
        assert node.tag == "p", f"{where}: one paragraph is not in a <p>"
        assert text == expected.text, f"{where}: the body"
    marks = marks_of(node)
    if isinstance(expected.marks, frozenset):
        assert {mark[0] for mark in marks} == expected.marks, f"{where}: {marks[:6]}"
    else:
        assert marks == list(expected.marks), f"{where}: the body's markup"


def check_message(item: LexborNode, twin: Twin, seq: int, where: str, body: str | None = None):
    body = twin.body(seq) if body is None else body
    check_body(item.css_first(".message-body"), body, where)
    author = text_of(item.css_first(".author"), where)
    assert author == twin.authors[seq], f"{where}: the author"


def check_messages(rendered, twin: Twin, where: str) -> set[int]:
    """Every message in the rendering shows its body and author as text, exactly."""
    items = rendered.css("li.message")
    assert items, f"{where}: no messages"
    for item in items:
        seq = int(item.attributes["data-seq"])
        assert item.id == f"msg-{twin.chat}-{seq}", f"{where}: {item.id} is not this chat's"
        check_message(item, twin, seq, f"{where}, message {seq}")
    return {int(item.attributes["data-seq"]) for item in items}


def preview_text(app, author: str, body: str) -> str:
    """The chat list's line: the body's words without their marks, white space as
    single spaces, cut short."""
    expected = shown(body)
    words = collapsed(expected.text if expected.preview is None else expected.preview)
    return f"{author}: {do_truncate(app.jinja_env, words, PREVIEW_CHARS)}"


async def check_both(alice, bad: Twin, good: Twin, path: str, where: str, headers=None):
    """Render `path` (with {chat}) for both twins: the payload one must be inert and
    show every message's text. Returns the seqs it showed."""
    _, rendered = await get_ok(alice, path.format(chat=bad.chat), headers)
    _, twin = await get_ok(alice, path.format(chat=good.chat), headers)
    assert_inert(rendered, twin, where)
    seqs = check_messages(rendered, bad, where)
    assert check_messages(twin, good, f"{where} (harmless twin)") == seqs
    return seqs


async def test_payloads_in_bodies_edits_and_display_names_render_as_text_everywhere(
    app, people, alice, bob, db, request
):
    started = time.perf_counter()
    bad = Twin(
        "pay",
        bodies=[p.body for p in PAYLOADS],
        names=[p.one_line for p in NAME_PAYLOADS],
        direct_bodies=[p.body for p in NAME_PAYLOADS],
    )
    good = Twin(
        "calm",
        bodies=[harmless(p, f"harmless body {p.number}") for p in PAYLOADS],
        names=[f"harmless name {p.number}" for p in NAME_PAYLOADS],
        direct_bodies=[harmless(p, f"harmless direct {p.number}") for p in NAME_PAYLOADS],
    )
    bad.chat = await create_chat(alice, "Payloads", "bob")
    good.chat = await create_chat(alice, "Harmless", "bob")

    async with live_socket(bob.client) as (_, bob_ws):
        await build_twin(bad, people, alice, db, bob_ws, every_member=True)
        await build_twin(good, people, alice, db, bob_ws, every_member=False)
        frames = list(bob_ws.frames)
    built = time.perf_counter()
    received = Received(frames)

    # -- what bob's socket received ------------------------------------------------------
    everything = html("".join(frames))
    assert not hostile_markup(everything), f"bob's socket received: {hostile_markup(everything)}"
    assert {name for _, name in active_attributes(everything)} == {"data-hx-swap-oob"}
    for seq in bad.history:
        ours = received.with_top(f"msg-{bad.chat}-{seq}")
        theirs = received.with_top(f"msg-{good.chat}-{seq}")
        assert len(ours) == len(theirs) == len(bad.history[seq]), f"frames of message {seq}"
        for version, (whole, twin_whole) in enumerate(zip(ours, theirs, strict=True)):
            where = f"live frame {version} of message {seq}"
            raw = event_of(whole, f"msg-{bad.chat}-{seq}")
            twin_raw = event_of(twin_whole, f"msg-{good.chat}-{seq}")
            assert_inert(html(raw), html(twin_raw), where)
            body = bad.history[seq][version]
            check_message(frame_top(raw, f"msg-{bad.chat}-{seq}"), bad, seq, where, body)
            preview = frame_top(raw, f"chat-preview-{bad.chat}")
            if preview is not None:
                expected = preview_text(app, bad.authors[seq], body)
                assert text_of(preview, where) == expected, f"{where}: the chat list preview"

    # One frame per form that added members (at most forms.MEMBERS_MAX each).
    members = twin_members = ""
    for first in range(0, len(bad.member_ids), forms.MEMBERS_MAX):
        [batch] = received.with_top(f"member-{bad.chat}-{bad.member_ids[first]}")
        [twin_batch] = received.with_top(f"member-{good.chat}-{good.member_ids[first]}")
        members += elements_with_prefix(batch, f"member-{bad.chat}-")
        twin_members += elements_with_prefix(twin_batch, f"member-{good.chat}-")
    assert_inert(html(members), html(twin_members), "the live frames of the new members")
    shown = [text_of(node, "member") for node in html(members).css("li .member-name")]
    assert sorted(shown) == sorted(bad.names)

    [twin_typing] = received.typing(good.chat, good.member_ids[0])
    twin_typing = event_of(twin_typing, f"typing-{good.chat}")
    [twin_joined] = received.with_top(f"chat-{good.directs[0]}")
    twin_joined = event_of(twin_joined, f"chat-{good.directs[0]}")
    [twin_direct] = received.with_top(f"msg-{good.directs[0]}-1")
    twin_direct = event_of(twin_direct, f"msg-{good.directs[0]}-1")
    for j, name in enumerate(bad.names):
        where = f"live frames about member {j} ({NAME_PAYLOADS[j]})"
        [typing] = received.typing(bad.chat, bad.member_ids[j])
        typing = event_of(typing, f"typing-{bad.chat}")
        assert_inert(html(typing), html(twin_typing), f"{where}: typing")
        span = html(typing).css_first(f'span[data-user="{bad.member_ids[j]}"]')
        assert text_of(span, where) == f"{name} is typing…"
        [joined] = received.with_top(f"chat-{bad.directs[j]}")
        joined = event_of(joined, f"chat-{bad.directs[j]}")
        assert_inert(html(joined), html(twin_joined), f"{where}: their direct chat")
        item = frame_top(joined, f"chat-{bad.directs[j]}")
        assert text_of(item.css_first(".chat-name"), where) == name
        [direct] = received.with_top(f"msg-{bad.directs[j]}-1")
        direct = event_of(direct, f"msg-{bad.directs[j]}-1")
        # One twin for every member's direct message: a body is one element, whatever
        # it holds.
        assert_inert(html(direct), html(twin_direct), f"{where}: their direct message")
        item = frame_top(direct, f"msg-{bad.directs[j]}-1")
        check_body(item.css_first(".message-body"), bad.direct_bodies[j], where)
        assert text_of(item.css_first(".author"), where) == name
        preview = frame_top(direct, f"chat-preview-{bad.directs[j]}")
        assert text_of(preview, where) == preview_text(app, name, bad.direct_bodies[j])

    # -- the chat page, older pages, newer pages, catch-up -----------------------------------
    total = len(bad.history)
    on_page = await check_both(alice, bad, good, "/chats/{chat}", "the chat page")
    assert on_page == set(range(total - 49, total + 1))
    first, older = min(on_page), set()
    while first > 1:
        path = f"/chats/{{chat}}/messages?before={first}"
        seqs = await check_both(alice, bad, good, path, f"older than {first}, fragment", HTMX)
        assert await check_both(alice, bad, good, path, f"older than {first}, page") == seqs
        assert max(seqs) == first - 1
        older |= seqs
        first = min(seqs)
    assert older == set(range(1, total - 49)), "the older pages did not reach message 1"

    assert bad.rev_before_edits == good.rev_before_edits
    edited = set(range(1, len(bad.bodies) + 1))
    for query, expected in (
        ("after=0", set(bad.history)),
        ("since=0", set(bad.history)),
        (f"since={bad.rev_before_edits}", set(bad.history)),
        (f"after={len(bad.bodies)}", set(bad.history) - edited),
    ):
        for headers, kind in ((HTMX, "fragment"), (None, "page")):
            path = f"/chats/{{chat}}/messages?{query}"
            seqs = await check_both(alice, bad, good, path, f"?{query}, {kind}", headers)
            assert seqs == expected, f"?{query}, {kind}"

    # Template syntax goes out byte for byte as it came in: `{{ 7*7 }}`, never `49`.
    raw, _ = await get_ok(alice, f"/chats/{bad.chat}/messages?since=0", HTMX)
    literal = [
        p
        for p in PAYLOADS
        if p.kind == "template" and p.markdown is None and not set("<>&\"'") & set(p.body)
    ]
    assert len(literal) >= 8
    for p in literal:
        assert f">{p.body}<" in raw, f"{p} is not in the catch-up literally"

    # -- the edit form, the members page, the chat lists, the direct chats -------------------
    _, twin = await get_ok(alice, f"/chats/{good.chat}/messages/1/edit")
    for seq in edited:
        where = f"the edit form of message {seq}"
        _, rendered = await get_ok(alice, f"/chats/{bad.chat}/messages/{seq}/edit")
        assert_inert(rendered, twin, where)
        assert text_of(rendered.css_first("textarea#body"), where) == bad.body(seq)

    _, rendered = await get_ok(alice, f"/chats/{bad.chat}/members")
    _, twin = await get_ok(alice, f"/chats/{good.chat}/members")
    assert_inert(rendered, twin, "the members page")
    shown = [text_of(node, "member") for node in rendered.css(".member-name")]
    assert sorted(shown) == sorted([ALICE, BOB, *bad.names])
    labels = {text_of(node, "label") for node in rendered.css("button .visually-hidden")}
    assert {f" {name} (@{bad.prefix}{j})" for j, name in enumerate(bad.names)} <= labels

    _, rendered = await get_ok(bob, "/chats")
    assert not hostile_markup(rendered), hostile_markup(rendered)
    item, twin_item = (
        rendered.css_first(f"li#chat-{bad.chat}"),
        rendered.css_first(f"li#chat-{good.chat}"),
    )
    assert_inert(item, twin_item, "bob's chat list, the payload chat")
    preview = preview_text(app, bad.authors[total], bad.body(total))
    assert text_of(item.css_first(".chat-preview"), "bob's chat list") == preview
    twin_item = rendered.css_first(f"li#chat-{good.directs[0]}")
    for j, name in enumerate(bad.names):
        where = f"bob's chat list, the direct chat with member {j}"
        item = rendered.css_first(f"li#chat-{bad.directs[j]}")
        assert_inert(item, twin_item, where)
        assert text_of(item.css_first(".chat-name"), where) == name
        preview = preview_text(app, name, bad.direct_bodies[j])
        assert text_of(item.css_first(".chat-preview"), where) == preview

    _, twin_list = await get_ok(good.members[0], "/chats")
    _, twin_direct = await get_ok(bob, f"/chats/{good.directs[0]}")
    for j, name in enumerate(bad.names):
        where = f"member {j} ({NAME_PAYLOADS[j]})"
        _, rendered = await get_ok(bad.members[j], "/chats")
        assert_inert(rendered, twin_list, f"{where}: their chat list")
        assert text_of(rendered.css_first(".signed-in"), where) == name
        _, rendered = await get_ok(bob, f"/chats/{bad.directs[j]}")
        assert_inert(rendered, twin_direct, f"{where}: bob's direct chat with them")
        assert text_of(rendered.css_first("h1"), where) == name
        assert text_of(rendered.css_first("title"), where) == f"{name} · vibechat"
        item = rendered.css_first(f"#msg-{bad.directs[j]}-1")
        assert text_of(item.css_first(".author"), where) == name
        check_body(item.css_first(".message-body"), bad.direct_bodies[j], where)
    report(
        request,
        f"{len(PAYLOADS)} payloads, {len(NAME_PAYLOADS)} as display names; {total} messages"
        f" a chat; built in {built - started:.1f} s, checked in"
        f" {time.perf_counter() - built:.1f} s",
    )


# -- 2. chat titles --------------------------------------------------------------------------


async def test_payload_chat_titles_render_as_text_everywhere(app, alice, bob, request):
    """Each title payload names a chat when it is created (bob's chat list, live) and
    another chat when that one is renamed (its heading and list entry, live); then the
    chat page, the members page with its rename form, the newer-messages page and the
    chat list show every title as text."""
    started = time.perf_counter()
    titles = [p.one_line for p in TITLE_PAYLOADS]
    async with live_socket(bob.client) as (_, bob_ws):
        twin = chat_id_from(await posted(alice, "/chats", {"title": "A title", "members": "bob"}))
        await posted(alice, f"/chats/{twin}/rename", {"title": "A new title"})
        chats = []
        for p in TITLE_PAYLOADS:
            response = await posted(alice, "/chats", {"title": p.text, "members": "bob"})
            chats.append(chat_id_from(response))
        for chat, p in zip(chats, TITLE_PAYLOADS[1:] + TITLE_PAYLOADS[:1], strict=True):
            await posted(alice, f"/chats/{chat}/rename", {"title": p.text})
        await bob_ws.count(f'id="chat-title-{chats[-1]}"')
        frames = list(bob_ws.frames)
    renamed = titles[1:] + titles[:1]
    received = Received(frames)

    everything = html("".join(frames))
    assert not hostile_markup(everything), f"bob's socket received: {hostile_markup(everything)}"
    assert {name for _, name in active_attributes(everything)} == {"data-hx-swap-oob"}
    [twin_created] = received.with_top(f"chat-{twin}")
    [twin_renamed] = received.with_top(f"chat-title-{twin}")
    for chat, title, new_title, p in zip(chats, titles, renamed, TITLE_PAYLOADS, strict=True):
        where = f"chat {chat} named by {p}"
        [created] = received.with_top(f"chat-{chat}")
        assert_inert(html(created), html(twin_created), f"{where}: the live chat list entry")
        assert text_of(frame_top(created, f"chat-{chat}").css_first(".chat-name"), where) == title
        [frame] = received.with_top(f"chat-title-{chat}")
        assert_inert(html(frame), html(twin_renamed), f"{where}: the live rename")
        assert text_of(frame_top(frame, f"chat-title-{chat}"), where) == new_title
        assert text_of(frame_top(frame, f"chat-name-{chat}"), where) == new_title

    pages = {
        "bob's chat page": (bob, "/chats/{chat}", "{title}"),
        "the members page": (alice, "/chats/{chat}/members", "Members of {title}"),
        "the newer-messages page": (
            alice,
            "/chats/{chat}/messages?after=0",
            "Newer messages in {title}",
        ),
    }
    twins = {
        what: (await get_ok(person, path.format(chat=twin)))[1]
        for what, (person, path, _) in pages.items()
    }
    for chat, title in zip(chats, renamed, strict=True):
        for what, (person, path, heading) in pages.items():
            where = f"{what} of chat {chat} ({title!r})"
            _, rendered = await get_ok(person, path.format(chat=chat))
            assert_inert(rendered, twins[what], where)
            assert text_of(rendered.css_first("h1"), where) == heading.format(title=title)
            assert (
                text_of(rendered.css_first("title"), where)
                == f"{heading.format(title=title)} · vibechat"
            )
            if what == "the members page":
                assert rendered.css_first("input#title").attributes["value"] == title

    _, rendered = await get_ok(bob, "/chats")
    twin_item = rendered.css_first(f"li#chat-{twin}")
    for chat, title in zip(chats, renamed, strict=True):
        where = f"bob's chat list, chat {chat} ({title!r})"
        item = rendered.css_first(f"li#chat-{chat}")
        assert_inert(item, twin_item, where)
        assert text_of(item.css_first(".chat-name"), where) == title
    report(
        request,
        f"{len(TITLE_PAYLOADS)} titles: created, renamed and rendered in"
        f" {time.perf_counter() - started:.1f} s",
    )


# -- 3. refused input is shown again, as text: usernames and the rest ------------------------


async def test_refused_input_is_shown_again_as_text_and_nothing_is_stored(
    app, people, alice, bob, db, request
):
    """Usernames allow only [A-Za-z0-9_.-], so every payload is refused as one (422,
    nothing stored); so are payloads that break a length rule elsewhere. The form that
    comes back shows what was typed, in the field, as text: the register form, the
    direct-chat and new-chat forms on the chat list, the add-members and rename forms,
    the composer and the edit form."""
    started = time.perf_counter()
    chat = await create_chat(alice, "Refusals", "bob")
    await send(alice, chat, "the message to edit")
    await alice.page(f"/chats/{chat}")  # read: the composer's 422 shows the chat again
    visitor = people.anonymous()
    await visitor.refresh_token("/register")
    users = await count_users(db)
    before = await snapshot(db)

    def register(username: str, display_name: str) -> dict:
        return {"username": username, "display_name": display_name, "password": PASSWORD}

    too_long_body = "z" * forms.BODY_MAX
    too_long_title = " " + "y" * forms.TITLE_MAX
    attempts = {
        # what: (person, path, form with {p} for the payload, harmless form, field, shows)
        "register": (
            visitor,
            "/register",
            lambda p: register(p.text, p.text),
            lambda p: register("no", "x" * len(p.one_line)),
        ),
        "direct chat": (
            alice,
            "/chats/direct",
            lambda p: {"username": p.text},
            lambda p: {"username": "nobody_here"},
        ),
        "new chat": (
            alice,
            "/chats",
            lambda p: {"title": p.text, "members": p.text},
            lambda p: {"title": "x" * len(p.one_line), "members": "no"},
        ),
        "add members": (
            alice,
            f"/chats/{chat}/members",
            lambda p: {"members": p.text},
            lambda p: {"members": "no"},
        ),
        "rename": (
            alice,
            f"/chats/{chat}/rename",
            lambda p: {"title": p.text + too_long_title},
            lambda p: {"title": "x" * len(p.text + too_long_title)},
        ),
        "composer": (
            alice,
            f"/chats/{chat}/messages",
            lambda p: {"body": p.text + too_long_body},
            lambda p: {"body": "x" * len(p.text + too_long_body)},
        ),
        "edit": (
            alice,
            f"/chats/{chat}/messages/1/edit",
            lambda p: {"body": p.text + too_long_body},
            lambda p: {"body": "x" * len(p.text + too_long_body)},
        ),
    }
    twins: dict[tuple[str, str], LexborHTMLParser] = {}
    for p in PAYLOADS:
        for what, (person, path, form, harmless_form) in attempts.items():
            where = f"the {what} form, refused with {p}"
            data = form(p)
            response = await person.post(path, data)
            assert response.status_code == 422, (where, response.status_code)
            rendered = html(await response.get_data())
            errors = tuple(sorted(node.id for node in rendered.css("p.error")))
            assert errors, f"{where}: no error shown"
            key = (what, errors)
            if key not in twins:
                twin_response = await person.post(path, harmless_form(p))
                assert twin_response.status_code == 422, (where, "harmless twin")
                twins[key] = html(await twin_response.get_data())
            assert_inert(rendered, twins[key], where)
            for name, value in data.items():
                if name == "password":
                    continue  # never shown again
                control = rendered.css_first(f"#{name}")
                assert control is not None, f"{where}: no field {name}"
                shown = control.text() if control.tag == "textarea" else control.attributes["value"]
                assert shown == value, f"{where}: the field {name} does not show what was typed"
            if what == "direct chat":
                name = p.text.strip().removeprefix("@")
                error = rendered.css_first("#username-error").text()
                assert error == f"No account with the username {name}.", where
            if what in ("new chat", "add members"):
                with pytest.raises(forms.Invalid) as invalid:
                    forms.usernames(p.text)
                assert rendered.css_first("#members-error").text() == str(invalid.value)
    assert await count_users(db) == users
    assert await snapshot(db) == before
    report(
        request,
        f"{len(PAYLOADS)} payloads refused in {len(attempts)} forms in"
        f" {time.perf_counter() - started:.1f} s",
    )


async def count_users(db) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(User))


# -- 4. the checks themselves can fail -----------------------------------------------------

ITEM = (
    '<li class="message" id="msg-1-1" data-seq="1"><p class="meta">'
    '<span class="author">{{ author }}</span></p>'
    '<p class="message-body">{{ body }}</p></li>'
)


def caught(rendered: str, twin: str, body: str) -> bool:
    """Whether the checks above reject a rendering of one message."""
    try:
        parsed = html(rendered)
        assert_inert(parsed, html(twin), "self-test")
        assert text_of(parsed.css_first(".message-body"), "self-test") == body
    except AssertionError:
        return True
    return False


def test_the_checks_catch_every_payload_that_would_turn_into_markup_or_be_evaluated():
    """Not a test of the app: of the checks. A template that forgot to escape (`|safe`)
    or that evaluated user text as template source must fail them for every payload
    where the browser would see something other than the text."""
    safe = jinja2.Environment(autoescape=True)
    unsafe = jinja2.Environment(autoescape=False)  # noqa: S701 - the mistake to catch
    sandbox = jinja2.sandbox.SandboxedEnvironment(autoescape=True)
    twin = safe.from_string(ITEM).render(author="Alice", body="harmless")
    unescaped_differs = evaluated_differs = 0
    for p in PAYLOADS:
        escaped = safe.from_string(ITEM).render(author="Alice", body=p.body)
        assert not caught(escaped, twin, p.body), f"{p}: the escaped rendering is rejected"
        raw = unsafe.from_string(ITEM).render(author="Alice", body=p.body)
        if html(raw).root.html != html(escaped).root.html:
            unescaped_differs += 1
            assert caught(raw, twin, p.body), f"{p}: unescaped, it went unnoticed"
        try:
            evaluated = sandbox.from_string(ITEM.replace("{{ body }}", p.body)).render(
                author="Alice"
            )
        except jinja2.TemplateError:
            continue  # not valid template source: it could not have been evaluated
        if html(evaluated).root.html != html(escaped).root.html:
            evaluated_differs += p.kind == "template"
            assert caught(evaluated, twin, p.body), f"{p}: evaluated, it went unnoticed"
    # Every payload with a tag or a character reference in it changes the page when it
    # is not escaped (the others are plain text to a browser), and the Jinja payloads
    # change it when they are evaluated: `{{ 7*7 }}` as 49, say.
    markup = [p for p in PAYLOADS if re.search(r"<[A-Za-z!/]|&#?\w+;", p.body)]
    assert unescaped_differs == len(markup) >= 80
    assert evaluated_differs >= 7
    seven_times_seven = sandbox.from_string(ITEM.replace("{{ body }}", "{{ 7*7 }}")).render()
    assert "49" in seven_times_seven and caught(seven_times_seven, twin, "{{ 7*7 }}")


def test_the_body_checks_catch_what_the_formatter_must_never_emit():
    """Not a test of the app: of the checks of what is in a message body. A formatter
    that let through a script link, forgot a rel, loaded an image, kept a class name or
    an attribute of the sender's, or made markup of text it should have shown as typed,
    must fail them."""
    rel = f'rel="{LINK_REL}"'

    def body(inner: str, tag: str = "p") -> LexborNode:
        page = html(f'<li><{tag} class="message-body" dir="auto">{inner}</{tag}></li>')
        return page.css_first(".message-body")

    fine = f'<a href="https://example.invalid/" {rel} title="t">x</a> <strong>b</strong><br>c'
    assert not body_markup_problems(body(fine))
    listed = f'<ol start="3"><li><a href="mailto:a@example.invalid" {rel}>m</a></li></ol>'
    assert not body_markup_problems(body(listed, "div"))
    for inner in (
        f'<a href="javascript:alert(1)" {rel}>x</a>',
        f'<a href=" JaVa&#x09;Script:alert(1)" {rel}>x</a>',
        f'<a href="data:text/html,x" {rel}>x</a>',
        f'<a href="vbscript:msgbox(1)" {rel}>x</a>',
        f'<a href="/xss-probe-1" {rel}>relative</a>',
        f"<a {rel}>no address</a>",
        '<a href="https://example.invalid/">no rel</a>',
        '<a href="https://example.invalid/" rel="nofollow">a weaker rel</a>',
        f'<a href="https://example.invalid/" {rel} onclick="alert(1)">x</a>',
        f'<a href="https://example.invalid/" {rel} hx-get="/xss-probe-1">x</a>',
        f'<a href="https://example.invalid/" {rel} target="_blank">x</a>',
        '<img src="https://example.invalid/xss-probe-1.png" alt="x">',
        '<code class="language-x">x</code>',
        "<span>x</span>",
        "<!-- x -->",
        "<svg></svg>",
        '<em style="color:red">x</em>',
        '<ol start="2" reversed><li>x</li></ol>',
    ):
        assert body_markup_problems(body(inner, "div")), inner
    assert body_markup_problems(body("x", "section"))

    [plain] = [p for p in PAYLOADS if p.body == "{{ 7*7 }}"]
    [bold] = [p for p in PAYLOADS if "__globals__" in p.body]
    check_body(body("{{ 7*7 }}"), plain.body, "self-test")
    for wrong in ("{{ 7<em>*</em>7 }}", "{{ 49 }}", "{{ 7*7 }} "):
        with pytest.raises(AssertionError):
            check_body(body(wrong), plain.body, "self-test")
    with pytest.raises(AssertionError):  # shown as typed, where it should be bold
        check_body(body(str(escape(bold.body))), bold.body, "self-test")
    with pytest.raises(AssertionError):  # one paragraph in a <div>
        check_body(body("{{ 7*7 }}", "div"), plain.body, "self-test")
