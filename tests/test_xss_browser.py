"""XSS in Chromium: the corpus of tests/test_xss.py in a real browser, JavaScript on.

The payloads are stored before the pages load and while they are open, the older
messages are loaded by clicking, a page loses its network and catches up. No dialog
opens, the sentinels the payloads try to set never change, no request goes to any URL
a payload names, and no element from a payload exists in the live DOM. Message bodies
are Markdown: in them only the formatter's elements may be, its links (to http, https
or mailto, with their rel) may name a payload's URL but are never followed, and an
image is a link, never loaded.

A module of its own: Playwright's sync API runs an event loop of its own, which the
async tests of tests/test_xss.py must not share a module (and a fixture scope) with.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.support.browser import RECONNECT_TIMEOUT, TIMEOUT, expect_live
from tests.support.people import PASSWORD
from tests.support.report import report
from tests.support.servers import ServerFailed, restartable_server
from tests.support.tcp_proxy import TcpProxy
from tests.support.xss import NAME_PAYLOADS, PAYLOADS, PROBE, TITLE_PAYLOADS, Payload, shown

OFFLINE = re.compile(r"^Offline\. ")
# Every path the pages themselves may ask for. `<img src=x>` come alive would ask for
# /chats/x, a payload's URL for /xss-probe-N: neither is here.
APP_PATH = re.compile(
    r"/(|register|login|logout|chats|chats/direct|static/[\w./-]+|style/mine-\d+\.css|ws"
    r"|chats/\d+(|/members|/messages|/messages/\d+/edit|/read))"
)
NETWORK_ERROR = re.compile(
    r"net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|EMPTY_RESPONSE"
    r"|CONNECTION_ABORTED|SOCKET_NOT_CONNECTED)|^WebSocket connection to '.*' failed"
    r"|^\[object Event\]$"
)
CSP_MESSAGE = re.compile(r"Content Security Policy", re.IGNORECASE)
PAYLOAD_MARK = re.compile(r"xss-probe|__xss|pwned|alert\(|example\.invalid")

WATCH_JS = """(() => {
  window.__violations = []
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__violations.push([event.violatedDirective, event.blockedURI,
                              (event.sample || '').slice(0, 80)])
  })
})()"""

# Markup in the live DOM that only user text come alive could have put there. In a
# message body only the Markdown formatter's elements and attributes (SPEC §10); its
# links may name a payload's URL (the request log shows they are never followed).
AUDIT_JS = """(allowedHtmx) => {
  const risky = new RegExp('^(script|style|link|meta|base|iframe|frame|frameset|object|embed|' +
    'svg|math|img|image|video|audio|source|template|noscript|marquee|xmp|plaintext)$')
  const bodyTags = /^(p|br|strong|em|s|code|pre|blockquote|ul|ol|li|a)$/
  const bodyAttributes = {a: ['href', 'rel', 'title'], ol: ['start']}
  const found = []
  const describe = (el) => el.outerHTML.slice(0, 200)
  for (const el of document.querySelectorAll('*')) {
    if (!el.closest('head') && risky.test(el.localName)) found.push('an element: ' + describe(el))
    const inBody = el.parentElement && el.parentElement.closest('.message-body')
    if (inBody) {
      if (!bodyTags.test(el.localName)) found.push('in a message body: ' + describe(el))
      for (const attr of el.attributes) {
        if (!(bodyAttributes[el.localName] || []).includes(attr.name)) {
          found.push('an attribute in a message body: ' + describe(el))
        }
      }
      if (el.localName === 'a' && (el.rel !== 'nofollow noopener noreferrer ugc' ||
          !['http:', 'https:', 'mailto:'].includes(el.protocol))) {
        found.push('a link in a message body: ' + describe(el))
      }
    }
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase()
      if (name.startsWith('on')) found.push('an event handler: ' + describe(el))
      if (/^(hx-|data-hx-|ws-|data-ws-)/.test(name) && name !== 'data-hx-swap-oob' &&
          !allowedHtmx.includes(el.localName + ' ' + name)) {
        found.push('an htmx attribute: ' + describe(el))
      }
      if (/xss-probe|__xss|pwned|alert\\(/i.test(attr.value) &&
          !(el.localName === 'input' && name === 'value') &&
          !(inBody && el.localName === 'a' && (name === 'href' || name === 'title'))) {
        found.push('a payload in an attribute: ' + describe(el))
      }
      if (/^\\s*(javascript|vbscript):/i.test(attr.value.replace(/[\\t\\n\\r]/g, ''))) {
        found.push('a script URL: ' + describe(el))
      }
    }
  }
  return found
}"""

HTMX_ATTRIBUTES_JS = """() => Array.from(document.querySelectorAll('*')).flatMap((el) =>
  Array.from(el.attributes).filter((attr) => /^(hx-|data-hx-|ws-|data-ws-)/.test(attr.name))
    .map((attr) => el.localName + ' ' + attr.name))"""

MESSAGES_JS = """() => Array.from(document.querySelectorAll('#messages li.message')).map((li) => {
  const text = (selector) => {  // a <br> (a line break of the text) read as a newline
    const node = li.querySelector(selector)
    if (!node) return null
    const copy = node.cloneNode(true)
    copy.querySelectorAll('br').forEach((br) => br.replaceWith('\\n'))
    return copy.textContent
  }
  return [li.id, li.hidden, text('.author'), text('.message-body')]
})"""


@dataclass
class Watch:
    """Everything the browser did that it must not, and what it blocked."""

    dialogs: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    csp_messages: list[str] = field(default_factory=list)
    network_errors: list[str] = field(default_factory=list)
    pages: list = field(default_factory=list)

    def on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_console(self, message) -> None:
        if message.type != "error":
            return
        if CSP_MESSAGE.search(message.text):
            self.csp_messages.append(message.text)
        elif NETWORK_ERROR.search(message.text):
            self.network_errors.append(message.text)
        else:
            where = message.location.get("url", "") if message.location else ""
            self.console_errors.append(f"{message.text} ({where})")

    def on_page(self, page) -> None:
        self.pages.append(page)
        page.on("console", self.on_console)
        page.on("pageerror", lambda error: self.page_errors.append(f"{error.name}: {error}"))
        page.on("websocket", lambda socket: self.sockets.append(socket.url))


class Someone:
    """A browser context of one person: pages, and forms posted from it (same cookies)."""

    def __init__(self, new_context, base_url: str, watch: Watch) -> None:
        self.base_url = base_url
        self.context = new_context(base_url=base_url)
        self.context.set_default_timeout(TIMEOUT)
        self.context.set_default_navigation_timeout(TIMEOUT)
        self.context.add_init_script(script=WATCH_JS)
        self.context.on("dialog", watch.on_dialog)
        self.context.on("request", lambda request: watch.requests.append(request.url))
        self.context.on("page", watch.on_page)
        self.token = ""

    def csrf(self, path: str) -> str:
        text = self.context.request.get(path).text()
        match = re.search(r'name="csrf_token" value="([^"]+)"', text)
        assert match, f"no csrf_token on {path}"
        return match.group(1)

    def register(self, username: str, display_name: str) -> None:
        self.token = self.csrf("/register")
        data = {"username": username, "display_name": display_name, "password": PASSWORD}
        self.post("/register", data)
        self.token = self.csrf("/chats")

    def post(self, path: str, data: dict, status: int = 303):
        response = self.context.request.post(
            path, form={**data, "csrf_token": self.token}, max_redirects=0
        )
        assert response.status == status, (path, response.status, response.text()[:300])
        return response

    def new_chat(self, title: str, members: str) -> int:
        location = self.post("/chats", {"title": title, "members": members}).headers["location"]
        return int(location.rsplit("/", 1)[1])

    def open(self, path: str):
        page = self.context.new_page()
        page.goto(path)
        return page


@dataclass
class Conversation:
    """What the chat must show: body and author per seq."""

    chat: int
    bodies: dict[int, str] = field(default_factory=dict)
    authors: dict[int, str] = field(default_factory=dict)

    def say(self, person: Someone, author: str, body: str) -> int:
        person.post(f"/chats/{self.chat}/messages", {"body": body})
        seq = len(self.bodies) + 1
        self.bodies[seq], self.authors[seq] = body.strip(), author
        return seq

    def edit(self, person: Someone, seq: int, body: str) -> None:
        person.post(f"/chats/{self.chat}/messages/{seq}/edit", {"body": body})
        self.bodies[seq] = body.strip()

    def problems(self, shown: list[list], required: Iterable[int]) -> list[str]:
        """What is wrong with a page's message list: every required message must be
        there, each message shows its author and body as text, in seq order, once. (A
        message from further back may be there too: an edit of a message the page has
        not loaded arrives like a new one.)"""
        found = []
        seqs = []
        for element_id, hidden, author, body in shown:
            seq = int(element_id.rsplit("-", 1)[1])
            if element_id != f"msg-{self.chat}-{seq}" or seq not in self.bodies:
                found.append(f"{element_id} is not a message of this chat")
            elif hidden or author != self.authors[seq] or not reads_as(body, self.bodies[seq]):
                found.append(f"{element_id} shows {[hidden, author, body]!r}")
            seqs.append(seq)
        if seqs != sorted(set(seqs)):
            found.append(f"not in order or not once each: {seqs}")
        missing = sorted(set(required) - set(seqs))
        if missing:
            found.append(f"missing: {missing}")
        return found


def reads_as(text: str | None, body: str) -> bool:
    """Whether a message body shows `body` (the text as typed, or, with Markdown in it,
    as tests/support/xss.py says it reads; blocks with white space as single spaces)."""
    expected = shown(body)
    if text is None:
        return False
    if expected.blocks:
        return text.split() == expected.text.split()
    return text == expected.text


def expect_messages(page, conversation: Conversation, seqs, timeout: int = TIMEOUT) -> None:
    """Wait until the page shows these messages (see Conversation.problems)."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        problems = conversation.problems(page.evaluate(MESSAGES_JS), seqs)
        if not problems or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert not problems, f"{page.url}: " + "\n".join(problems[:5])


def page_findings(page, allowed_htmx: list[str] | None) -> list[str]:
    """In this page: a sentinel a payload sets, a title it changes, anything of a payload
    in the DOM (allowed_htmx None: the app's own htmx attributes are not known yet)."""
    state = page.evaluate("() => [typeof window.__xss, document.title]")
    found = []
    if state[0] != "undefined":
        found.append("a payload set window.__xss")
    if "pwned" in state[1]:
        found.append(f"a payload set the title: {state[1]!r}")
    audit = page.evaluate(AUDIT_JS, allowed_htmx or [])
    if allowed_htmx is None:
        audit = [line for line in audit if not line.startswith("an htmx attribute")]
    return [f"{page.url}: {line}" for line in found + audit]


def assert_nothing_ran(page, allowed_htmx: list[str], where: str) -> None:
    found = page_findings(page, allowed_htmx)
    assert not found, f"{where}: payloads came alive:\n" + "\n".join(found[:10])


@pytest.fixture(scope="module")
def browser_context_args(playwright, device) -> dict:
    """pytest-playwright's, at module scope and without base_url: each context names its
    own (bob's goes through a proxy the test can cut)."""
    return dict(playwright.devices[device]) if device else {}


@pytest.fixture(scope="module")
def xss_server(chromium_executable, tmp_path_factory):
    try:
        with restartable_server(
            tmp_path_factory.mktemp("xss-instance"), settings={"VIBECHAT_RATE_LIMITS": "off"}
        ) as server:
            yield server
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


def pick(payloads: list[Payload], kind: str, nth: int = 0) -> Payload:
    return [p for p in payloads if p.kind == kind][nth]


@dataclass
class BrowserRun:
    """What the browser test found, kept where the checks after the story can see it
    even when the story stopped half-way (a page that payloads broke, say)."""

    watch: Watch
    origins: tuple[str, ...]
    allowed_htmx: list[str] | None = None
    violations: list = field(default_factory=list)
    summary: str = ""


def security_findings(run: BrowserRun) -> list[str]:
    """Dialogs, requests to a payload's URL or anywhere the app never asks for, sockets to
    anywhere but /ws, and for every page still open: sentinels and the DOM audit."""
    watch = run.watch
    found = [f"a dialog opened: {dialog}" for dialog in watch.dialogs]
    found += [
        f"a request to a payload's URL: {url}" for url in watch.requests if "xss-probe" in url
    ]
    found += [
        f"a request the app never makes: {url}"
        for url in watch.requests
        if "xss-probe" not in url
        and not (url.startswith(run.origins) and APP_PATH.fullmatch(urlsplit(url).path))
    ]
    found += [f"a socket to {url}" for url in watch.sockets if urlsplit(url).path != "/ws"]
    for page in watch.pages:
        if page.is_closed():
            continue
        try:
            found += page_findings(page, run.allowed_htmx)
            run.violations += page.evaluate("window.__violations || []")
        except PlaywrightError as error:
            found.append(f"{page.url} could not be audited: {error.message}")
    # The policy blocking a payload is a payload that tried: with every payload text, no
    # violation may name one (the others are reported, and expected to be none).
    found += [
        f"a CSP violation from a payload: {violation}"
        for violation in [*run.violations, *watch.csp_messages]
        if PAYLOAD_MARK.search(str(violation))
    ]
    return found


@pytest.mark.browser
def test_no_payload_runs_in_chromium_in_any_rendering(new_context, xss_server, request):
    """Alice, bob and carol (and more people, all with payload names) in a chat with a
    payload title, JavaScript on. Payloads are stored before the pages load (full
    page), while they are open (live frames: messages, edits, a rename, new chats, a new
    member, typing), in the older pages (clicked), and while bob's network is cut (the
    catch-up on reconnect). No payload may run, load anything or change the page."""
    started = time.perf_counter()
    watch = Watch()
    story_error: BaseException | None = None
    with TcpProxy(xss_server.port) as bob_net:
        run = BrowserRun(watch, (xss_server.url, bob_net.url))
        try:
            play_the_story(run, new_context, xss_server.url, bob_net)
        except (AssertionError, PlaywrightError) as error:
            story_error = error
        findings = security_findings(run)
    assert not findings, "payloads came alive in Chromium:\n" + "\n".join(findings[:20])
    if story_error is not None:
        raise story_error
    assert not watch.page_errors, f"uncaught errors: {watch.page_errors}"
    report(
        request,
        f"Chromium: {run.summary}; {len(watch.requests)} requests, none to a payload's URL,"
        f" no dialog; CSP violations: {len(run.violations)} events,"
        f" {len(watch.csp_messages)} console lines; other console errors:"
        f" {len(watch.console_errors)} {watch.console_errors[:3]};"
        f" {len(watch.network_errors)} network errors while cut;"
        f" {time.perf_counter() - started:.1f} s",
    )


def play_the_story(run: BrowserRun, new_context, server_url: str, bob_net: TcpProxy) -> None:
    tag = uuid.uuid4().hex[:6]
    names = {
        "alice": pick(NAME_PAYLOADS, "event").one_line,
        "bob": pick(NAME_PAYLOADS, "htmx").one_line,
        "carol": pick(NAME_PAYLOADS, "script").one_line,
        "dave": pick(NAME_PAYLOADS, "template").one_line,
    }
    alice = Someone(new_context, server_url, run.watch)
    bob = Someone(new_context, bob_net.url, run.watch)
    carol = Someone(new_context, server_url, run.watch)
    dave = Someone(new_context, server_url, run.watch)
    for who, person in (("alice", alice), ("bob", bob), ("carol", carol), ("dave", dave)):
        person.register(f"{who}_{tag}", names[who])
    members = []
    for j, p in enumerate(NAME_PAYLOADS[::7]):
        member = Someone(new_context, server_url, run.watch)
        member.register(f"m{j}_{tag}", p.one_line)
        members.append((member, p.one_line))
    usernames = " ".join(
        [f"bob_{tag}", f"carol_{tag}"] + [f"m{j}_{tag}" for j in range(len(members))]
    )

    # A harmless chat first: the htmx attributes the app itself puts on its pages.
    calm = alice.new_chat("Harmless", f"bob_{tag}")
    for n in range(55):
        alice.post(f"/chats/{calm}/messages", {"body": f"harmless {n}"})
    calm_page = bob.open(f"/chats/{calm}")
    expect_live(calm_page)
    allowed = set(calm_page.evaluate(HTMX_ATTRIBUTES_JS))
    calm_page.goto("/chats")
    run.allowed_htmx = sorted(allowed | set(calm_page.evaluate(HTMX_ATTRIBUTES_JS)))
    calm_page.close()

    # Before the pages load: a chat with a payload title, half the payloads as bodies,
    # members with payload names writing, edits, more chats with payload titles.
    title = pick(TITLE_PAYLOADS, "htmx")
    talk = Conversation(alice.new_chat(title.text, usernames))
    chat = talk.chat
    for p in PAYLOADS[:60]:
        talk.say(alice, names["alice"], p.text)
    for (member, name), p in zip(members, PAYLOADS[60:], strict=False):
        talk.say(member, name, p.text)
    for seq, p in zip(range(1, 9), PAYLOADS[-8:], strict=True):
        talk.edit(alice, seq, p.text)
    titles = {alice.new_chat(p.text, f"bob_{tag}"): p.one_line for p in TITLE_PAYLOADS[::11]}
    loaded = len(talk.bodies)

    # The pages load: full renders of the chat (as bob and as alice) and bob's list.
    bob_chat = bob.open(f"/chats/{chat}")
    bob_list = bob.open("/chats")
    alice_chat = alice.open(f"/chats/{chat}")
    for page in (bob_chat, bob_list, alice_chat):
        expect_live(page)
    first_shown = loaded - 49
    expect_messages(bob_chat, talk, range(first_shown, loaded + 1))
    expect(bob_chat.locator("h1")).to_have_text(title.one_line)

    # While they are open: live frames of every kind.
    for p in PAYLOADS[60:]:
        talk.say(alice, names["alice"], p.text)
    for seq, p in ((30, PAYLOADS[0]), (55, PAYLOADS[1]), (loaded + 3, PAYLOADS[2])):
        talk.edit(alice, seq, p.text)
    renamed = pick(TITLE_PAYLOADS, "svg")
    alice.post(f"/chats/{chat}/rename", {"title": renamed.text})
    more_titles = {alice.new_chat(p.text, f"bob_{tag}"): p.one_line for p in TITLE_PAYLOADS[5::11]}
    alice.post(f"/chats/{chat}/members", {"members": f"dave_{tag}"})
    talk.say(dave, names["dave"], pick(PAYLOADS, "htmx", 1).text)
    carol_chat = carol.open(f"/chats/{chat}")
    expect_live(carol_chat)
    carol_first = len(talk.bodies) - 49
    carol_chat.get_by_label("Message", exact=True).press_sequentially("typing…", delay=20)
    expect(bob_chat.locator(f"#typing-{chat}")).to_have_text(f"{names['carol']} is typing…")
    expect(bob_chat.locator("h1")).to_have_text(renamed.one_line)
    member_names = bob_chat.locator("#member-list .member-name")
    expect(member_names.get_by_text(names["dave"], exact=True)).to_have_count(1)
    for chat_id, name in {**titles, **more_titles}.items():
        expect(bob_list.locator(f"#chat-name-{chat_id}")).to_have_text(name)
    live_end = len(talk.bodies)
    expect_messages(bob_chat, talk, range(first_shown, live_end + 1))

    # The older messages, by clicking "Earlier messages" until there are none.
    while bob_chat.locator(f"#msg-{chat}-1").count() == 0:
        first = int(bob_chat.locator("#messages li.message").first.get_attribute("data-seq"))
        bob_chat.locator(".older a").click()
        expect(bob_chat.locator(f"#msg-{chat}-{first - 1}")).to_be_attached()
    expect(bob_chat.locator(".older a")).to_have_count(0)
    expect_messages(bob_chat, talk, range(1, live_end + 1))

    # bob's network goes; meanwhile more payloads, edits and a rename; it comes back and
    # his pages catch up (?since=, and the member list and the chat list are refreshed).
    bob_net.cut()
    expect(bob_chat.locator("#connection-state")).to_have_text(OFFLINE)
    for p in PAYLOADS[::5]:
        talk.say(alice, names["alice"], p.text)
    for seq, p in ((1, PAYLOADS[3]), (live_end - 1, PAYLOADS[4]), (live_end + 2, PAYLOADS[5])):
        talk.edit(alice, seq, p.text)
    final_title = pick(TITLE_PAYLOADS, "template")
    alice.post(f"/chats/{chat}/rename", {"title": final_title.text})
    # bob writes payloads while offline: the page shows them in its outbox (app.js).
    queued = [pick(PAYLOADS, "htmx").text, pick(PAYLOADS, "event").text]
    for text in queued:
        bob_chat.get_by_label("Message", exact=True).fill(text)
        bob_chat.get_by_label("Message", exact=True).press("Enter")
    waiting = [f"Waiting for the connection: {text}" for text in queued]
    expect(bob_chat.locator("#outbox li")).to_have_text(waiting)
    assert bob_chat.locator("#outbox li").all_text_contents() == waiting
    assert_nothing_ran(bob_chat, run.allowed_htmx, "bob's chat page with his outbox")
    bob_net.restore()
    expect_live(bob_chat, RECONNECT_TIMEOUT)
    expect_live(bob_list, RECONNECT_TIMEOUT)
    expect(bob_chat.locator("#outbox")).to_be_hidden(timeout=RECONNECT_TIMEOUT)
    for text in queued:  # sent once the connection is back, in order
        seq = len(talk.bodies) + 1
        talk.bodies[seq], talk.authors[seq] = text, names["bob"]
    last = len(talk.bodies)
    expect_messages(bob_chat, talk, range(1, last + 1), RECONNECT_TIMEOUT)
    expect_messages(alice_chat, talk, range(first_shown, last + 1))
    expect_messages(carol_chat, talk, range(carol_first, last + 1))
    # (A rename missed while offline reaches the chat list, which is refreshed on
    # reconnect; the open chat page keeps the title it had, shown as text.)
    assert bob_chat.locator("h1").text_content() in (renamed.one_line, final_title.one_line)
    expect(bob_list.locator(f"#chat-name-{chat}")).to_have_text(final_title.one_line)
    for chat_id, name in {**titles, **more_titles}.items():
        expect(bob_list.locator(f"#chat-name-{chat_id}")).to_have_text(name)

    # Provoke what hover, focus, reveal, polling and delays would set off.
    for page in (bob_chat, alice_chat):
        page.bring_to_front()  # input to a page in the background waits for frames
        for part in range(9):
            page.evaluate(
                "(part) => window.scrollTo(0, document.body.scrollHeight * part / 8)", part
            )
            page.mouse.move(100 + 80 * part, 100 + 40 * part, steps=4)
        for _ in range(6):
            page.keyboard.press("Tab")
    bob_chat.wait_for_timeout(1500)

    # Full pages with JavaScript on: the chat again, newer, older and catch-up pages,
    # the members page, the chat list, the edit form.
    scratch = bob.open(f"/chats/{chat}")
    expect(scratch.locator("h1")).to_have_text(final_title.one_line)
    expect_live(scratch)
    assert_nothing_ran(scratch, run.allowed_htmx, "bob's chat page, loaded again")
    for path in (
        f"/chats/{chat}/messages?after=0",
        f"/chats/{chat}/messages?before={last}",
        f"/chats/{chat}/messages?since=0",
        f"/chats/{chat}/members",
        "/chats",
    ):
        scratch.goto(path)
        scratch.wait_for_timeout(300)
        assert_nothing_ran(scratch, run.allowed_htmx, f"bob's {path}")
    alice_scratch = alice.open(f"/chats/{chat}/members")
    expect(alice_scratch.locator("input#title")).to_have_value(final_title.one_line)
    assert_nothing_ran(alice_scratch, run.allowed_htmx, "alice's members page")
    alice_scratch.goto(f"/chats/{chat}/messages/{loaded + 5}/edit")
    assert alice_scratch.locator("textarea#body").input_value() == talk.bodies[loaded + 5]
    run.summary = (
        f"{last} messages ({len(PAYLOADS)} payloads, some twice), edits, 3 titles of the chat"
        f" and {len(titles) + len(more_titles)} more chats, {len(members) + 4} payload names"
    )


@pytest.mark.browser
def test_an_image_in_markdown_is_a_link_and_nothing_loads_it(new_context, xss_server, request):
    """`![alt](URL)` shows as a link to URL named by its alt text (or by URL), never as
    an image: stored before the page loads and arriving live, hovered and focused,
    nothing asks for URL (no request, no resource timing entry)."""
    started = time.perf_counter()
    watch = Watch()
    tag = uuid.uuid4().hex[:6]
    alice = Someone(new_context, xss_server.url, watch)
    bob = Someone(new_context, xss_server.url, watch)
    alice.register(f"img_a_{tag}", "Alice")
    bob.register(f"img_b_{tag}", "Bob")
    images = [
        p for p in PAYLOADS if p.markdown and p.body.startswith("![") and PROBE[:30] in p.body
    ]
    assert len(images) >= 2
    chat = alice.new_chat("Pictures", f"img_b_{tag}")
    alice.post(f"/chats/{chat}/messages", {"body": images[0].text})
    page = bob.open(f"/chats/{chat}")
    expect_live(page)
    for p in images[1:]:
        alice.post(f"/chats/{chat}/messages", {"body": p.text})
    for seq, p in enumerate(images, 1):
        [(_, text, href)] = p.markdown.marks
        link = page.locator(f"#msg-{chat}-{seq} .message-body a")
        expect(link).to_have_text(text)
        expect(link).to_have_attribute("href", href)
        expect(link).to_have_attribute("rel", "nofollow noopener noreferrer ugc")
        link.hover()
        link.focus()
    expect(page.locator("img, picture, image")).to_have_count(0)
    page.wait_for_timeout(500)
    fetched = page.evaluate(
        "() => performance.getEntriesByType('resource').map((entry) => entry.name)"
    )
    asked = [url for url in [*watch.requests, *fetched] if PAYLOAD_MARK.search(url)]
    assert not asked, f"an image written in Markdown was asked for: {asked}"
    found = page_findings(page, None)
    assert not found, "\n".join(found)
    assert not watch.dialogs and not watch.page_errors, (watch.dialogs, watch.page_errors)
    report(
        request,
        f"{len(images)} Markdown images shown as links, {len(watch.requests)} requests, none"
        f" to them; {time.perf_counter() - started:.1f} s",
    )
