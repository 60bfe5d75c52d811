"""The chat page reads like a chat (issue 15's layout): a pinned header, a conversation
that scrolls on its own and opens at the newest message, and a docked composer, with
JavaScript off and on, on a phone and on a desktop; the reading place holds while
messages arrive and older ones load; a run of messages names its author once.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.browser import expect_live, in_view, open_as, seeded_demo
from tools.demo_server import WATERCOOLER

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
CHAT = f"/chats/{WATERCOOLER}"
CONTINUED = re.compile(r"\bmessage-continued\b")


@pytest.fixture(scope="module")
def demo(chromium_executable) -> Iterator[dict]:
    """A served demo whose Watercooler holds 50 messages, and a signed-in alice and bob."""
    with seeded_demo(messages=50) as made:
        yield made


def post(demo: dict, name: str, body: str) -> None:
    client, token = demo["people"][name]
    response = client.post(f"{CHAT}/messages", data={"csrf_token": token, "body": body})
    assert response.status_code == 303, response.status_code


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_a_chat_opens_at_the_newest_message_with_the_composer_and_header_in_view(
    browser, demo, viewport, javascript
):
    page = open_as(browser, demo, "alice", viewport, javascript=javascript)
    # Read up to the newest first: with unread messages the script opens the chat at
    # "New messages" instead (tests/test_replies_reactions_browser.py).
    page.goto(CHAT)
    page.goto(CHAT)
    expect(page.locator("#unread-divider")).to_have_count(0)
    if javascript:
        expect_live(page)
    newest = "#messages > li.message:last-child"
    assert in_view(page, newest), "the newest message is out of sight"
    assert in_view(page, "form.composer textarea"), "the composer is out of sight"
    assert in_view(page, "form.composer button[type=submit]")
    assert in_view(page, "h1"), "the chat's name scrolled away"
    # The page itself does not scroll: the conversation does.
    assert page.evaluate("document.scrollingElement.scrollTop") == 0
    overflow = page.evaluate("getComputedStyle(document.querySelector('.conversation')).overflowY")
    assert overflow == "auto"
    page.context.close()


def test_new_messages_keep_the_reader_at_the_newest_and_leave_a_reader_above_in_place(
    browser, demo
):
    page = open_as(browser, demo, "alice", DESKTOP)
    # Read up to the newest first: with unread messages (other tests post to this chat)
    # the script opens it at "New messages", not at the newest.
    page.goto(CHAT)
    page.goto(CHAT)
    expect(page.locator("#unread-divider")).to_have_count(0)
    expect_live(page)
    post(demo, "bob", "Arrives while alice reads the newest")
    arrived = page.locator(
        "#messages > li.message", has_text="Arrives while alice reads the newest"
    )
    expect(arrived).to_have_count(1)
    page.wait_for_function("document.querySelector('.conversation').scrollTop === 0")
    assert in_view(page, "#messages > li.message:last-child")

    # Scrolled up to read something older: what she reads stays where it is.
    page.evaluate("document.querySelector('.conversation').scrollTop = -1200")
    reading = page.locator("#messages > li.message").nth(20)
    before = reading.bounding_box()["y"]
    post(demo, "bob", "Arrives while alice reads history")
    expect(
        page.locator("#messages > li.message", has_text="Arrives while alice reads history")
    ).to_have_count(1)
    after = reading.bounding_box()["y"]
    assert abs(after - before) < 2, f"the message being read moved by {after - before} px"
    page.context.close()


def test_loading_earlier_messages_keeps_the_reading_place(browser, demo):
    page = open_as(browser, demo, "alice", DESKTOP)
    page.goto(CHAT)
    expect_live(page)
    link = page.locator(".older a")
    link.scroll_into_view_if_needed()
    first = page.locator("#messages > li.message").first
    first_id = first.get_attribute("id")
    before = page.locator(f"#{first_id}").bounding_box()["y"]
    count = page.locator("#messages > li.message").count()
    link.click()
    expect(page.locator("#messages > li.message")).not_to_have_count(count)
    after = page.locator(f"#{first_id}").bounding_box()["y"]
    assert abs(after - before) < 2, f"the reading place moved by {after - before} px"
    page.context.close()


def test_a_run_of_messages_names_its_author_once_on_screen_and_always_in_words(browser, demo):
    post(demo, "alice", "Before bob's run")
    post(demo, "bob", "First of a run")
    post(demo, "bob", "Second of a run")
    page = open_as(browser, demo, "alice", DESKTOP)
    page.goto(CHAT)
    expect_live(page)
    first = page.locator("#messages > li.message", has_text="First of a run")
    second = page.locator("#messages > li.message", has_text="Second of a run")
    expect(second).to_have_class(CONTINUED)
    expect(first).not_to_have_class(CONTINUED)
    # Hidden from sight, not from a screen reader: the name is still in the page.
    assert second.locator(".meta").bounding_box()["width"] <= 1
    expect(second.locator(".author")).to_have_text("Bob Dylan")
    expect(first.locator(".author")).to_be_visible()
    page.context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "1280"])
def test_jump_to_newest_appears_far_from_the_bottom_and_takes_the_reader_down(
    browser, demo, viewport
):
    page = open_as(browser, demo, "alice", viewport)
    page.goto(CHAT)
    expect_live(page)
    jump = page.get_by_role("link", name="Jump to newest")
    expect(jump).to_be_hidden()  # at the newest message, nothing to jump to
    page.locator("#messages > li.message").first.scroll_into_view_if_needed()
    expect(jump).to_be_visible()
    assert in_view(page, ".jump-newest a"), "the link is out of sight"
    assert not in_view(page, "#messages > li.message:last-child")
    jump.click()
    page.wait_for_function(
        "() => document.querySelector('#messages > li.message:last-child')"
        ".getBoundingClientRect().bottom <= innerHeight"
    )
    assert in_view(page, "#messages > li.message:last-child")
    expect(jump).to_be_hidden()
    assert page.evaluate("document.activeElement.id") == "body"  # ready to answer
    page.context.close()


def test_jump_to_newest_is_never_offered_without_javascript(browser, demo):
    page = open_as(browser, demo, "alice", DESKTOP, javascript=False)
    page.goto(CHAT)
    page.locator("#messages > li.message").first.scroll_into_view_if_needed()
    expect(page.locator(".jump-newest")).to_be_hidden()
    page.context.close()
