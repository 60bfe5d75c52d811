"""Real Chromium against a real server: every core flow by plain forms, JavaScript off,
and the same flow on a 360 px phone with JavaScript on (SPEC sections 4 and 6).

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it outside CI and
failed in CI. The server is one hypercorn process for the whole session, so every test
makes people with names of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import (
    BrowserContext,
    Locator,
    Page,
    Response,
    expect,
)

from tests.support.browser import TIMEOUT, open_new_chat
from tests.support.people import PASSWORD
from tests.support.remote import unique
from tests.support.servers import ServerFailed, live_server

pytestmark = pytest.mark.browser

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)
PHONE = pytest.mark.browser_context_args(
    viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
)


# -- fixtures: overrides of pytest-playwright's, and the live server ----------------------


@pytest.fixture(scope="module")
def browser_context_args(playwright, device, base_url) -> dict:
    """What pytest-playwright's would give (--device, base_url), at module scope."""
    args = dict(playwright.devices[device]) if device else {}
    args["base_url"] = base_url
    return args


@pytest.fixture(scope="session")
def live_server_url(chromium_executable, tmp_path_factory) -> Iterator[str]:
    try:
        with live_server(tmp_path_factory.mktemp("browser-instance")) as url:
            yield url
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def base_url(live_server_url) -> str:
    """pytest-playwright passes this to every context: page.goto("/chats") works."""
    return live_server_url


# -- helpers -------------------------------------------------------------------------------


def new_page(new_context) -> Page:
    context: BrowserContext = new_context()
    context.set_default_timeout(TIMEOUT)
    context.set_default_navigation_timeout(TIMEOUT)
    return context.new_page()


def assert_no_scripts(page: Page) -> None:
    """With JavaScript off, none of the page's scripts ran: htmx never loaded."""
    assert page.evaluate("typeof window.htmx") == "undefined"


def submit(page: Page, button: str, *, scope: Page | Locator | None = None) -> Response:
    """Click a submit button and return the response the browser ended up showing."""
    with page.expect_navigation(timeout=TIMEOUT) as navigation:
        (scope or page).get_by_role("button", name=button, exact=True).click()
    response = navigation.value
    assert response is not None
    return response


def assert_post_see_other(response: Response) -> None:
    """The navigation was a real form POST, answered 303 and followed with a GET."""
    post = response.request.redirected_from
    assert post is not None, f"{response.url} was not reached through a redirect"
    assert post.method == "POST"
    assert "hx-request" not in post.headers
    answer = post.response()
    assert answer is not None and answer.status == 303, answer and answer.status
    assert response.request.method == "GET"
    assert response.status == 200


def post_form(
    page: Page, button: str, *, scope: Page | Locator | None = None, javascript: bool = False
) -> Response:
    response = submit(page, button, scope=scope)
    assert_post_see_other(response)
    if not javascript:
        assert_no_scripts(page)
    return response


def register(page: Page, username: str, display_name: str, *, javascript: bool = False) -> None:
    page.goto("/register")
    assert_no_scripts(page)  # the sign-up page has no script at all
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Display name (optional)", exact=True).fill(display_name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    post_form(page, "Create account", javascript=javascript)
    expect(page).to_have_url(re.compile(r"/chats$"), timeout=TIMEOUT)
    expect(page.locator(".signed-in")).to_have_text(display_name, timeout=TIMEOUT)


def create_group_chat(page: Page, title: str, members: str, *, javascript: bool = False) -> int:
    page.goto("/chats")
    if not javascript:
        assert_no_scripts(page)
    open_new_chat(page)
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_label("Members (optional)", exact=True).fill(members)
    post_form(page, "Create chat", javascript=javascript)
    expect(page).to_have_url(re.compile(r"/chats/\d+$"), timeout=TIMEOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text(title, timeout=TIMEOUT)
    return chat_id_of(page)


def chat_id_of(page: Page) -> int:
    match = re.search(r"/chats/(\d+)", page.url)
    assert match, page.url
    return int(match.group(1))


def send(page: Page, body: str) -> Locator:
    """Send through the composer; return the new message's <li>."""
    page.get_by_label("Message", exact=True).fill(body)
    post_form(page, "Send")
    # The 303 points at the new message's anchor.
    assert re.search(r"/chats/\d+#msg-\d+-\d+$", page.url), page.url
    last = page.locator("#messages li.message").last
    expect(last).to_contain_text(body, timeout=TIMEOUT)
    return last


def send_live(page: Page, body: str) -> None:
    """With JavaScript on, the Send button sends without leaving the page; the message
    comes back over the socket. (On a phone Enter adds a line: issue 15, defect 14;
    tests/test_composer_browser.py.)"""
    url = page.url
    composer = page.get_by_label("Message", exact=True)
    composer.fill(body)
    page.get_by_role("button", name="Send", exact=True).click()
    expect(page.locator("#messages li.message").last).to_contain_text(body, timeout=TIMEOUT)
    expect(composer).to_have_value("", timeout=TIMEOUT)
    assert page.url == url


def message(page: Page, text: str) -> Locator:
    return page.locator("#messages li.message").filter(has_text=text)


def edit_link(item: Locator) -> Locator:
    # Not get_by_role: that skips hidden elements, and hidden is what is checked.
    return item.locator(".edit")


# -- JavaScript off: everything through plain forms -----------------------------------------


@NO_JS
def test_group_chat_send_reply_edit_delete_without_javascript(new_context):
    alice, bob = new_page(new_context), new_page(new_context)
    alice_name, bob_name = unique("alice"), unique("bob")
    register(alice, alice_name, "Alice")
    register(bob, bob_name, "Bob")
    assert alice.evaluate("typeof window.htmx") == "undefined"

    title = unique("Watercooler")
    chat_id = create_group_chat(alice, title, bob_name)
    expect(alice.locator("#messages li.message"), "a new chat is empty").to_have_count(
        0, timeout=TIMEOUT
    )
    expect(alice.get_by_text("No messages yet. Say hello!")).to_be_visible(timeout=TIMEOUT)
    expect(alice.get_by_role("link", name="2 members and settings")).to_be_visible(timeout=TIMEOUT)

    hello = send(alice, "Hello Bob, sent without JavaScript")
    expect(hello.locator(".author")).to_have_text("Alice", timeout=TIMEOUT)
    expect(alice.locator("#messages li.message")).to_have_count(1, timeout=TIMEOUT)

    # Bob sees the chat in his list with one unread message, and opens it.
    bob.goto("/chats")
    assert_no_scripts(bob)
    item = bob.locator(f"#chat-{chat_id}")
    expect(item.locator(".chat-name")).to_have_text(title, timeout=TIMEOUT)
    expect(item.locator(".unread")).to_have_text("1 unread", timeout=TIMEOUT)
    expect(item.locator(".chat-preview")).to_contain_text(
        "Alice: Hello Bob, sent without JavaScript", timeout=TIMEOUT
    )
    item.get_by_role("link").click()
    # Links to a chat land at its newest message and the composer (issue 15).
    expect(bob).to_have_url(re.compile(rf"/chats/{chat_id}#newest$"), timeout=TIMEOUT)
    assert_no_scripts(bob)
    from_alice = message(bob, "Hello Bob, sent without JavaScript")
    expect(from_alice).to_have_count(1, timeout=TIMEOUT)

    # The page has an edit link under your own messages only (issue 15: text browsers
    # ignore the CSS that used to hide the others).
    expect(edit_link(from_alice)).to_have_count(0, timeout=TIMEOUT)
    reply = send(bob, "Hi Alice, Bob here")
    expect(edit_link(reply)).to_be_visible(timeout=TIMEOUT)

    # Opening the chat marked it read.
    bob.goto("/chats")
    expect(bob.locator(f"#chat-{chat_id} .unread")).to_have_count(0, timeout=TIMEOUT)

    # Alice follows the no-JS "Load new messages" link, then reloads the chat.
    alice.get_by_role("link", name="Load new messages").click()
    expect(alice).to_have_url(
        re.compile(rf"/chats/{chat_id}/messages\?after=1#newest$"), timeout=TIMEOUT
    )
    assert_no_scripts(alice)
    expect(alice.locator(".messages li.message")).to_have_count(1, timeout=TIMEOUT)
    expect(alice.locator(".messages li.message")).to_contain_text(
        "Hi Alice, Bob here", timeout=TIMEOUT
    )
    alice.goto(f"/chats/{chat_id}")
    expect(alice.locator("#messages li.message")).to_have_count(2, timeout=TIMEOUT)
    expect(alice.locator("#messages li.message").last).to_contain_text(
        "Hi Alice, Bob here", timeout=TIMEOUT
    )
    mine = message(alice, "Hello Bob, sent without JavaScript")
    expect(edit_link(mine)).to_be_visible(timeout=TIMEOUT)
    expect(edit_link(message(alice, "Hi Alice, Bob here"))).to_be_hidden(timeout=TIMEOUT)

    # Alice edits her message.
    edit_link(mine).click()
    expect(alice).to_have_url(re.compile(rf"/chats/{chat_id}/messages/1/edit$"), timeout=TIMEOUT)
    assert_no_scripts(alice)
    body = alice.get_by_label("Message", exact=True)
    expect(body).to_have_value("Hello Bob, sent without JavaScript", timeout=TIMEOUT)
    body.fill("Hello Bob, edited without JavaScript")
    post_form(alice, "Save")
    assert alice.url.endswith(f"/chats/{chat_id}#msg-{chat_id}-1"), alice.url
    edited = alice.locator(f"#msg-{chat_id}-1")
    expect(edited.locator(".message-body")).to_have_text(
        "Hello Bob, edited without JavaScript", timeout=TIMEOUT
    )
    expect(edited.locator(".message-edited")).to_have_text("(edited)", timeout=TIMEOUT)

    bob.goto(f"/chats/{chat_id}")
    theirs = bob.locator(f"#msg-{chat_id}-1")
    expect(theirs.locator(".message-body")).to_have_text(
        "Hello Bob, edited without JavaScript", timeout=TIMEOUT
    )
    expect(theirs.locator(".message-edited")).to_have_text("(edited)", timeout=TIMEOUT)
    expect(edit_link(theirs)).to_be_hidden(timeout=TIMEOUT)

    # Alice deletes it; both see the tombstone, in place.
    edit_link(edited).click()
    expect(alice.get_by_role("heading", level=1)).to_have_text("Edit your message", timeout=TIMEOUT)
    # Deleting asks first, on a page of its own (issue 15).
    alice.get_by_role("link", name="Delete this message…", exact=True).click()
    expect(alice.get_by_role("heading", level=1)).to_have_text(
        "Delete your message?", timeout=TIMEOUT
    )
    post_form(alice, "Delete message")
    bob.reload()
    for page in (alice, bob):
        tombstone = page.locator(f"#msg-{chat_id}-1")
        expect(tombstone.locator(".message-body")).to_have_text("Message deleted", timeout=TIMEOUT)
        expect(tombstone.locator(".message-edited")).to_have_count(0, timeout=TIMEOUT)
        expect(edit_link(tombstone)).to_have_count(0, timeout=TIMEOUT)
        expect(page.locator("#messages")).not_to_contain_text(
            "edited without JavaScript", timeout=TIMEOUT
        )
        expect(page.locator("#messages li.message")).to_have_count(2, timeout=TIMEOUT)
        expect(page.locator("#messages li.message").last).to_contain_text(
            "Hi Alice, Bob here", timeout=TIMEOUT
        )


@NO_JS
def test_direct_chat_without_javascript(new_context):
    alice, bob = new_page(new_context), new_page(new_context)
    alice_name, bob_name = unique("alice"), unique("bob")
    register(alice, alice_name, "Alice")
    register(bob, bob_name, "Bob")

    alice.goto("/chats")
    open_new_chat(alice)
    alice.get_by_label("Username", exact=True).fill(f"@{bob_name}")
    post_form(alice, "Open direct chat")
    expect(alice).to_have_url(re.compile(r"/chats/\d+$"), timeout=TIMEOUT)
    expect(alice.get_by_role("heading", level=1)).to_have_text("Bob", timeout=TIMEOUT)
    expect(alice.get_by_role("link", name="2 members")).to_be_visible(timeout=TIMEOUT)
    chat_id = chat_id_of(alice)
    send(alice, "Just between us")

    # Opening it again finds the same chat.
    alice.goto("/chats")
    open_new_chat(alice)
    alice.get_by_label("Username", exact=True).fill(bob_name)
    post_form(alice, "Open direct chat")
    assert chat_id_of(alice) == chat_id
    expect(alice.locator("#messages li.message")).to_have_count(1, timeout=TIMEOUT)

    bob.goto("/chats")
    item = bob.locator(f"#chat-{chat_id}")
    expect(item.locator(".chat-name")).to_have_text("Alice", timeout=TIMEOUT)
    expect(item.locator(".unread")).to_have_text("1 unread", timeout=TIMEOUT)
    item.get_by_role("link").click()
    expect(bob.locator("#messages li.message").last).to_contain_text(
        "Just between us", timeout=TIMEOUT
    )
    send(bob, "Agreed")


@NO_JS
def test_owner_removes_member_who_then_gets_404_without_javascript(new_context):
    alice, bob = new_page(new_context), new_page(new_context)
    alice_name, bob_name = unique("alice"), unique("bob")
    register(alice, alice_name, "Alice")
    register(bob, bob_name, "Bob")
    title = unique("Short-lived")
    chat_id = create_group_chat(alice, title, bob_name)
    send(alice, "Bob will not see this for long")

    bob.goto(f"/chats/{chat_id}")
    expect(bob.get_by_role("heading", level=1)).to_have_text(title, timeout=TIMEOUT)

    alice.get_by_role("link", name="2 members and settings").click()
    expect(alice).to_have_url(re.compile(rf"/chats/{chat_id}/members$"), timeout=TIMEOUT)
    assert_no_scripts(alice)
    members = alice.locator(".member-list li")
    expect(members).to_have_count(2, timeout=TIMEOUT)
    expect(members.filter(has_text=f"@{bob_name}")).to_have_count(1, timeout=TIMEOUT)
    response = post_form(alice, f"Remove Bob (@{bob_name})")
    assert response.url.endswith(f"/chats/{chat_id}/members"), response.url
    expect(members).to_have_count(1, timeout=TIMEOUT)
    expect(members).to_contain_text(f"@{alice_name}", timeout=TIMEOUT)
    expect(alice.locator(".member-list")).not_to_contain_text(bob_name, timeout=TIMEOUT)

    response = bob.goto(f"/chats/{chat_id}")
    assert response is not None and response.status == 404
    assert_no_scripts(bob)
    expect(bob.get_by_role("heading", level=1)).to_have_text("Not found", timeout=TIMEOUT)
    expect(bob.get_by_text("Error 404")).to_be_visible(timeout=TIMEOUT)
    expect(bob.get_by_text("Bob will not see this for long")).to_have_count(0, timeout=TIMEOUT)
    bob.goto("/chats")
    expect(bob.locator(f"#chat-{chat_id}")).to_have_count(0, timeout=TIMEOUT)


@NO_JS
def test_log_out_without_javascript(new_context):
    page = new_page(new_context)
    name = unique("carol")
    register(page, name, "Carol")
    post_form(page, "Log out")
    expect(page).to_have_url(re.compile(r"/login$"), timeout=TIMEOUT)
    expect(page.get_by_role("heading", level=1)).to_have_text("Log in", timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Log out")).to_have_count(0, timeout=TIMEOUT)
    page.goto("/chats")
    expect(page).to_have_url(re.compile(r"/login$"), timeout=TIMEOUT)

    # Logging in again works, through the same form.
    page.get_by_label("Username", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    post_form(page, "Log in")
    expect(page).to_have_url(re.compile(r"/chats$"), timeout=TIMEOUT)
    expect(page.locator(".signed-in")).to_have_text("Carol", timeout=TIMEOUT)


@NO_JS
def test_login_with_wrong_password_is_401_with_one_message(new_context):
    page = new_page(new_context)
    name = unique("dave")
    register(page, name, "Dave")
    post_form(page, "Log out")

    page.get_by_label("Username", exact=True).fill(name)
    page.get_by_label("Password", exact=True).fill("not the password")
    response = submit(page, "Log in")
    assert response.request.method == "POST"
    assert response.request.redirected_from is None
    assert response.status == 401
    # A challenge Chromium does not know: no password dialog, the page shows as it is.
    assert response.headers["www-authenticate"] == 'Form realm="vibechat"'
    assert_no_scripts(page)
    expect(page.get_by_role("alert")).to_have_text(
        "That username and password do not match an account.", timeout=TIMEOUT
    )
    expect(page.get_by_label("Username", exact=True)).to_have_value(name, timeout=TIMEOUT)
    expect(page.get_by_label("Password", exact=True)).to_have_value("", timeout=TIMEOUT)
    expect(page.locator(".signed-in")).to_have_count(0, timeout=TIMEOUT)


@NO_JS
def test_register_with_short_password_shows_error_and_keeps_username(new_context):
    page = new_page(new_context)
    name = unique("erin")
    page.goto("/register")
    page.get_by_label("Username", exact=True).fill(name)
    page.get_by_label("Display name (optional)", exact=True).fill("Erin")
    password = page.get_by_label("Password", exact=True)
    password.fill("short")

    # The browser's own check (minlength) stops the form first ...
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(re.compile(r"/register$"), timeout=TIMEOUT)
    expect(page.locator("#password:invalid")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator(".error")).to_have_count(0, timeout=TIMEOUT)

    # ... and a browser without constraint validation gets the server's answer.
    page.locator("form.stack").evaluate("form => { form.noValidate = true; }")
    response = submit(page, "Create account")
    assert response.request.method == "POST"
    assert response.status == 422
    assert_no_scripts(page)
    error = page.locator("#password-error")
    expect(error).to_have_text("Use at least 8 characters.", timeout=TIMEOUT)
    # Next to its field, and tied to it.
    expect(page.locator(".field-invalid")).to_have_count(1, timeout=TIMEOUT)
    expect(page.locator(".field-invalid #password-error")).to_have_count(1, timeout=TIMEOUT)
    expect(password).to_have_attribute(
        "aria-describedby", "password-hint password-error", timeout=TIMEOUT
    )
    expect(password).to_have_attribute("aria-invalid", "true", timeout=TIMEOUT)
    expect(password).to_have_value("", timeout=TIMEOUT)
    expect(page.get_by_label("Username", exact=True)).to_have_value(name, timeout=TIMEOUT)
    expect(page.get_by_label("Display name (optional)", exact=True)).to_have_value(
        "Erin", timeout=TIMEOUT
    )

    # Nothing half-written: the username is still free.
    password.fill(PASSWORD)
    post_form(page, "Create account")
    expect(page).to_have_url(re.compile(r"/chats$"), timeout=TIMEOUT)


# -- JavaScript on, on a small phone ---------------------------------------------------------


def assert_no_horizontal_scroll(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways: scrollWidth {width} > 360"


@PHONE
def test_phone_with_javascript_register_create_send_without_sideways_scroll(new_context):
    alice, bob = new_page(new_context), new_page(new_context)
    alice_name, bob_name = unique("alice"), unique("bob")
    register(alice, alice_name, "Alice", javascript=True)
    assert alice.evaluate("window.innerWidth") == 360  # the viewport meta tag works
    assert alice.evaluate("typeof document.querySelector") == "function"  # JavaScript is on
    register(bob, bob_name, "Bob", javascript=True)
    assert_no_horizontal_scroll(alice)

    title = unique("A rather long chat title that has to wrap on a small phone screen")
    chat_id = create_group_chat(alice, title, bob_name, javascript=True)
    assert alice.evaluate("typeof window.htmx") == "object"  # the page went live
    assert_no_horizontal_scroll(alice)
    send_live(alice, "Hello from a phone")
    long_word = "https://example.org/" + "a-very-long-path-without-spaces" * 6
    send_live(alice, long_word)
    assert_no_horizontal_scroll(alice)
    expect(alice.locator("#messages li.message")).to_have_count(2, timeout=TIMEOUT)

    alice.goto("/chats")
    expect(alice.locator(f"#chat-{chat_id} .chat-name")).to_have_text(title, timeout=TIMEOUT)
    assert_no_horizontal_scroll(alice)

    bob.goto("/chats")
    expect(bob.locator(f"#chat-{chat_id} .unread")).to_have_text("2 unread", timeout=TIMEOUT)
    assert_no_horizontal_scroll(bob)
    bob.locator(f"#chat-{chat_id}").get_by_role("link").click()
    expect(bob.locator("#messages li.message").last).to_contain_text(long_word, timeout=TIMEOUT)
    assert_no_horizontal_scroll(bob)
