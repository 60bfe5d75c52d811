"""Real Chromium: the composer (static/js/composer.js). A refused message shows the
server's own words; a long paste is never cut, its length shows near the limit and
sending is refused before it goes (without JavaScript the server's 422 keeps the text);
Enter sends on a desktop and adds a line on a touch screen; a chat that goes away leaves
a composer that looks disabled and a page that no longer says "Live"."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import (
    assert_clean_consoles,
    composer_box,
    connection_state,
    create_group_chat,
    messages_with,
    open_chat,
    open_page,
    post_form,
    register,
    say,
    serve,
)
from tests.support.html import field_error, html
from tests.support.remote import unique
from tests.support.servers import RestartableServer

pytestmark = pytest.mark.browser

MAX = 4000  # characters in a message (vibechat.forms.BODY_MAX)
TOO_LONG = "A message can be at most 4000 characters."  # the form's data-too-long


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("composer-browser"))


def assert_clean_consoles_but_refusals(consoles, status: int = 422) -> None:
    """Clean but for Chromium's note of each refusal the test asked for."""
    note = f"the server responded with a status of {status} "
    for console in consoles:
        console.errors = [line for line in console.errors if note not in line]
    assert_clean_consoles(consoles)


def send_button(page: Page):
    return page.get_by_role("button", name="Send", exact=True)


def body_error(page: Page):
    return page.locator("#body-error")


def new_chat(new_context, consoles, server, title: str, **context_args) -> tuple[Page, int]:
    page = open_page(new_context, consoles, server.url, "alice", **context_args)
    register(page, unique("alice"), "Alice")
    chat_id = create_group_chat(page, title, "")
    return page, chat_id


def test_a_refused_message_shows_the_servers_own_words(new_context, consoles, server):
    alice, chat_id = new_chat(new_context, consoles, server, "Refusals")
    open_chat(alice, chat_id)
    body = "ring \x07 the bell"  # a control character: refused with 422
    # What the server says about it, asked directly as a form would.
    token = alice.locator('input[name="csrf_token"]').first.input_value()
    answer = alice.context.request.post(
        f"/chats/{chat_id}/messages",
        form={"body": body, "client_token": unique("t"), "csrf_token": token},
        max_redirects=0,
    )
    assert answer.status == 422
    expected = field_error(html(answer.body()), "body")
    assert expected

    composer_box(alice).fill(body)
    composer_box(alice).press("Enter")
    expect(body_error(alice)).to_have_text(expected)
    expect(composer_box(alice)).to_have_value(body)  # the text comes back to be fixed
    expect(composer_box(alice)).to_have_attribute("aria-invalid", "true")
    expect(composer_box(alice)).to_have_attribute("aria-describedby", "body-error")
    expect(alice.locator("#outbox")).to_be_hidden()
    assert_clean_consoles_but_refusals(consoles)


def test_a_long_paste_is_kept_counted_and_refused_before_sending(new_context, consoles, server):
    alice, chat_id = new_chat(new_context, consoles, server, "Long pastes")
    open_chat(alice, chat_id)
    count = alice.locator(".composer [aria-live=polite]")
    composer_box(alice).fill("short")
    expect(count).to_have_text("")  # far from the limit: no count

    pasted = "x" * (MAX + 12)
    composer_box(alice).fill(pasted)
    expect(composer_box(alice)).to_have_value(pasted)  # nothing cut away
    expect(count).to_have_text("4,012 / 4,000")
    expect(count).to_have_class("error")
    send_button(alice).click()
    expect(body_error(alice)).to_have_text(TOO_LONG)
    expect(composer_box(alice)).to_have_value(pasted)
    expect(alice.locator("#outbox")).to_be_hidden()  # nothing went out

    # Shortened to the limit: the error goes, the count stays near it, and it sends.
    composer_box(alice).fill("y" * MAX)
    expect(body_error(alice)).to_have_count(0)
    expect(count).to_have_text("4,000 / 4,000")
    expect(count).to_have_class("hint")
    send_button(alice).click()
    expect(composer_box(alice)).to_have_value("")
    expect(count).to_have_text("")
    expect(messages_with(alice, "y" * 100)).to_have_count(1)
    assert_clean_consoles(consoles)


def test_a_long_edit_is_refused_before_saving_with_the_text_kept(new_context, consoles, server):
    alice, chat_id = new_chat(new_context, consoles, server, "Long edits")
    open_chat(alice, chat_id)
    say(alice, "short at first")
    seq = messages_with(alice, "short at first").get_attribute("data-seq")
    alice.goto(f"/chats/{chat_id}/messages/{seq}/edit")
    box = alice.get_by_label("Message", exact=True)
    pasted = "z" * (MAX + 1)
    box.fill(pasted)
    expect(alice.locator("form[data-max] [aria-live=polite]")).to_have_text("4,001 / 4,000")
    alice.get_by_role("button", name="Save", exact=True).click()
    expect(body_error(alice)).to_have_text(TOO_LONG)
    expect(box).to_have_value(pasted)
    assert re.search(r"/edit$", alice.url)
    assert_clean_consoles(consoles)


@pytest.mark.parametrize("page_name", ["chat", "edit"])
def test_without_javascript_a_long_text_is_kept_whole_and_the_server_says_why(
    new_context, consoles, server, page_name
):
    alice, chat_id = new_chat(new_context, consoles, server, "No script", java_script_enabled=False)
    if page_name == "edit":
        post_form(alice, f"/chats/{chat_id}/messages", {"body": "first", "client_token": "t1"})
        alice.goto(f"/chats/{chat_id}/messages/1/edit")
        button = "Save"
    else:
        alice.goto(f"/chats/{chat_id}")
        button = "Send"
    box = alice.get_by_label("Message", exact=True)
    assert box.get_attribute("maxlength") is None
    pasted = "w" * (MAX + 12)
    box.fill(pasted)
    alice.get_by_role("button", name=button, exact=True).click()
    expect(body_error(alice)).to_have_text(
        f"A message can be at most {MAX} characters (this one has {MAX + 12})."
    )
    expect(alice.get_by_label("Message", exact=True)).to_have_value(pasted)
    assert_clean_consoles_but_refusals(consoles)


def test_enter_sends_on_a_desktop_and_shift_enter_adds_a_line(new_context, consoles, server):
    alice, chat_id = new_chat(new_context, consoles, server, "Desktop keys")
    open_chat(alice, chat_id)
    box = composer_box(alice)
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    box.press("Enter")
    expect(box).to_have_value("")
    expect(messages_with(alice, "second line")).to_have_count(1)
    assert_clean_consoles(consoles)


def test_on_a_touch_screen_enter_adds_a_line_and_send_sends(new_context, consoles, server):
    alice, chat_id = new_chat(
        new_context,
        consoles,
        server,
        "Phone keys",
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    assert alice.evaluate("matchMedia('(pointer: coarse)').matches")
    open_chat(alice, chat_id)
    box = composer_box(alice)
    box.press_sequentially("first line")
    box.press("Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    expect(messages_with(alice, "first line")).to_have_count(0)
    send_button(alice).tap()
    expect(box).to_have_value("")
    expect(messages_with(alice, "second line")).to_have_count(1)
    assert_clean_consoles(consoles)


def test_a_deleted_chat_leaves_a_disabled_looking_composer_and_no_live_status(
    new_context, consoles, server
):
    alice = open_page(new_context, consoles, server.url, "alice")
    bob = open_page(new_context, consoles, server.url, "bob")
    bob_name = unique("bob")
    register(alice, unique("alice"), "Alice")
    register(bob, bob_name, "Bob")
    chat_id = create_group_chat(alice, "Short-lived", bob_name)
    open_chat(bob, chat_id)
    enabled_opacity = send_button(bob).evaluate("button => getComputedStyle(button).opacity")

    post_form(alice, f"/chats/{chat_id}/delete", {})
    expect(bob.locator(f"#chat-status-{chat_id}")).to_have_text(
        "This chat was deleted by its owner."
    )
    expect(send_button(bob)).to_be_disabled()
    expect(composer_box(bob)).to_be_disabled()
    expect(connection_state(bob)).to_be_hidden()
    expect(bob.locator(".newer")).to_be_hidden()
    disabled_opacity = send_button(bob).evaluate("button => getComputedStyle(button).opacity")
    assert float(disabled_opacity) <= 0.5 < float(enabled_opacity)
    assert send_button(bob).evaluate("button => getComputedStyle(button).cursor") == "not-allowed"
    assert_clean_consoles(consoles)
