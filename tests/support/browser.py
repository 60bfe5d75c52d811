"""Real Chromium against a real server (tests/support/servers.py): the pages' steps that
several browser test modules take (sign up, start a chat, send, wait until live), and a
watch on each page's console.

Every wait has a deadline: TIMEOUT for ordinary ones (ms, Playwright's unit).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Error, Locator, Page, expect

from tests.support.people import PASSWORD
from tests.support.servers import RestartableServer, ServerFailed, restartable_server

# ms, for every ordinary wait and expectation: a deadline, which a passing test does not
# reach (the page answers in well under a second), long enough for a machine running
# make test's processes, servers and Chromiums at once.
TIMEOUT = 15_000
# ms: the ws extension backs off with full jitter (up to 1 s, 2 s, 4 s, 8 s, 16 s...): after
# a restart that takes a few seconds on a loaded machine, four refused tries can add up
# to more than 20 s (issue 15 CI run 3). A deadline, not a speed.
RECONNECT_TIMEOUT = 45_000
LIVE = re.compile(r"^Live: ")
OFFLINE = re.compile(r"^Offline\. Reconnecting…")

# What Chromium and htmx print when a connection is refused or reset. Tolerated only on
# a page whose network (or server) the test takes away on purpose.
NETWORK_ERROR = re.compile(
    r"net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|CONNECTION_CLOSED|EMPTY_RESPONSE"
    r"|CONNECTION_ABORTED|SOCKET_NOT_CONNECTED|INTERNET_DISCONNECTED)"
    r"|^WebSocket connection to '.*' failed"
)
# htmx logs the `error` Event of a WebSocket that failed to connect as it is.
HTMX_SOCKET_ERROR = "[object Event]"
HTMX_SCRIPT = re.compile(r"/static/vendor/htmx-[\d.]+\.min\.js(\?[^#]*)?$")


def serve(instance: Path, settings: dict | None = None) -> Iterator[RestartableServer]:
    try:
        with restartable_server(instance, settings=settings) as server:
            yield server
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


# -- console watch ---------------------------------------------------------------------------


@dataclass
class Console:
    """Console errors and uncaught errors of one page."""

    name: str
    network_may_drop: bool = False
    errors: list[str] = field(default_factory=list)
    tolerated: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        where = message.location.get("url", "") if message.location else ""
        text = f"{self.name}: console.error: {message.text} ({where})"
        from_htmx_socket = message.text == HTMX_SOCKET_ERROR and HTMX_SCRIPT.search(where)
        if self.network_may_drop and (NETWORK_ERROR.search(message.text) or from_htmx_socket):
            self.tolerated.append(text)
        else:
            self.errors.append(text)

    def on_page_error(self, error: Error) -> None:
        self.errors.append(f"{self.name}: uncaught {error.name}: {error.message}\n{error.stack}")


def watched(page: Page, consoles: list[Console], name: str) -> Page:
    """The page, its console errors and uncaught errors noted in a Console of its own."""
    console = Console(name)
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    consoles.append(console)
    return page


def arrived(page: Page, javascript: bool) -> None:
    """With JavaScript, wait until the page is live (its script has done its work)."""
    if javascript and page.locator(".connection-state").count():
        expect_live(page)


def assert_clean_consoles(consoles: list[Console]) -> None:
    errors = [line for console in consoles for line in console.errors]
    assert not errors, "console errors or page errors:\n" + "\n".join(errors)


# -- a page's steps --------------------------------------------------------------------------


def open_page(
    new_context,
    consoles: list[Console],
    base_url: str,
    name: str,
    *,
    network_may_drop: bool = False,
    **context_args,
) -> Page:
    context: BrowserContext = new_context(base_url=base_url, **context_args)
    context.set_default_timeout(TIMEOUT)
    context.set_default_navigation_timeout(TIMEOUT)
    page = context.new_page()
    console = Console(name, network_may_drop)
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    consoles.append(console)
    return page


def register(page: Page, username: str, display_name: str) -> None:
    page.goto("/register")
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Display name (optional)", exact=True).fill(display_name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    expect(page).to_have_url(re.compile(r"/chats$"))
    expect(page.locator(".signed-in")).to_have_text(display_name)


def open_new_chat(page: Page) -> None:
    """Open the chat list's "New chat" disclosure (open by itself only when the person
    has no chat yet or a form came back with an error)."""
    closed = page.locator("details.new-chat:not([open]) > summary")
    if closed.count():
        closed.click()


def create_group_chat(page: Page, title: str, members: str) -> int:
    page.goto("/chats")
    open_new_chat(page)
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Members (optional)", exact=True).fill(members)
    page.get_by_role("button", name="Create chat", exact=True).click()
    expect(page).to_have_url(re.compile(r"/chats/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    match = re.search(r"/chats/(\d+)$", page.url)
    assert match, page.url
    return int(match.group(1))


def connection_state(page: Page) -> Locator:
    return page.locator("#connection-state")


def expect_live(page: Page, timeout: int = TIMEOUT) -> None:
    expect(connection_state(page)).to_be_visible(timeout=timeout)
    expect(connection_state(page)).to_have_text(LIVE, timeout=timeout)
    expect(connection_state(page)).to_have_attribute("data-live", "true", timeout=timeout)


def expect_offline(page: Page, timeout: int = TIMEOUT) -> None:
    expect(connection_state(page)).to_have_text(OFFLINE, timeout=timeout)
    expect(connection_state(page)).to_have_attribute("data-live", "false", timeout=timeout)


def open_chat(page: Page, chat_id: int) -> None:
    page.goto(f"/chats/{chat_id}")
    expect_live(page)


def composer_box(page: Page) -> Locator:
    return page.get_by_label("Message", exact=True)


def messages_with(page: Page, text: str) -> Locator:
    return page.locator("#messages li.message").filter(has_text=text)


def say(page: Page, text: str) -> None:
    """Send through the composer with Enter (JavaScript on: no navigation) and wait for
    the message to come back over the socket."""
    composer_box(page).fill(text)
    composer_box(page).press("Enter")
    expect(composer_box(page)).to_have_value("")
    expect(messages_with(page, text)).to_have_count(1)


def seq_of(page: Page, text: str) -> int:
    return int(messages_with(page, text).get_attribute("data-seq"))


def post_form(page: Page, path: str, data: dict[str, str]) -> None:
    """POST a form as the page's person, outside the page (same cookies, the page's CSRF
    token, no JavaScript involved): the plain-form way, answered with 303."""
    token = page.locator('input[name="csrf_token"]').first.input_value()
    response = page.context.request.post(path, form={**data, "csrf_token": token}, max_redirects=0)
    assert response.status == 303, (path, response.status, response.text()[:300])


# -- pages as a signed-in person sees them, and what is on screen --------------------------


@contextmanager
def seeded_demo(messages: int) -> Iterator[dict]:
    """The seeded demo served (tools.demo_server: alice owns Watercooler, holding
    `messages` more messages; alice and bob share a direct chat), with alice and bob
    signed in over HTTP: {"url": ..., "people": {name: (client, csrf token)}}."""
    from tools.demo_server import demo_server, sign_in

    with demo_server(messages=messages) as server:
        people = {name: sign_in(server.url, name) for name in ("alice", "bob")}
        yield {"url": server.url, "people": people}
        for client, _ in people.values():
            client.close()


def open_as(browser, demo: dict, name: str, viewport: dict, *, javascript: bool = True) -> Page:
    """A page as one of seeded_demo's people sees it."""
    client, _ = demo["people"][name]
    return signed_in_page(browser, demo["url"], client, viewport, javascript=javascript)


def signed_in_page(
    browser, base_url: str, client, viewport: dict, *, javascript: bool = True
) -> Page:
    """A new page in its own context, carrying an HTTP session's cookies (an httpx client
    signed in by tools.demo_server.sign_in)."""
    context = browser.new_context(
        base_url=base_url, viewport=viewport, java_script_enabled=javascript
    )
    context.set_default_timeout(TIMEOUT)
    context.add_cookies(
        [{"name": k, "value": v, "url": base_url} for k, v in client.cookies.items()]
    )
    return context.new_page()


def in_view(page: Page, selector: str) -> bool:
    """Wholly inside the window and inside every box that clips it."""
    return page.evaluate(
        """selector => {
          const element = document.querySelector(selector)
          const rect = element.getBoundingClientRect()
          if (rect.top < 0 || rect.bottom > innerHeight + 0.5) return false
          for (let box = element.parentElement; box; box = box.parentElement) {
            const style = getComputedStyle(box)
            if (style.overflowY === 'visible') continue
            const clip = box.getBoundingClientRect()
            if (rect.top < clip.top - 0.5 || rect.bottom > clip.bottom + 0.5) return false
          }
          return true
        }""",
        selector,
    )
