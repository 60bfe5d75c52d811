"""Times in the reader's time zone (issue 16) in real Chromium: the browser's zone, said
once by the page's script in the `vibechat_timezone` cookie, then used by the server
too; UTC, said so, without JavaScript; the zone chosen in the settings over the
browser's; and a heading above each day's first message, in the reader's zone and
language, kept right by the script as messages arrive live.

The browser's zone and language are Playwright's (`timezone_id`, `locale`). What is
expected is worked out here with zoneinfo, not by the product's own formatting: the
time of day as CLDR's short time ("5:03 PM" in English, "17:03" in Russian), the day
from the message's <time datetime>. Two old messages get fixed instants (2025-03-10
22:30 UTC and 2025-03-11 08:00 UTC) written straight into the server's SQLite file,
before any page has shown them (the server keeps each message's HTML once rendered).

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it outside CI and
failed in CI. One hypercorn process serves the module; every test makes its own people.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.browser import TIMEOUT, connection_state, expect_live, serve
from tests.support.browser_people import People, Person
from tests.support.remote import unique
from tests.support.servers import RestartableServer

pytestmark = pytest.mark.browser

COOKIE = "vibechat_timezone"
DATABASE_FILE = "vibechat.sqlite3"
DESKTOP = {"width": 1280, "height": 800}
UTC_NOTE = "Times are in UTC. Choose your time zone"
DAY_WORDS = {"en": ("Today", "Yesterday"), "ru": ("Сегодня", "Вчера")}
LATE_ON_THE_10TH = datetime(2025, 3, 10, 22, 30, tzinfo=UTC)
MORNING_OF_THE_11TH = datetime(2025, 3, 11, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("timezones-instance"))


@pytest.fixture
def people(browser, server) -> Iterator[People]:
    made = People(browser, server.url, viewport=DESKTOP)
    yield made
    made.close()


def set_created_at(server: RestartableServer, chat: int, seq: int, when: datetime) -> None:
    """Move a message to another instant, in the server's own SQLite file (naive UTC, as
    the app stores it there). Only before any page has shown the message."""
    path = server.instance / DATABASE_FILE
    with contextlib.closing(sqlite3.connect(path, timeout=10)) as db, db:
        stored = db.execute(
            "SELECT created_at FROM messages WHERE chat_id = ? AND seq = ?", (chat, seq)
        ).fetchone()
        assert stored, (chat, seq)
        # The same text form as the stored one ("2026-12-07 17:11:13.123456").
        value = when.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
        if "." in stored[0] and "." not in value:
            value += ".000000"
        db.execute(
            "UPDATE messages SET created_at = ? WHERE chat_id = ? AND seq = ?", (value, chat, seq)
        )


# -- what the log shows, and what it should --------------------------------------------------


def spaced(text: str) -> str:
    """Intl and CLDR put a narrow no-break space (U+202F) before AM/PM."""
    return re.sub(r"[\u202f\u00a0]", " ", text).strip()


def clock(instant: datetime, zone: str, language: str) -> str:
    """CLDR's short time of day: "5:03 PM" (en), "17:03" (ru)."""
    local = instant.astimezone(ZoneInfo(zone))
    if language == "ru":
        return f"{local:%H:%M}"
    return f"{local.hour % 12 or 12}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


# "New messages" (the reader's unread divider) is not what these tests are about.
OUTLINE_JS = """log => [...log.children].filter(item => !item.matches('.unread-divider'))
  .map(item => item.matches('.day')
  ? ['day', item.dataset.day, item.textContent.trim()]
  : [item.matches('.message') ? 'message' : item.tagName + '.' + item.className,
     item.querySelector('time') && item.querySelector('time').getAttribute('datetime'),
     item.querySelector('time') && item.querySelector('time').textContent])"""


def outline(page: Page, log: str = "#messages") -> list[list]:
    """The log's items in order: ['day', data-day, heading] and ['message', datetime,
    the time shown] (spaces as plain spaces)."""
    rows = page.locator(log).evaluate(OUTLINE_JS)
    return [[kind, at, spaced(shown) if shown else shown] for kind, at, shown in rows]


def expected_outline(
    page: Page, zone: str, language: str, named: dict[date, str] | None = None, log="#messages"
) -> list[list]:
    """What the log should show in `zone`: a heading above each day's first message
    (Today, Yesterday, else the name given in `named`) and each time of day."""
    today_word, yesterday_word = DAY_WORDS[language]
    today = datetime.now(ZoneInfo(zone)).date()
    words = {today: today_word, today - timedelta(days=1): yesterday_word, **(named or {})}
    rows, last = [], None
    for kind, at, _shown in outline(page, log):
        if kind != "message":
            continue
        instant = datetime.fromisoformat(at)
        day = instant.astimezone(ZoneInfo(zone)).date()
        if day != last:
            rows.append(["day", day.isoformat(), words[day]])
            last = day
        rows.append(["message", at, clock(instant, zone, language)])
    return rows


def expect_outline(page: Page, zone: str, language: str, named=None, log="#messages") -> None:
    """Wait (the script works after load and after each swap) until the log reads as it
    should in `zone`; fail with both."""
    for _ in range(TIMEOUT // 100):
        if outline(page, log) == expected_outline(page, zone, language, named, log):
            return
        page.wait_for_timeout(100)
    assert outline(page, log) == expected_outline(page, zone, language, named, log)


def expect_connected(page: Page) -> None:
    """expect_live in any language: the socket is open."""
    expect(connection_state(page)).to_have_attribute("data-live", "true")


def zone_cookie(context: BrowserContext) -> str | None:
    values = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
    assert len(values) <= 1, context.cookies()
    return values[0] if values else None


def chat_with_messages(people: People, count: int = 3) -> tuple[Person, Person, int]:
    alice, bob = people("alice", "Alice"), people("bob", "Bob")
    chat = alice.create_chat(unique("Watercooler"), bob)
    for n in range(1, count + 1):
        (bob if n % 2 else alice).say(chat, f"Message {n}")
    return alice, bob, chat


# -- a: the browser's zone ------------------------------------------------------------------


def test_the_browsers_zone_goes_into_the_cookie_and_the_server_then_renders_in_it(people):
    alice, bob, chat = chat_with_messages(people)
    zone = "Asia/Tokyo"
    page = people.page(alice, timezone_id=zone, locale="en-US")
    assert zone_cookie(page.context) is None
    page.goto(f"/chats/{chat}")
    expect_live(page)
    assert zone_cookie(page.context) == zone
    expect(page.locator(".zone-note")).to_have_count(0)
    times = page.locator("#messages > li.message time")
    expect(times).to_have_count(3)
    # Each time of day in Tokyo, under a heading of Tokyo's day (past 15:00 UTC it is
    # already tomorrow there).
    expect_outline(page, zone, "en")
    assert all(re.fullmatch(r"\d{1,2}:\d\d [AP]M", spaced(t)) for t in times.all_text_contents())

    # A message that arrives live (a frame, in UTC) is shown in Tokyo's time too.
    bob.say(chat, "Live from Bob")
    expect(page.locator("#messages > li.message")).to_have_count(4)
    expect_outline(page, zone, "en")

    # The server now renders in the cookie's zone: seen with JavaScript off, so that
    # the text is the server's own.
    plain = people.page(alice, java_script_enabled=False, locale="en-US")
    plain.context.add_cookies([{"name": COOKIE, "value": zone, "url": people.url}])
    plain.goto(f"/chats/{chat}")
    expect(plain.locator("#messages > li.message")).to_have_count(4)
    expect(plain.locator(".zone-note")).to_have_count(0)
    expect(plain.locator("body")).not_to_have_attribute("data-zone", re.compile(r"."))
    expect_outline(plain, zone, "en")
    # The chat list's time: the newest message's time of day, in Tokyo.
    plain.goto("/chats")
    expect(plain.locator(".zone-note")).to_have_count(0)
    last = datetime.fromisoformat(
        plain.locator(f"#chat-{chat} time.chat-when").get_attribute("datetime")
    )
    assert spaced(plain.locator(f"#chat-{chat} time.chat-when").text_content()) == clock(
        last, zone, "en"
    )


def test_without_javascript_or_a_zone_times_are_utc_and_the_page_says_so(people):
    alice, _bob, chat = chat_with_messages(people)
    page = people.page(alice, java_script_enabled=False, timezone_id="Asia/Tokyo", locale="en-US")
    page.goto(f"/chats/{chat}")
    note = page.locator(".zone-note")
    expect(note).to_have_count(1)
    expect(note).to_have_text(UTC_NOTE)
    expect(note.get_by_role("link", name="Choose your time zone")).to_have_attribute(
        "href", "/account"
    )
    expect_outline(page, "UTC", "en")
    assert zone_cookie(page.context) is None
    page.goto("/chats")
    expect(page.locator(".zone-note")).to_have_text(UTC_NOTE)


# -- b: day headings -------------------------------------------------------------------------


def old_chat(people: People, server: RestartableServer) -> tuple[Person, Person, int]:
    """A chat of two old messages of Bob's: 2025-03-10 22:30 and 2025-03-11 08:00 UTC."""
    alice, bob = people("alice", "Alice"), people("bob", "Bob")
    chat = alice.create_chat(unique("Archive"), bob)
    bob.say(chat, "Late on the tenth")
    bob.say(chat, "Morning of the eleventh")
    set_created_at(server, chat, 1, LATE_ON_THE_10TH)
    set_created_at(server, chat, 2, MORNING_OF_THE_11TH)
    return alice, bob, chat


def test_in_utc_two_old_days_get_two_headings(people, server):
    alice, _bob, chat = old_chat(people, server)
    page = people.page(alice, java_script_enabled=False, locale="en-US")
    page.goto(f"/chats/{chat}")
    expect(page.locator(".zone-note")).to_have_text(UTC_NOTE)
    assert outline(page) == [
        ["day", "2025-03-10", "March 10, 2025"],
        ["message", "2025-03-10T22:30:00Z", "10:30 PM"],
        ["day", "2025-03-11", "March 11, 2025"],
        ["message", "2025-03-11T08:00:00Z", "8:00 AM"],
    ]
    # Headings, not messages: the day is a heading of the log's level.
    expect(page.locator("#messages > li.day > h3")).to_have_count(2)


@pytest.mark.parametrize(
    ("locale", "language", "old_day", "times"),
    [
        ("ru-RU", "ru", "11 марта 2025 г.", ["01:30", "11:00"]),
        ("en-US", "en", "March 11, 2025", ["1:30 AM", "11:00 AM"]),
    ],
    ids=["ru", "en"],
)
def test_in_moscow_the_script_heads_one_old_day_and_today_for_a_live_message(
    people, server, locale, language, old_day, times
):
    alice, bob, chat = old_chat(people, server)
    zone = "Europe/Moscow"
    page = people.page(alice, timezone_id=zone, locale=locale)
    # The first page comes from a server that knows no zone yet (UTC, two days): the
    # script shows it in Moscow, where both messages are on the 11th.
    page.goto(f"/chats/{chat}")
    expect_connected(page)
    expect(page.locator("html")).to_have_attribute("lang", language)
    expected = [
        ["day", "2025-03-11", old_day],
        ["message", "2025-03-10T22:30:00Z", times[0]],
        ["message", "2025-03-11T08:00:00Z", times[1]],
    ]
    expect(page.locator("#messages > li.day")).to_have_count(1)
    assert outline(page) == expected

    bob.say(chat, "Sent today, live")
    arrived = page.locator("#messages > li.message", has_text="Sent today, live")
    expect(arrived).to_have_count(1)
    today_word = DAY_WORDS[language][0]
    expect(page.locator("#messages > li.day")).to_have_count(2)
    expect(page.locator("#messages > li.day", has_text=today_word)).to_have_count(1)
    # Exactly above the new message, and nothing else moved.
    heading = arrived.locator("xpath=preceding-sibling::li[1]")
    expect(heading).to_have_class("day")
    expect(heading).to_have_text(today_word)
    expect(heading).to_have_attribute("data-day", datetime.now(ZoneInfo(zone)).date().isoformat())
    rows = outline(page)
    assert rows[:3] == expected, rows
    named = {date(2025, 3, 11): old_day}
    assert rows[3:] == expected_outline(page, zone, language, named)[3:], rows
    assert len(rows) == 5, rows

    # A second live message the same day gets no heading of its own.
    bob.say(chat, "And another")
    expect(page.locator("#messages > li.message")).to_have_count(4)
    page.wait_for_timeout(200)  # group() runs after the swap
    expect(page.locator("#messages > li.day")).to_have_count(2)

    # Reloaded, the server (told Moscow by the cookie) heads the same days in the same words.
    page.reload()
    expect_connected(page)
    assert outline(page) == expected_outline(page, zone, language, named)


# -- c: the account's zone wins over the browser's -------------------------------------------


def test_the_zone_chosen_in_the_settings_wins_over_the_browsers(people):
    alice, bob, chat = chat_with_messages(people)
    chosen = "America/New_York"
    page = people.page(alice, timezone_id="Asia/Tokyo", locale="en-US")
    page.goto("/account")
    expect(page.locator("body")).not_to_have_attribute("data-zone", re.compile(r"."))
    assert zone_cookie(page.context) == "Asia/Tokyo"  # the browser's, said on load
    page.locator("#timezone").select_option(chosen)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account\?saved=1$"))
    expect(page.locator(".notice")).to_have_text("Your time zone was saved.")
    expect(page.locator("#timezone")).to_have_value(chosen)
    expect(page.locator("body")).to_have_attribute("data-zone", chosen)

    # The browser's zone is not said again: with the cookie gone, no page writes it.
    page.context.clear_cookies(name=COOKIE)
    page.goto(f"/chats/{chat}")
    expect_live(page)
    expect(page.locator("body")).to_have_attribute("data-zone", chosen)
    expect(page.locator(".zone-note")).to_have_count(0)
    expect_outline(page, chosen, "en")
    bob.say(chat, "Live, shown in New York's time")
    expect(page.locator("#messages > li.message")).to_have_count(4)
    expect_outline(page, chosen, "en")
    assert zone_cookie(page.context) is None

    # A cookie of another zone does not outweigh the setting either.
    page.context.add_cookies([{"name": COOKIE, "value": "Asia/Tokyo", "url": people.url}])
    page.reload()
    expect_live(page)
    expect(page.locator("body")).to_have_attribute("data-zone", chosen)
    expect_outline(page, chosen, "en")
    assert zone_cookie(page.context) == "Asia/Tokyo"


def test_without_javascript_the_settings_form_saves_a_zone_the_pages_then_use(people):
    alice, _bob, chat = chat_with_messages(people)
    chosen = "Asia/Kathmandu"  # UTC+5:45: not a whole hour
    page = people.page(alice, java_script_enabled=False, timezone_id="Asia/Tokyo", locale="en-US")
    page.goto("/account")
    page.get_by_label("Your time zone", exact=True).select_option(chosen)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Save", exact=True).click()
    posted = navigation.value.request.redirected_from
    assert posted is not None and posted.method == "POST", posted
    assert posted.response().status == 303
    expect(page).to_have_url(re.compile(r"/account\?saved=1$"))
    expect(page.locator(".notice")).to_have_text("Your time zone was saved.")
    expect(page.locator("#timezone")).to_have_value(chosen)

    page.goto(f"/chats/{chat}")
    expect(page.locator("body")).to_have_attribute("data-zone", chosen)
    expect(page.locator(".zone-note")).to_have_count(0)
    expect_outline(page, chosen, "en")
    assert zone_cookie(page.context) is None
