"""Issue 16, time: every time in the reader's zone and written for the language, the day
headings, the settings' zone (POST /account/timezone) and the browser's (its cookie),
UTC said as such while neither is known, and frames that stay zone-free."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from tests.support.html import html
from tests.support.people import send
from vibechat import i18n, timezones
from vibechat.live import frames
from vibechat.message_cache import RenderedMessages
from vibechat.models import Message, User

RU = {"Accept-Language": "ru"}
MOSCOW = "Europe/Moscow"
# Late on 10 March 2025 in UTC, already the 11th in Moscow (UTC+3 all year); and a
# morning of the 11th.
LATE = datetime(2025, 3, 10, 22, 30, tzinfo=UTC)
MORNING = datetime(2025, 3, 11, 8, 0, tzinfo=UTC)


def text(node) -> str:
    """The node's text, its spaces collapsed; CLDR's narrow no-break space (U+202F, in
    "5:03 PM" and before a Russian year's abbreviation) kept."""
    return re.sub(r"[ \t\n]+", " ", node.text()).strip()


async def page(person, path: str, headers: dict | None = None, status: int = 200):
    response = await person.get(path, headers=headers or {})
    assert response.status_code == status, (path, response.status_code)
    return html(await response.get_data())


async def sent_at(db, alice, chat_id: int, *times: datetime) -> None:
    """A message by alice at each time, in order. A message's time never changes, so the
    versions rendered as it was sent are dropped (vibechat.message_cache)."""
    for number, when in enumerate(times, 1):
        assert (await send(alice, chat_id, f"message {number}")).status_code == 303
        async with db.write() as session:
            await session.execute(
                update(Message)
                .where(Message.chat_id == chat_id, Message.seq == number)
                .values(created_at=when)
            )
            await session.commit()
    alice.client.app.extensions["rendered_messages"] = RenderedMessages()


def in_zone(person, zone: str) -> None:
    """The cookie the page's script writes with the browser's zone."""
    person.client.set_cookie("localhost", timezones.COOKIE, zone, path="/")


async def zone_of(db, username: str) -> str | None:
    async with db.read() as session:
        return await session.scalar(select(User.timezone).where(User.username == username))


def log(chat):
    """The chat page's messages and day headings, as (kind, text) in order."""
    return [
        ("day", text(item))
        if "day" in item.attributes["class"].split()
        else ("time", text(item.css_first("time")))
        for item in chat.css("ol#messages > li.day, ol#messages > li.message")
    ]


# -- formatting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "zone", "expected"),
    [
        ("en", None, "10:30\u202fPM"),
        ("ru", None, "22:30"),
        ("ru", MOSCOW, "01:30"),
        ("en", "America/New_York", "6:30\u202fPM"),
    ],
)
def test_a_messages_time_is_the_time_of_day_in_the_zone_and_language(language, zone, expected):
    with i18n.speaking(language), timezones.zone_free():
        timezones._zone.set(zone)
        assert timezones.message_time(LATE) == expected


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", ["Today", "Yesterday", "December 31", "March 11, 2025"]),
        ("ru", ["Сегодня", "Вчера", "31 декабря", "11 марта 2025\u202fг."]),
    ],
)
def test_day_headings_say_today_yesterday_else_the_date(language, expected):
    today = datetime.now(UTC).date()
    other = today.replace(month=12, day=31)  # this year's, and neither today nor yesterday
    if other == today:
        other, expected = today.replace(month=1, day=1), [*expected]
        expected[2] = "January 1" if language == "en" else "1 января"
    with i18n.speaking(language), timezones.zone_free():
        days = [today, today - timedelta(days=1), other, MORNING.date()]
        assert [timezones.day_heading(day) for day in days] == expected


def test_the_settings_list_names_places_in_the_language_with_todays_offset():
    with i18n.speaking("ru"):
        labels = dict(timezones.choices())
        assert labels[MOSCOW] == "Москва (UTC+3)"
        assert labels["Asia/Kolkata"] == "Калькутта (UTC+5:30)"
        assert labels["UTC"] == "UTC"
        names = [name for name, _label in timezones.choices()]
    with i18n.speaking("en"):
        assert dict(timezones.choices())[MOSCOW] == "Moscow (UTC+3)"
    assert len(names) == len(set(names)) > 400
    assert all(timezones.known(name) for name in names)
    # An alias of a listed place is not listed twice (America/Atka is Adak).
    assert "America/Adak" in names and "America/Atka" not in names


def test_only_iana_names_are_known():
    assert timezones.known(MOSCOW) == MOSCOW
    assert timezones.known("US/Eastern") == "US/Eastern"  # an alias: accepted, not listed
    for bad in ("Mars/Olympus", "europe/moscow", "", None, "../../etc/passwd", 3):
        assert timezones.known(bad) is None


# -- the chat page -----------------------------------------------------------------------


async def test_without_a_zone_the_chat_shows_utc_and_says_so(alice, db, watercooler):
    await sent_at(db, alice, watercooler, LATE, MORNING)
    chat = await page(alice, f"/chats/{watercooler}")
    assert log(chat) == [
        ("day", "March 10, 2025"),
        ("time", "10:30\u202fPM"),
        ("day", "March 11, 2025"),
        ("time", "8:00\u202fAM"),
    ]
    note = chat.css_first(".zone-note")
    assert text(note) == "Times are in UTC. Choose your time zone"
    assert note.css_first("a").attributes["href"] == "/account"
    # The instant stays in UTC for machines.
    assert chat.css_first("ol#messages time").attributes["datetime"] == "2025-03-10T22:30:00Z"
    assert "data-zone" not in chat.css_first("body").attributes


async def test_the_browsers_zone_from_its_cookie_moves_times_and_days(alice, db, watercooler):
    await sent_at(db, alice, watercooler, LATE, MORNING)
    in_zone(alice, MOSCOW)
    chat = await page(alice, f"/chats/{watercooler}", RU)
    # Both on the 11th in Moscow: one heading.
    assert log(chat) == [("day", "11 марта 2025\u202fг."), ("time", "01:30"), ("time", "11:00")]
    assert chat.css_first(".zone-note") is None
    # The browser's zone is the script's own business: the page does not pin it.
    assert "data-zone" not in chat.css_first("body").attributes


async def test_a_cookie_naming_no_zone_is_ignored(alice, db, watercooler):
    await sent_at(db, alice, watercooler, LATE)
    in_zone(alice, "Mars/Olympus")
    chat = await page(alice, f"/chats/{watercooler}")
    assert log(chat) == [("day", "March 10, 2025"), ("time", "10:30\u202fPM")]
    assert chat.css_first(".zone-note") is not None


async def test_the_chosen_zone_wins_over_the_browsers(alice, db, watercooler):
    await sent_at(db, alice, watercooler, LATE)
    in_zone(alice, "Asia/Tokyo")
    assert (await alice.post("/account/timezone", {"timezone": MOSCOW})).status_code == 303
    chat = await page(alice, f"/chats/{watercooler}")
    assert log(chat) == [("day", "March 11, 2025"), ("time", "1:30\u202fAM")]
    # The script shows times in it too, not in the browser's.
    assert chat.css_first("body").attributes["data-zone"] == MOSCOW


async def test_today_and_yesterday_head_recent_messages_in_both_languages(alice, db, watercooler):
    now = datetime.now(UTC).replace(microsecond=0)
    await sent_at(db, alice, watercooler, now - timedelta(days=1), now)
    english = await page(alice, f"/chats/{watercooler}")
    russian = await page(alice, f"/chats/{watercooler}", RU)
    assert [day for kind, day in log(english) if kind == "day"] == ["Yesterday", "Today"]
    assert [day for kind, day in log(russian) if kind == "day"] == ["Вчера", "Сегодня"]
    # The script's words for the days that arrive live.
    messages = russian.css_first("ol#messages").attributes
    assert (messages["data-today"], messages["data-yesterday"]) == ("Сегодня", "Вчера")


async def test_readers_in_two_zones_see_one_message_at_two_times(alice, bob, db, watercooler):
    """A rendered message is kept per zone: the first reader's is not the second's."""
    await sent_at(db, alice, watercooler, LATE)
    in_zone(alice, MOSCOW)
    in_zone(bob, "America/New_York")
    assert log(await page(alice, f"/chats/{watercooler}"))[1] == ("time", "1:30\u202fAM")
    assert log(await page(bob, f"/chats/{watercooler}"))[1] == ("time", "6:30\u202fPM")


async def test_the_chat_list_shows_the_day_in_the_readers_zone_and_language(alice, db, watercooler):
    await sent_at(db, alice, watercooler, LATE)
    in_zone(alice, MOSCOW)
    listing = await page(alice, "/chats", RU)
    assert text(listing.css_first(f"#chat-{watercooler} time.chat-when")) == "11 мар. 2025\u202fг."
    now = datetime.now(UTC).replace(microsecond=0)
    await sent_at(db, alice, watercooler, LATE, now)  # the second message: today
    listing = await page(alice, "/chats", RU)
    shown = now.astimezone(timezones.zoneinfo.ZoneInfo(MOSCOW)).strftime("%H:%M")
    assert text(listing.css_first(f"#chat-{watercooler} time.chat-when")) == shown


async def test_the_earlier_messages_page_heads_its_days_a_level_below_its_title(
    alice, db, watercooler
):
    await sent_at(db, alice, watercooler, LATE, MORNING)
    older = await page(alice, f"/chats/{watercooler}/messages?before=2")
    assert [text(h) for h in older.css("ol.messages > li.day > h2")] == ["March 10, 2025"]
    assert older.css_first(".zone-note") is not None


# -- what only the script reads is zone-free ---------------------------------------------


async def test_a_catch_up_fragment_is_in_utc_with_no_headings(alice, db, watercooler):
    await sent_at(db, alice, watercooler, LATE)
    in_zone(alice, MOSCOW)
    response = await alice.get(
        f"/chats/{watercooler}/messages?after=0", headers={"HX-Request": "true"}
    )
    fragment = html(await response.get_data())
    assert fragment.css("li.day") == []
    assert text(fragment.css_first(f"#msg-{watercooler}-1 time")) == "10:30\u202fPM"


async def test_a_frame_is_in_utc_whoever_sends_it(app, alice, db, watercooler):
    await sent_at(db, alice, watercooler, LATE)
    async with db.read() as session:
        message = await session.scalar(select(Message).where(Message.chat_id == watercooler))
        await session.refresh(message, ["author"])
    async with app.test_request_context("/", headers=RU):
        timezones._zone.set(MOSCOW)  # the sender's zone must not leak into the frame
        english, russian = await frames.message_frame(message, None)
    assert text(html(english).css_first("time")) == "10:30\u202fPM"
    assert text(html(russian).css_first("time")) == "22:30"


# -- the setting -------------------------------------------------------------------------


async def test_the_settings_page_offers_the_zones_and_says_which_applies(alice):
    settings = await page(alice, "/account", RU)
    assert text(settings.css_first("h1")) == "Настройки"
    select_ = settings.css_first("select#timezone[name=timezone]")
    assert text(settings.css_first("label[for=timezone]")) == "Ваш часовой пояс"
    options = select_.css("option")
    assert (options[0].attributes["value"], text(options[0])) == (
        "",
        "Автоматически (как в браузере)",
    )
    assert "selected" in options[0].attributes
    assert "Москва (UTC+3)" in [text(option) for option in options]
    assert "по UTC" in text(settings.css_first("#timezone-hint"))
    assert settings.css_first("a[href='/account/password']") is not None


async def test_choosing_a_zone_saves_it_and_says_so(alice, db):
    response = await alice.post("/account/timezone", {"timezone": MOSCOW})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account?saved=1"
    assert await zone_of(db, "alice") == MOSCOW
    settings = await page(alice, "/account?saved=1", RU)
    assert text(settings.css_first(".notice")) == "Часовой пояс сохранён."
    assert "selected" in settings.css_first(f"option[value='{MOSCOW}']").attributes
    assert "Москва (UTC+3)" in text(settings.css_first("#timezone-hint"))
    # Back to the browser's.
    assert (await alice.post("/account/timezone", {"timezone": ""})).status_code == 303
    assert await zone_of(db, "alice") is None


async def test_an_alias_saved_earlier_stays_selected(alice, db):
    assert (await alice.post("/account/timezone", {"timezone": "America/Atka"})).status_code == 303
    settings = await page(alice, "/account")
    chosen = settings.css_first("option[selected]")
    assert chosen.attributes["value"] == "America/Atka"


@pytest.mark.parametrize("bad", ["Mars/Olympus", "Europe/Moscow\n", "x" * 500])
async def test_an_unknown_zone_is_refused_with_the_form_and_changes_nothing(alice, db, bad):
    assert (await alice.post("/account/timezone", {"timezone": MOSCOW})).status_code == 303
    response = await alice.post("/account/timezone", {"timezone": bad}, headers=RU)
    assert response.status_code == 422
    settings = html(await response.get_data())
    assert text(settings.css_first("#timezone-error")) == "Выберите часовой пояс из списка."
    select_ = settings.css_first("select#timezone")
    assert select_.attributes["aria-invalid"] == "true"
    assert "timezone-error" in select_.attributes["aria-describedby"]
    assert text(settings.css_first("title")).startswith("Ошибка:")
    # The zone saved before stays, and stays selected.
    assert await zone_of(db, "alice") == MOSCOW
    assert settings.css_first("option[selected]").attributes["value"] == MOSCOW


async def test_a_form_without_the_field_is_a_bad_request_and_changes_nothing(alice, db):
    assert (await alice.post("/account/timezone", {"timezone": MOSCOW})).status_code == 303
    assert (await alice.post("/account/timezone", {})).status_code == 400
    assert await zone_of(db, "alice") == MOSCOW


async def test_the_settings_need_a_session(people):
    stranger = people.anonymous()
    response = await stranger.get("/account")
    assert response.status_code == 303
