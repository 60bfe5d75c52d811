"""The chat pages in real Chromium, as a phone without JavaScript, a keyboard and a
screen reader meet them (issue 15): where a chat opens, where an error shows, how many
Tab presses the composer is away, what the live regions say, and the header that
follows live changes.

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it outside CI and
failed in CI. One hypercorn process serves the module; every test makes its own people.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.browser import expect_live
from tests.support.browser_people import People, Person
from tests.support.remote import unique
from tests.support.servers import ServerFailed, live_server

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
MESSAGES = 50


@pytest.fixture(scope="module")
def server_url(chromium_executable, tmp_path_factory) -> Iterator[str]:
    try:
        with live_server(tmp_path_factory.mktemp("pages-instance")) as url:
            yield url
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def people(browser, server_url) -> Iterator[People]:
    made = People(browser, server_url)
    yield made
    made.close()


def long_chat(people: People) -> tuple[Person, Person, int]:
    """alice and bob, and a chat of MESSAGES messages, every fifth of three lines."""
    alice, bob = people("alice", "Alice"), people("bob", "Bob")
    chat = alice.create_chat(unique("Watercooler"), bob)
    for n in range(1, MESSAGES + 1):
        body = f"Message {n}: shall we meet at the watercooler at {n % 12 + 1}?"
        if n % 5 == 0:
            body += "\nA second line.\nAnd a third."
        (alice if n % 2 else bob).say(chat, body)
    return alice, bob, chat


def in_view(page: Page, locator: Locator) -> bool:
    """Wholly inside the window."""
    box = locator.bounding_box()
    viewport = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= viewport["height"]


def expect_in_view(page: Page, locator: Locator) -> None:
    expect(locator).to_be_visible()
    box, viewport = locator.bounding_box(), page.viewport_size
    assert in_view(page, locator), (box, viewport, page.evaluate("scrollY"))


def composer(page: Page) -> Locator:
    return page.locator("form:has(textarea[name=body])")


# -- defect 6: a phone without JavaScript lands at the composer ------------------------------


def test_without_javascript_a_phone_opens_a_chat_at_the_newest_message_and_the_composer(
    people,
):
    alice, _bob, chat = long_chat(people)
    page = people.page(alice, java_script_enabled=False, **PHONE)
    page.goto("/chats")
    page.locator(f"#chat-{chat} a.chat-link").click()
    expect(page).to_have_url(re.compile(rf"/chats/{chat}#newest$"))
    expect_in_view(page, composer(page))
    newest = page.locator("#messages > li.message").last
    # The conversation scrolls on its own between header and composer (the layout of
    # issue 15): the newest message is wholly inside it, just above the composer.
    pane = page.locator(".conversation").bounding_box()
    box = newest.bounding_box()
    assert box["y"] >= pane["y"] and box["y"] + box["height"] <= pane["y"] + pane["height"] + 0.5
    assert box["y"] < composer(page).bounding_box()["y"]


def test_without_javascript_a_refused_message_comes_back_at_the_composer_with_its_error_focused(
    people,
):
    alice, _bob, chat = long_chat(people)
    page = people.page(alice, java_script_enabled=False, **PHONE)
    page.goto(f"/chats/{chat}#newest")
    page.get_by_label("Message", exact=True).fill("   \n  ")  # nothing but spaces: 422
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send", exact=True).click()
    assert navigation.value.status == 422
    expect(page).to_have_title(re.compile("^Error: "))
    error = page.locator("#body-error")
    expect(error).to_have_text(re.compile(r"\S"))
    expect_in_view(page, error)
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    expect_in_view(page, page.get_by_role("button", name="Send", exact=True))


def test_without_javascript_load_new_messages_shows_them_above_a_composer(people):
    alice, bob, chat = long_chat(people)
    page = people.page(alice, java_script_enabled=False, **PHONE)
    page.goto(f"/chats/{chat}#newest")
    bob.say(chat, "Something new from Bob")
    page.get_by_role("link", name="Load new messages").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Newer messages")
    expect(page.locator("ol.messages > li.message")).to_have_text(
        [re.compile("Something new from Bob")]
    )
    expect_in_view(page, composer(page))
    page.get_by_label("Message", exact=True).fill("Answered from the newer page")
    with page.expect_navigation():
        page.get_by_role("button", name="Send", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/chats/{chat}#msg-{chat}-{MESSAGES + 2}$"))
    expect(page.locator("#messages > li.message").last).to_contain_text(
        "Answered from the newer page"
    )


# -- defect 11: the composer is a few Tab presses away ---------------------------------------


def tab_to(page: Page, name: str, most: int) -> int:
    """Tab until the focused element's accessible text is `name`; the presses it took."""
    for presses in range(1, most + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == name:
            return presses
    raise AssertionError(f"{name!r} not reached in {most} Tab presses")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_keyboard_reaches_the_composer_of_a_50_message_chat_in_three_presses(people, javascript):
    alice, _bob, chat = long_chat(people)
    page = people.page(alice, java_script_enabled=javascript, **DESKTOP)
    page.goto(f"/chats/{chat}")
    presses = tab_to(page, "Skip to the message box", 3)
    page.keyboard.press("Enter")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    assert presses + 1 <= 3, presses  # and Enter
    # The permalinks (author and time) take no Tab stop: from "Skip to content", the
    # next stops are the chat's own links and the edit links under alice's messages.
    page.goto(f"/chats/{chat}")
    tab_to(page, "Skip to content", 1)
    page.keyboard.press("Enter")
    stops = []
    for _ in range(40):
        page.keyboard.press("Tab")
        stops.append(
            page.evaluate("document.activeElement.className || document.activeElement.tagName")
        )
    assert "message-link" not in stops, stops
    links = page.locator("a.message-link")
    assert links.count() == MESSAGES
    assert set(links.evaluate_all("links => links.map(link => link.tabIndex)")) == {-1}
    # Named by whose message and when, not by a date alone.
    expect(links.last).to_have_accessible_name(re.compile(r"^Bob .*\d:\d\d"))


# -- defect 10: right-to-left text ---------------------------------------------------------


def test_right_to_left_names_and_messages_are_laid_out_right_to_left(people):
    alice = people("alice", "Alice")
    dana = people("dana", "דנה כהן")
    chat = alice.create_chat("שיחת צוות", dana)
    dana.say(chat, "שלום לכולם, מה שלומכם?")
    alice.say(chat, "Hello in English")
    page = people.page(alice, java_script_enabled=False, **DESKTOP)
    page.goto(f"/chats/{chat}")

    def direction(locator: Locator) -> str:
        return locator.evaluate("element => getComputedStyle(element).direction")

    hebrew, english = (
        page.locator("#messages > li.message").nth(0),
        page.locator("#messages > li.message").nth(1),
    )
    assert direction(hebrew.locator(".message-body")) == "rtl"
    assert direction(hebrew.locator(".author")) == "rtl"
    assert direction(english.locator(".message-body")) == "ltr"
    assert direction(page.get_by_role("heading", level=1)) == "rtl"
    assert direction(page.locator(".member-name").filter(has_text="דנה")) == "rtl"
    page.goto("/chats")
    item = page.locator(f"#chat-{chat}")
    assert direction(item.locator(".chat-name")) == "rtl"
    assert direction(item.locator(".chat-preview bdi").last) == "ltr"  # "Hello in English"


# -- defects 9 and 12: times that agree, and what a screen reader hears ------------------------


def test_every_rendering_of_a_time_agrees_and_utc_says_so(people):
    alice, _bob, chat = long_chat(people)
    plain = people.page(alice, java_script_enabled=False, **DESKTOP)
    plain.goto(f"/chats/{chat}")
    # Without JavaScript (no zone known) the times are UTC, and the page says so once,
    # above the conversation, not in each time: each is that instant's UTC time of day.
    expect(plain.locator(".zone-note")).to_have_count(1)
    expect(plain.locator(".zone-note")).to_contain_text("Times are in UTC.")
    times = plain.locator("#messages time")
    expect(times).to_have_count(MESSAGES)
    shown = [spaced(time) for time in times.all_text_contents()]
    utc = [clock(instant, UTC) for instant in datetimes(times)]
    assert shown == utc, (shown, utc)
    expect(plain.locator("#messages")).not_to_contain_text("UTC")
    # The time is said once per message (the edit link's screen-reader text has none).
    assert not re.search(r"\d:\d\d", plain.locator("#messages .edit").first.text_content())

    # With JavaScript, in a browser far from UTC: every time local, hidden text included.
    zone = "Asia/Kathmandu"  # UTC+5:45: no time of day agrees with UTC's
    live = people.page(alice, timezone_id=zone, **DESKTOP)
    live.goto(f"/chats/{chat}")
    expect_live(live)
    expect(live.locator(".zone-note")).to_have_count(0)
    log = live.locator("#messages")
    expect(log).not_to_contain_text("UTC")
    times = log.locator("time")
    local = [clock(instant, ZoneInfo(zone)) for instant in datetimes(times)]
    assert [spaced(time) for time in times.all_text_contents()] == local
    last = log.locator("> li.message").last
    shown = last.locator("time").text_content()
    assert spaced(shown) == local[-1]
    expect(last.locator(".message-link")).to_have_accessible_name(f"Bob {shown}")


def datetimes(times: Locator) -> list[datetime]:
    return [
        datetime.fromisoformat(at) for at in times.evaluate_all("ts => ts.map(t => t.dateTime)")
    ]


def spaced(text: str) -> str:
    """Intl and CLDR put a narrow no-break space (U+202F) before AM/PM."""
    return re.sub(r"[\u202f\u00a0]", " ", text).strip()


def clock(instant: datetime, zone: tzinfo) -> str:
    """English's short time of day ("5:03 PM") in a zone."""
    local = instant.astimezone(zone)
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def test_a_screen_reader_hears_one_live_region_and_no_status_on_arrival(people):
    alice, bob, chat = long_chat(people)
    page = people.page(alice, **DESKTOP)
    page.goto(f"/chats/{chat}")
    expect_live(page)
    # One region for the messages, none inside another (the composer's character count,
    # empty until a message nears its limit, is a region of its own, elsewhere).
    live = "[aria-live]:not([aria-live=off])"
    nested = page.evaluate(
        f"[...document.querySelectorAll('{live}')].filter(e => e.parentElement.closest('{live}'))"
        ".length"
    )
    assert nested == 0
    expect(page.locator(f"{live}:has(#messages)")).to_have_count(1)
    expect(page.locator("[role=log][aria-live=polite] #messages")).to_have_count(1)
    # "Connecting…", "Live…": shown, not read out on arrival.
    expect(page.locator("#connection-state")).to_have_attribute("aria-live", "off")
    # Your own messages say so in words: "(you)" after your name.
    mine = page.locator("#messages > li.message").nth(-2)
    expect(mine.locator(".message-link")).to_have_accessible_name(re.compile(r"^Alice \(you\) "))
    theirs = page.locator("#messages > li.message").last
    expect(theirs.locator(".message-link")).to_have_accessible_name(re.compile(r"^Bob [^(]"))
    bob.say(chat, "A live one")
    expect(page.locator("#messages > li.message").last).to_contain_text("A live one")
