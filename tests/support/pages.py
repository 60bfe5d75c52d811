"""Every page of the app, for the checkers that go over them all (axe-core, IBM Equal
Access and HTML_CodeSniffer in test_accessibility.py; the W3C Nu HTML Checker in
test_html_validity.py; pa11y in test_htmlcs.py).

`made_world()` signs alice and bob up on a real server and gives them chats (a long one
with earlier messages, unread ones, an empty one). `PAGES` says, for each page, whether
it is signed in and how a Playwright page gets there, form errors included. Checkers
that drive a browser of their own (pa11y) use `PATHS` and `FORM_STEPS`: the same pages
as an address, and for a form's answer the same steps in pa11y's action language.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from playwright.sync_api import APIRequestContext, Page, Playwright, Response, expect

from tests.support.people import PASSWORD
from tests.support.remote import unique

# Long enough to break any layout that does not wrap: a chat title (at most 100
# characters), a display name (at most 64), a word and a URL in a message.
LONG_TITLE = "Pneumonoultramicroscopicsilicovolcanoconiosis" * 2 + "Lounge"
LONG_NAME = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissen"
LONG_WORD = "Rindfleischetikettierungsueberwachungsaufgabenuebertragungsgesetz" * 2
LONG_URL = "https://example.org/" + "a-very-long-path-without-any-spaces-at-all/" * 5 + "?q=1"
MESSAGES = 105  # two pages of earlier messages: 56-105 shown, then 6-55, then 1-5


def csrf_in(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


@dataclass
class Person:
    """Someone signed in through HTTP; `state` signs a browser context in as them."""

    username: str
    display_name: str
    http: APIRequestContext

    @property
    def state(self) -> dict:
        return self.http.storage_state()

    def token(self) -> str:
        return csrf_in(self.http.get("/chats").text())

    def post(self, path: str, form: dict, token: str | None = None) -> Response:
        """A form POST, not followed: the answer is the 303 itself."""
        answer = self.http.post(
            path, form={**form, "csrf_token": token or self.token()}, max_redirects=0
        )
        assert answer.status == 303, (path, answer.status, answer.text()[:500])
        return answer

    def create_chat(self, title: str, members: str = "") -> int:
        answer = self.post("/chats", {"title": title, "members": members})
        return int(re.search(r"/chats/(\d+)", answer.headers["location"]).group(1))

    def say(self, chat_id: int, bodies: list[str]) -> None:
        token = self.token()
        for body in bodies:
            form = {"body": body, "client_token": uuid.uuid4().hex}
            self.post(f"/chats/{chat_id}/messages", form, token)


def sign_up(playwright: Playwright, url: str, username: str, display_name: str) -> Person:
    http = playwright.request.new_context(base_url=url)
    token = csrf_in(http.get("/register").text())
    form = {
        "username": username,
        "display_name": display_name,
        "password": PASSWORD,
        "csrf_token": token,
    }
    answer = http.post("/register", form=form, max_redirects=0)
    assert answer.status == 303, answer.text()[:500]
    return Person(username, display_name, http)


@dataclass
class World:
    """What every page check looks at: alice owns a long chat with bob; bob started a
    chat with messages alice has not read; bob mentions alice in both."""

    url: str
    alice: Person
    bob: Person
    chat: int  # alice's, MESSAGES messages, alternately hers and bob's, the last a reply
    alice_seq: int  # one of alice's messages: the edit page; bob replies to it
    bob_seq: int  # one of bob's: alice may not edit it (403); it has reactions


@contextmanager
def made_world(playwright: Playwright, server_url: str) -> Iterator[World]:
    """alice, bob and their chats on the server at server_url, made through HTTP."""
    alice = sign_up(playwright, server_url, unique("alice"), LONG_NAME)
    bob = sign_up(playwright, server_url, unique("bob"), "Bob")
    chat = alice.create_chat(LONG_TITLE, bob.username)
    for seq in range(1, MESSAGES - 3, 2):
        alice.say(chat, [f"Message {seq}: shall we meet at the watercooler at {seq % 12 + 1}?"])
        bob.say(chat, [f"Message {seq + 1}: sounds good, see you there."])
    alice.say(chat, [f"A long word: {LONG_WORD}", f"A long link: {LONG_URL}"])
    # A mention of alice (her /mentions page) with a long word and a long link, which
    # is a reply (its quote) and has reactions (their buttons, the React page's list).
    answer = f"@{alice.username}, Bob answers with {LONG_WORD} and {LONG_URL}"
    form = {"body": answer, "client_token": uuid.uuid4().hex, "reply_to": str(MESSAGES - 2)}
    bob.post(f"/chats/{chat}/messages", form)
    for person, emoji in ((alice, "👍"), (bob, "👍"), (bob, "🎉")):
        person.post(f"/chats/{chat}/messages/{MESSAGES}/reactions", {"emoji": emoji})
    lunch = bob.create_chat("Lunch plans", alice.username)
    bob.say(
        lunch,
        ["Pizza or noodles?", "I am hungry already", f"Decide soon please, @{alice.username}"],
    )
    alice.post(f"/chats/{lunch}/messages/3/reactions", {"emoji": "👍"})  # seen on /mentions
    alice.create_chat("Quiet room")  # no messages yet
    try:
        yield World(server_url, alice, bob, chat, alice_seq=MESSAGES - 2, bob_seq=MESSAGES)
    finally:
        alice.http.dispose()
        bob.http.dispose()


def visit(page: Page, path: str, status: int = 200) -> None:
    response = page.goto(path)
    assert response is not None and response.status == status, (path, response and response.status)
    wait_until_live(page)


def wait_until_live(page: Page) -> None:
    """With JavaScript on, the chat and the chat list say in words that they are live."""
    if page.evaluate("typeof window.htmx") != "object":
        return
    if page.locator("#connection-state").count():
        # In any language: the words differ, the state does not.
        expect(page.locator("#connection-state")).to_have_attribute("data-live", "true")
    if page.locator("#messages").count():
        # The reader's own presence has come (on a phone the member list is not shown
        # beside the chat: it is one tap away, on the members page).
        page.locator(".presence[data-online='1']").first.wait_for(state="attached")


# The steps find fields by id and buttons by place, not by their words: every page is
# checked in English and in Russian.
ERROR_TITLE = re.compile(r"^(Error|Ошибка): ")


def submit_and_expect(page: Page, status: int) -> None:
    form = page.locator("main form.stack").first
    form.evaluate("form => { form.noValidate = true }")
    with page.expect_navigation() as navigation:
        form.locator("button[type=submit]").click()
    assert navigation.value is not None and navigation.value.status == status


def register_with_errors(page: Page, world: World) -> None:
    visit(page, "/register")
    page.locator("#username").fill("x!")
    page.locator("#display_name").fill(LONG_NAME)
    page.locator("#password").fill("short")
    submit_and_expect(page, 422)
    expect(page.locator(".field-invalid")).to_have_count(2)
    expect(page).to_have_title(ERROR_TITLE)


def login_failed(page: Page, world: World) -> None:
    visit(page, "/login")
    page.locator("#username").fill(unique("nobody"))
    page.locator("#password").fill("not the password")
    submit_and_expect(page, 401)
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page).to_have_title(ERROR_TITLE)


def chat_list(page: Page, world: World) -> None:
    visit(page, "/chats")
    expect(page.locator(".unread").first).to_be_visible()
    # The forms to start a chat, behind "New chat", are checked too.
    page.locator("details.new-chat").evaluate("details => { details.open = true }")
    expect(page.locator("#title")).to_be_visible()


def chat(page: Page, world: World) -> None:
    visit(page, f"/chats/{world.chat}")
    expect(page.locator("#messages > li.message")).to_have_count(50)
    expect(page.locator(".older a")).to_be_attached()


def members(page: Page, world: World) -> None:
    visit(page, f"/chats/{world.chat}/members")
    for action in ("members", "rename"):
        form = page.locator(f"form[action='/chats/{world.chat}/{action}']")
        expect(form.locator("button[type=submit]")).to_be_visible()
    # Deleting asks first, on a page of its own (issue 15).
    expect(page.locator(f"a[href='/chats/{world.chat}/delete']")).to_be_visible()


def chat_around(page: Page, world: World) -> None:
    """Opened around a message (?around=), with links both ways. Without the link's
    #msg-… fragment: a fragment moves where the first Tab starts (the skip link check)."""
    visit(page, f"/chats/{world.chat}?around=30")
    expect(page.locator(f"#msg-{world.chat}-30")).to_have_count(1)
    expect(page.locator(".later a").first).to_be_visible()


def chat_replying(page: Page, world: World) -> None:
    """A Reply link followed (?reply_to=): the composer shows what it answers."""
    visit(page, f"/chats/{world.chat}?reply_to={world.alice_seq}")
    expect(page.locator(".replying")).to_be_visible()


def react_refused(page: Page, world: World) -> None:
    """A word typed where an emoji goes: the React page comes back with the error."""
    visit(page, f"/chats/{world.chat}/messages/{world.bob_seq}/reactions")
    page.locator("#emoji").fill("hello")
    submit_and_expect(page, 422)
    expect(page.locator(".field-invalid")).to_have_count(1)
    expect(page).to_have_title(ERROR_TITLE)


def password_refused(page: Page, world: World) -> None:
    """A wrong current password: the form comes back (422) with the error by its field.
    Only refusals here: a real change would end the other contexts' shared session."""
    visit(page, "/account/password")
    page.locator("#current_password").fill("not the password")
    page.locator("#new_password").fill("short")
    submit_and_expect(page, 422)
    expect(page.locator(".field-invalid")).to_have_count(2)
    expect(page).to_have_title(ERROR_TITLE)


def settings_refused(page: Page, world: World) -> None:
    """A zone that is not one: a list offers only real ones, so the page is made to send
    what a forged form would."""
    visit(page, "/account")
    page.locator("#timezone").evaluate(
        "select => { select.options[1].value = 'Mars/Olympus'; select.selectedIndex = 1 }"
    )
    submit_and_expect(page, 422)
    expect(page.locator(".field-invalid")).to_have_count(1)
    expect(page).to_have_title(ERROR_TITLE)


def person(page: Page, world: World) -> None:
    visit(page, f"/people/{world.bob.username}")
    expect(page.locator("form[action='/chats/direct'] button[type=submit]")).to_be_visible()


def mentions(page: Page, world: World) -> None:
    visit(page, "/mentions")
    expect(page.locator(".mention-item")).to_have_count(2)
    expect(page.locator(".mention-item .mention").first).to_be_visible()


def search(page: Page, world: World) -> None:
    """Results with marks and a next page (more than 20 messages say "watercooler")."""
    visit(page, "/search?q=watercool")
    expect(page.locator("ol.search-results > li")).to_have_count(20)
    expect(page.locator("ol.search-results mark").first).to_be_visible()


def search_nothing(page: Page, world: World) -> None:
    visit(page, f"/search?q=nothing+like+this&chat={world.chat}")
    expect(page.locator("#search-results h2")).to_be_visible()


PAGES: dict[str, tuple[bool, Callable[[Page, World], None]]] = {
    # name: (signed in, how to get there)
    "register": (False, lambda page, world: visit(page, "/register")),
    "register-422": (False, register_with_errors),
    "login": (False, lambda page, world: visit(page, "/login")),
    "login-401": (False, login_failed),
    "chat-list": (True, chat_list),
    "chat": (True, chat),
    "chat-around": (True, chat_around),
    "chat-replying": (True, chat_replying),
    "members": (True, members),
    "password": (True, lambda page, world: visit(page, "/account/password")),
    "password-422": (True, password_refused),
    "settings": (True, lambda page, world: visit(page, "/account")),
    "settings-422": (True, settings_refused),
    "edit": (True, lambda page, w: visit(page, f"/chats/{w.chat}/messages/{w.alice_seq}/edit")),
    "leave": (True, lambda page, w: visit(page, f"/chats/{w.chat}/leave")),
    "delete-chat": (True, lambda page, w: visit(page, f"/chats/{w.chat}/delete")),
    "delete-message": (
        True,
        lambda page, w: visit(page, f"/chats/{w.chat}/messages/{w.alice_seq}/delete"),
    ),
    "react": (
        True,
        lambda page, w: visit(page, f"/chats/{w.chat}/messages/{w.bob_seq}/reactions"),
    ),
    "react-422": (True, react_refused),
    "older": (True, lambda page, w: visit(page, f"/chats/{w.chat}/messages?before=60")),
    "person": (True, person),
    "own-page": (True, lambda page, w: visit(page, f"/people/{w.alice.username}")),
    "mentions": (True, mentions),
    "search": (True, search),
    "search-nothing": (True, search_nothing),
    "404": (True, lambda page, w: visit(page, "/chats/999999", 404)),
    "403": (True, lambda page, w: visit(page, f"/chats/{w.chat}/messages/{w.bob_seq}/edit", 403)),
}


# The same pages for a checker with a browser of its own: where each one is, and for a
# form's answer the steps (pa11y's actions) that fill and send the form as above.
PATHS: dict[str, Callable[[World], str]] = {
    "register": lambda w: "/register",
    "register-422": lambda w: "/register",
    "login": lambda w: "/login",
    "login-401": lambda w: "/login",
    "chat-list": lambda w: "/chats",
    "chat": lambda w: f"/chats/{w.chat}",
    "chat-around": lambda w: f"/chats/{w.chat}?around=30",
    "chat-replying": lambda w: f"/chats/{w.chat}?reply_to={w.alice_seq}",
    "members": lambda w: f"/chats/{w.chat}/members",
    "password": lambda w: "/account/password",
    "password-422": lambda w: "/account/password",
    "settings": lambda w: "/account",
    "edit": lambda w: f"/chats/{w.chat}/messages/{w.alice_seq}/edit",
    "leave": lambda w: f"/chats/{w.chat}/leave",
    "delete-chat": lambda w: f"/chats/{w.chat}/delete",
    "delete-message": lambda w: f"/chats/{w.chat}/messages/{w.alice_seq}/delete",
    "react": lambda w: f"/chats/{w.chat}/messages/{w.bob_seq}/reactions",
    "react-422": lambda w: f"/chats/{w.chat}/messages/{w.bob_seq}/reactions",
    "older": lambda w: f"/chats/{w.chat}/messages?before=60",
    "person": lambda w: f"/people/{w.bob.username}",
    "own-page": lambda w: f"/people/{w.alice.username}",
    "mentions": lambda w: "/mentions",
    "search": lambda w: "/search?q=watercool",
    "search-nothing": lambda w: f"/search?q=nothing+like+this&chat={w.chat}",
    "404": lambda w: "/chats/999999",
    "403": lambda w: f"/chats/{w.chat}/messages/{w.bob_seq}/edit",
}

# pa11y's actions set a field's value, and a select takes only a value it offers: the
# refused zone is checked in the page's own browser only (tests/test_accessibility.py).
BEYOND_PA11Y = {"settings-422"}

FORM_STEPS: dict[str, list[str]] = {
    "register-422": [
        "set field #username to x!",
        f"set field #display_name to {LONG_NAME}",
        "set field #password to short",
        "click element form.stack button[type=submit]",
        "wait for element .field-invalid to be added",
    ],
    "login-401": [
        "set field #username to nobody-at-all",
        "set field #password to not the password",
        "click element form.stack button[type=submit]",
        "wait for element #login-error to be added",
    ],
    "react-422": [
        "set field #emoji to hello",
        "click element form.stack button[type=submit]",
        "wait for element .field-invalid to be added",
    ],
    "password-422": [
        "set field #current_password to not the password",
        "set field #new_password to short",
        "click element form.stack button[type=submit]",
        "wait for element .field-invalid to be added",
    ],
}
