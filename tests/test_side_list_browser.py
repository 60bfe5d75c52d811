"""The chat list beside the open chat (issue 15's layout, on desktop): where there is room
it sits to the left of the conversation with the members to the right, a phone's screen
is the conversation's; the list follows live news as the chat list page does, and a
chat too far down to be in it comes in when news arrives.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import expect_live, open_as, seeded_demo
from tools.demo_server import WATERCOOLER

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
NARROW_DESKTOP = {"width": 1000, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
SIDE = "nav.chat-side"


@pytest.fixture(scope="module")
def demo(chromium_executable) -> Iterator[dict]:
    """The seeded demo (alice owns Watercooler; alice and bob share a direct chat)."""
    with seeded_demo(messages=0) as made:
        yield made


def post(demo: dict, name: str, path: str, data: dict) -> httpx.Response:
    client, token = demo["people"][name]
    response = client.post(path, data={"csrf_token": token, **data})
    assert response.status_code == 303, (path, response.status_code)
    return response


def create_chat(demo: dict, name: str, title: str, members: str = "") -> int:
    response = post(demo, name, "/chats", {"title": title, "members": members})
    return int(response.headers["Location"].rsplit("/", 1)[1])


def direct_chat(demo: dict, name: str, other: str) -> int:
    response = post(demo, name, "/chats/direct", {"username": other})
    return int(response.headers["Location"].rsplit("/", 1)[1])


def box(page: Page, selector: str) -> dict | None:
    return page.locator(selector).bounding_box()


@pytest.mark.parametrize("javascript", [False, True], ids=["no-js", "js"])
def test_on_a_desktop_the_chats_are_left_of_the_conversation_and_the_members_right(
    browser, demo, javascript
):
    page = open_as(browser, demo, "alice", DESKTOP, javascript=javascript)
    page.goto(f"/chats/{WATERCOOLER}")
    side, chat, members = box(page, SIDE), box(page, ".chat-main"), box(page, ".chat-members")
    assert side and chat and members, "a column is not on screen"
    assert side["x"] + side["width"] <= chat["x"] <= chat["x"] + chat["width"] <= members["x"]
    assert side["y"] < 120, "the list does not start at the top"
    opened = page.locator(f"{SIDE} a.chat-link[aria-current=page]")
    expect(opened).to_have_text("Watercooler")
    # The open chat stands out: its entry has a background of its own.
    tint = page.evaluate(
        "getComputedStyle(document.querySelector('.chat-side .chat-item:has([aria-current])'))"
        ".backgroundColor"
    )
    assert tint not in ("rgba(0, 0, 0, 0)", "transparent")
    # Another chat is one click away, and opens beside the same list.
    page.locator(f"{SIDE} a.chat-link", has_text="Bob Dylan").click()
    expect(page.locator("h1")).to_have_text("Bob Dylan")
    expect(page.locator(f"{SIDE} a.chat-link[aria-current=page]")).to_have_text("Bob Dylan")
    page.context.close()


@pytest.mark.parametrize(
    ("viewport", "side_shown", "members_shown"),
    [(PHONE, False, False), (NARROW_DESKTOP, True, False)],
    ids=["360", "1000"],
)
def test_narrower_screens_keep_the_conversation_first(
    browser, demo, viewport, side_shown, members_shown
):
    page = open_as(browser, demo, "alice", viewport)
    page.goto(f"/chats/{WATERCOOLER}")
    expect_live(page)
    assert page.locator(SIDE).is_visible() is side_shown
    assert page.locator(".chat-members").is_visible() is members_shown
    # Whatever is hidden is a tap away: the header links to the chats and the members.
    expect(page.get_by_role("link", name="Chats", exact=True)).to_be_visible()
    expect(page.locator(".chat-links a")).to_be_visible()
    page.context.close()


def test_the_side_list_follows_news_from_every_chat(browser, demo):
    direct = direct_chat(demo, "alice", "bob")
    page = open_as(browser, demo, "alice", DESKTOP)
    page.goto(f"/chats/{direct}")  # read what is there
    page.goto(f"/chats/{WATERCOOLER}")
    expect_live(page)
    names = page.locator(f"{SIDE} .chat-name")

    # News in another chat: counted, on top, and said once for screen readers.
    post(demo, "bob", f"/chats/{direct}/messages", {"body": "Lunch at two instead?"})
    item = page.locator(f"{SIDE} li#chat-{direct}")
    expect(item.locator(".unread")).to_have_text("1 unread")
    expect(item.locator(".chat-preview")).to_have_text("Bob Dylan: Lunch at two instead?")
    expect(names.first).to_have_text("Bob Dylan")
    expect(page.locator(f"{SIDE} [role=status]")).to_have_text("1 new message in Bob Dylan.")

    # News in the open chat: it is being read, so nothing is unread; it goes on top.
    post(demo, "bob", f"/chats/{WATERCOOLER}/messages", {"body": "Seen the new layout?"})
    expect(page.locator("#messages > li.message", has_text="Seen the new layout?")).to_have_count(1)
    opened = page.locator(f"{SIDE} li#chat-{WATERCOOLER}")
    expect(opened.locator(".chat-preview")).to_have_text("Bob Dylan: Seen the new layout?")
    expect(names.first).to_have_text("Watercooler")
    expect(opened.locator(".unread")).to_have_count(0)
    page.context.close()


def test_a_chat_too_far_down_for_the_side_list_comes_in_with_its_news(browser, demo):
    old = create_chat(demo, "alice", "Old corner", "bob")
    fillers = [create_chat(demo, "alice", f"Filler {n}") for n in range(20)]
    page = open_as(browser, demo, "alice", DESKTOP)
    page.goto(f"/chats/{fillers[-1]}")
    expect_live(page)
    items = page.locator(f"{SIDE} li.chat-item")
    expect(items).to_have_count(20)
    expect(page.locator(f"{SIDE} li#chat-{old}")).to_have_count(0)
    expect(page.locator(f"{SIDE} a", has_text="All chats")).to_be_visible()

    post(demo, "bob", f"/chats/{old}/messages", {"body": "Anyone still here?"})
    arrived = page.locator(f"{SIDE} li#chat-{old}")
    expect(arrived.locator(".unread")).to_have_text("1 unread")
    expect(items.first).to_have_id(f"chat-{old}")
    expect(items).to_have_count(20)
    # The list came anew and still marks the open chat.
    expect(page.locator(f"{SIDE} a.chat-link[aria-current=page]")).to_have_text("Filler 19")
    page.context.close()
