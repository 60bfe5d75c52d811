"""Real Chromium against a real server: the Russian issue's "Done when", walked as a
newcomer whose browser speaks Russian and lives in Vladivostok (UTC+10, so a local time
cannot pass for UTC).

With Accept-Language: ru the newcomer registers (a refused form first), starts a group
chat with bob, chats, edits, deletes, sees bob typing and online, watches the unread
counts go 1, 2, 5 on the chat list, and meets the 404 page: every page in Russian, with
Russian plurals, and every message's time the time of day in Vladivostok under «Сегодня».
Bob's browser speaks English from New York: each reader sees the same frames in their
own language and zone. Then, in a fresh context with JavaScript off, the footer's switch
turns the newcomer's pages English, for good (the choice is saved on the account), and
with no script to say the browser's zone the chat's times are UTC and say so.

Besides the words each step looks for, every Russian page is searched for Latin words
left untranslated (visible text, the title, aria-label, title, placeholder and alt);
these are gathered and reported together at the end, so one leftover does not hide
the steps after it. Every page's console is watched.

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it outside CI and
failed in CI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.browser import (
    assert_clean_consoles,
    expect_live,
    messages_with,
    open_chat,
    open_page,
    register,
    serve,
)
from tests.support.people import PASSWORD
from tests.support.remote import unique
from tests.support.servers import RestartableServer

pytestmark = pytest.mark.browser  # the speed of a module that drives Chromium (tests/README.md)

VLADIVOSTOK = "Asia/Vladivostok"  # UTC+10 all year
NEW_YORK = "America/New_York"
WIDE = {"width": 1280, "height": 800}  # the member list (presence) beside the chat
RUSSIAN = {
    "locale": "ru-RU",
    "extra_http_headers": {"Accept-Language": "ru"},
    "timezone_id": VLADIVOSTOK,
    "viewport": WIDE,
}
ENGLISH = {
    "locale": "en-US",
    "extra_http_headers": {"Accept-Language": "en"},
    "timezone_id": NEW_YORK,
    "viewport": WIDE,
}
LIVE_RU = re.compile(r"^На связи: ")
# Latin words that belong on a Russian page: the product's name, the English button of
# the language switch, and UTC. People's names and usernames are added per page.
LATIN_ALLOWED = {"vibechat", "English", "UTC"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")

# What a page says, besides its visible text, that a screen reader reads out.
SAID_JS = """() => [document.title, document.body.innerText,
  ...Array.from(document.querySelectorAll('[aria-label], [title], [placeholder], [alt]'),
    element => ['aria-label', 'title', 'placeholder', 'alt']
      .map(name => element.getAttribute(name) || '').join(' '))]"""


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("russian-walk-instance"))


# -- helpers -------------------------------------------------------------------------------


class Leftovers:
    """Latin words found on Russian pages, gathered for one report at the end."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = set(names)  # what people typed: names, usernames, messages
        self.found: list[str] = []

    def typed(self, text: str) -> str:
        self.names.add(text)
        return text

    def check(self, page: Page, step: str) -> None:
        expect(page.locator("html")).to_have_attribute("lang", "ru")
        said = " ".join(page.evaluate(SAID_JS))
        for name in sorted(self.names, key=len, reverse=True):  # "bob_1a2b" before "Bob"
            said = said.replace(name, " ")
        words = sorted(set(LATIN_WORD.findall(said)) - LATIN_ALLOWED)
        if words:
            self.found.append(f"{step} ({page.url}): English left on a Russian page: {words}")


def clock(iso: str, zone: str) -> str:
    """A <time datetime> as a 24-hour time of day in a zone, as Russian writes it."""
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)).strftime("%H:%M")


def english_clock(iso: str, zone: str) -> re.Pattern:
    """The same as English writes it: 5:03 PM (the space may be a narrow no-break one)."""
    local = datetime.fromisoformat(iso).astimezone(ZoneInfo(zone))
    hour = local.hour % 12 or 12
    return re.compile(rf"^{hour}:{local.minute:02}\s{local.strftime('%p')}$")


def expect_times(page: Page, zone: str, *, english: bool = False) -> int:
    """Every message's time is its time of day in `zone`; return how many were checked."""
    times = page.locator("#messages li.message time")
    count = times.count()
    assert count, f"{page.url}: no message times to check"
    for index in range(count):
        time = times.nth(index)
        iso = time.get_attribute("datetime")
        expected = english_clock(iso, zone) if english else clock(iso, zone)
        expect(time, f"the time of {iso} in {zone}").to_have_text(expected)
    return count


def expect_one_day(page: Page, heading: str) -> None:
    """Today's messages under the heading, which opens the list: one heading, or two when
    the walk straddled midnight where the reader is (the newest then under today's)."""
    days = page.locator("#messages li.day")
    expect(days.last).to_have_text(heading)
    assert days.count() in (1, 2), days.all_text_contents()
    expect(page.locator("#messages > li").first).to_have_class(re.compile(r"\bday\b"))


def expect_live_ru(page: Page) -> None:
    state = page.locator("#connection-state")
    expect(state).to_have_text(LIVE_RU)
    expect(state).to_have_attribute("data-live", "true")


def composer_ru(page: Page) -> Locator:
    return page.get_by_label("Сообщение", exact=True)


def say_ru(page: Page, text: str) -> None:
    composer_ru(page).fill(text)
    composer_ru(page).press("Enter")
    expect(composer_ru(page)).to_have_value("")
    expect(messages_with(page, text)).to_have_count(1)


def say_en(page: Page, text: str) -> None:
    box = page.get_by_label("Message", exact=True)
    box.fill(text)
    box.press("Enter")
    expect(box).to_have_value("")
    expect(messages_with(page, text)).to_have_count(1)


def presence_of(page: Page, display_name: str) -> Locator:
    member = page.locator("#member-list li.member").filter(
        has=page.locator(".member-name", has_text=re.compile(rf"^{re.escape(display_name)}$"))
    )
    return member.locator(".presence")


def title_is(page: Page, title: str) -> None:
    expect(page).to_have_title(f"{title} · vibechat")


# -- the walk ------------------------------------------------------------------------------


def test_a_russian_newcomer_walks_every_step_in_russian_and_local_time_then_switches_to_english(
    new_context, consoles, server
):
    masha_name, bob_name = unique("masha"), unique("bob")
    masha_display, bob_display = "Маша Петрова", "Bob"
    leftovers = Leftovers({masha_name, bob_name, bob_display})

    # 1. A newcomer opens /register: no account, no cookie, a Russian browser.
    masha = open_page(new_context, consoles, server.url, "masha", **RUSSIAN)
    response = masha.goto("/register")
    assert response is not None and response.status == 200
    expect(masha.locator("html")).to_have_attribute("lang", "ru")
    title_is(masha, "Регистрация")
    expect(masha.get_by_role("heading", level=1)).to_have_text("Регистрация")
    for label in ("Имя пользователя", "Имя (необязательно)", "Пароль"):
        expect(masha.get_by_label(label, exact=True)).to_be_visible()
    expect(masha.get_by_role("button", name="Зарегистрироваться", exact=True)).to_be_visible()
    expect(masha.get_by_role("link", name="Вход", exact=True)).to_be_visible()
    leftovers.check(masha, "1. the sign-up page")

    # A password too short: the browser would stop it (minlength), so the form goes
    # without its checks, as an old browser would send it; the server says why, in Russian.
    masha.get_by_label("Имя пользователя", exact=True).fill(masha_name)
    masha.get_by_label("Имя (необязательно)", exact=True).fill(masha_display)
    masha.get_by_label("Пароль", exact=True).fill("корот")
    masha.locator("form.stack").evaluate("form => { form.noValidate = true }")
    with masha.expect_navigation() as navigation:
        masha.get_by_role("button", name="Зарегистрироваться", exact=True).click()
    refused = navigation.value
    assert refused is not None and refused.status == 422, refused and refused.status
    title_is(masha, "Ошибка: регистрация")
    expect(masha.locator("#password-error")).to_have_text("Нужно хотя бы 8 символов.")
    expect(masha.get_by_label("Пароль", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(masha.get_by_label("Имя пользователя", exact=True)).to_have_value(masha_name)
    leftovers.check(masha, "1. the refused sign-up")

    masha.get_by_label("Пароль", exact=True).fill(PASSWORD)
    masha.get_by_role("button", name="Зарегистрироваться", exact=True).click()
    expect(masha).to_have_url(re.compile(r"/chats$"))
    expect(masha.locator(".signed-in")).to_have_text(masha_display)
    title_is(masha, "Чаты")
    expect(masha.locator("summary", has_text="Новый чат")).to_be_visible()
    expect(masha.locator(".empty-list")).to_have_text(
        "Чатов пока нет. Нажмите «Новый чат», чтобы начать."
    )
    # The page's script says the browser's zone once, in a cookie, for the next pages.
    expect_live_ru(masha)
    cookies = {c["name"]: c["value"] for c in masha.context.cookies()}
    assert cookies.get("vibechat_timezone") == VLADIVOSTOK, cookies
    leftovers.check(masha, "1. the empty chat list")

    # Bob: an English browser in New York, signed up with the English words.
    bob = open_page(new_context, consoles, server.url, "bob", **ENGLISH)
    register(bob, bob_name, bob_display)
    expect(bob.locator("html")).to_have_attribute("lang", "en")

    # 2. A group chat with bob: «2 участника» (the plural of 2), messages, bob sees them live.
    masha.get_by_label("Название", exact=True).fill("Кухня")
    masha.get_by_label("Участники (необязательно)", exact=True).fill(bob_name)
    masha.get_by_role("button", name="Создать чат", exact=True).click()
    expect(masha).to_have_url(re.compile(r"/chats/\d+$"))
    chat_id = int(re.search(r"/chats/(\d+)$", masha.url).group(1))
    expect(masha.get_by_role("heading", level=1)).to_have_text("Кухня")
    title_is(masha, "Кухня")
    expect(masha.get_by_role("link", name="2 участника и настройки", exact=True)).to_be_visible()
    expect(masha.locator(".empty")).to_have_text("Сообщений пока нет. Поздоровайтесь!")
    expect(masha.locator(".zone-note")).to_have_count(0)
    expect_live_ru(masha)
    open_chat(bob, chat_id)
    expect(bob.get_by_role("link", name="2 members and settings", exact=True)).to_be_visible()
    leftovers.check(masha, "2. the new chat")

    hello, second, third = "Привет, Боб!", "Как дела?", "Это сообщение я удалю."
    for text in (hello, second, third):
        say_ru(masha, text)
        expect(messages_with(bob, text)).to_have_count(1)  # live, no reload
    expect(messages_with(masha, hello).locator(".author")).to_have_text(masha_display)
    # Times: the script shows what came live in the reader's zone, under «Сегодня».
    assert expect_times(masha, VLADIVOSTOK) == 3
    expect_one_day(masha, "Сегодня")
    assert expect_times(bob, NEW_YORK, english=True) == 3
    expect_one_day(bob, "Today")
    # …and the server, rendering the page anew, in the zone the cookie said.
    masha.reload()
    expect_live_ru(masha)
    expect(masha.locator(".zone-note")).to_have_count(0)
    assert expect_times(masha, VLADIVOSTOK) == 3
    expect_one_day(masha, "Сегодня")
    leftovers.check(masha, "2. the chat with messages")

    # 3. Presence: both online, each in their own words. Typing: bob types, masha reads
    # «Bob печатает…».
    for name in (masha_display, bob_display):
        expect(presence_of(masha, name)).to_have_text("в сети")
        expect(presence_of(bob, name)).to_have_text("online")
    reply = leftovers.typed("Fine, thanks, and you?")
    bob.get_by_label("Message", exact=True).press_sequentially(reply, delay=20)
    typing = masha.locator(f"#typing-{chat_id}")
    expect(typing).to_have_text(f"{bob_display} печатает…")
    leftovers.check(masha, "3. someone typing")
    bob.get_by_label("Message", exact=True).press("Enter")
    expect(messages_with(masha, reply)).to_have_count(1)
    expect(typing).to_have_text("")
    expect(messages_with(masha, reply).locator(".author")).to_have_text(bob_display)
    assert expect_times(masha, VLADIVOSTOK) == 4
    expect_one_day(masha, "Сегодня")

    # 4. Edit: the edit page in Russian, then «(изменено)», on both pages in their words.
    mine = messages_with(masha, second)
    mine.hover()
    mine.get_by_role("link", name="Изменить", exact=True).click()
    expect(masha).to_have_url(re.compile(rf"/chats/{chat_id}/messages/\d+/edit$"))
    title_is(masha, "Изменить сообщение")
    expect(masha.get_by_role("heading", level=1)).to_have_text("Изменить сообщение")
    expect(composer_ru(masha)).to_have_value(second)
    expect(masha.get_by_role("link", name="Вернуться в чат", exact=True)).to_be_visible()
    leftovers.check(masha, "4. the edit page")
    edited = "Как дела? (исправлено)"
    composer_ru(masha).fill(edited)
    masha.get_by_role("button", name="Сохранить", exact=True).click()
    expect(masha).to_have_url(re.compile(rf"/chats/{chat_id}#msg-{chat_id}-\d+$"))
    expect(messages_with(masha, edited).locator(".message-edited")).to_have_text("(изменено)")
    expect(messages_with(bob, edited).locator(".message-edited")).to_have_text("(edited)")
    expect_live_ru(masha)

    # Delete: asked first, on a page of its own, in Russian; then «Сообщение удалено».
    doomed = messages_with(masha, third)
    seq = doomed.get_attribute("data-seq")
    doomed.hover()
    doomed.get_by_role("link", name="Изменить", exact=True).click()
    masha.get_by_role("link", name="Удалить сообщение…", exact=True).click()
    expect(masha).to_have_url(re.compile(rf"/chats/{chat_id}/messages/{seq}/delete$"))
    title_is(masha, "Удалить сообщение?")
    expect(masha.get_by_role("heading", level=1)).to_have_text("Удалить сообщение?")
    expect(masha.locator("main blockquote")).to_have_text(third)
    expect(masha.locator("main")).to_contain_text(
        "Все в чате увидят на его месте «Сообщение удалено». Вернуть его будет нельзя."
    )
    expect(masha.get_by_role("link", name="Отмена, не удалять", exact=True)).to_be_visible()
    leftovers.check(masha, "4. the delete page")
    masha.get_by_role("button", name="Удалить", exact=True).click()
    expect(masha).to_have_url(re.compile(rf"/chats/{chat_id}#msg-{chat_id}-{seq}$"))
    gone = masha.locator(f"#msg-{chat_id}-{seq}")
    expect(gone.locator(".message-body")).to_have_text("Сообщение удалено")
    expect(bob.locator(f"#msg-{chat_id}-{seq} .message-body")).to_have_text("Message deleted")
    expect_live_ru(masha)
    assert expect_times(masha, VLADIVOSTOK) == 4
    expect_one_day(masha, "Сегодня")
    leftovers.check(masha, "4. the chat after an edit and a deletion")

    # 5. Unread counts on the chat list, live, in each of Russian's plural forms.
    masha.goto("/chats")
    expect_live_ru(masha)
    item = masha.locator(f"#chat-{chat_id}")
    expect(item.locator(".unread")).to_have_count(0)
    sent = 0
    for count, words in ((1, "1 непрочитанное"), (2, "2 непрочитанных"), (5, "5 непрочитанных")):
        while sent < count:
            sent += 1
            say_en(bob, leftovers.typed(f"Unread number {sent}"))
        expect(item.locator(".unread")).to_have_text(words)
    expect(item.locator(".chat-preview")).to_contain_text(f"{bob_display}: Unread number 5")
    last_time = item.locator("time.chat-when")
    expect(last_time).to_have_text(clock(last_time.get_attribute("datetime"), VLADIVOSTOK))
    leftovers.check(masha, "5. the chat list with unread messages")
    # The server counts in the same words.
    masha.reload()
    expect(item.locator(".unread")).to_have_text("5 непрочитанных")
    expect(last_time).to_have_text(clock(last_time.get_attribute("datetime"), VLADIVOSTOK))
    expect(masha.locator(".zone-note")).to_have_count(0)

    # 6. The 404 page.
    response = masha.goto("/chats/999999")
    assert response is not None and response.status == 404
    title_is(masha, "Не найдено")
    expect(masha.get_by_role("heading", level=1)).to_have_text("Не найдено")
    expect(masha.locator("main")).to_contain_text(
        "Здесь ничего нет. Возможно, в адресе опечатка или страницу удалили."
    )
    expect(masha.locator("main")).to_contain_text("Ошибка 404")
    expect(masha.get_by_role("link", name="К списку чатов", exact=True)).to_be_visible()
    leftovers.check(masha, "6. the 404 page")

    # 7. English without JavaScript: a fresh context (no zone cookie), still a Russian
    # browser in Vladivostok, signs in on the Russian page and presses English.
    plain = open_page(
        new_context, consoles, server.url, "masha-plain", java_script_enabled=False, **RUSSIAN
    )
    plain.goto("/login")
    title_is(plain, "Вход")
    plain.get_by_label("Имя пользователя", exact=True).fill(masha_name)
    plain.get_by_label("Пароль", exact=True).fill(PASSWORD)
    plain.get_by_role("button", name="Войти", exact=True).click()
    expect(plain).to_have_url(re.compile(r"/chats$"))
    assert plain.evaluate("typeof window.htmx") == "undefined"  # no script ran
    expect(plain.locator("html")).to_have_attribute("lang", "ru")
    expect(plain.get_by_role("heading", level=1)).to_have_text("Чаты")
    # No zone known: the list says its times are UTC, in Russian.
    expect(plain.locator(".zone-note")).to_contain_text("Время указано по UTC.")
    leftovers.check(plain, "7. the chat list without JavaScript")
    switch = plain.locator("footer form.language-switch")
    expect(switch.get_by_role("button", name="Русский")).to_have_attribute("aria-pressed", "true")
    with plain.expect_navigation() as navigation:
        switch.get_by_role("button", name="English", exact=True).click()
    answer = navigation.value
    assert answer is not None and answer.status == 200
    assert answer.request.redirected_from is not None  # a plain form POST, then 303
    expect(plain).to_have_url(re.compile(r"/chats$"))
    expect(plain.locator("html")).to_have_attribute("lang", "en")
    expect(plain.get_by_role("heading", level=1)).to_have_text("Your chats")
    expect(plain.locator("footer").get_by_role("button", name="English")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The next page stays English, though the browser still asks for Russian: the
    # choice is saved on the account, not in a cookie.
    assert "vibechat_language" not in {c["name"] for c in plain.context.cookies()}
    plain.goto(f"/chats/{chat_id}")
    expect(plain.locator("html")).to_have_attribute("lang", "en")
    expect(plain.get_by_role("link", name="2 members and settings", exact=True)).to_be_visible()
    expect(plain.locator(f"#msg-{chat_id}-{seq} .message-body")).to_have_text("Message deleted")
    expect(messages_with(plain, edited).locator(".message-edited")).to_have_text("(edited)")
    expect(plain.locator(".zone-note")).to_contain_text("Times are in UTC.")
    assert expect_times(plain, "UTC", english=True) == 9
    expect_one_day(plain, "Today")

    # The JavaScript page of the same account, reloaded, is English too, and still in
    # the browser's zone.
    masha.goto(f"/chats/{chat_id}")
    expect(masha.locator("html")).to_have_attribute("lang", "en")
    expect_live(masha)
    assert expect_times(masha, VLADIVOSTOK, english=True) == 9
    expect_one_day(masha, "Today")

    # 8. Nothing was left in English on a Russian page, and no console had an error.
    assert not leftovers.found, "\n".join(leftovers.found)
    # Chromium logs a document answered 422 or 404 as a failed load: those two the walk
    # asked for, and nothing else.
    asked = {
        f"masha: console.error: Failed to load resource: the server responded with a status"
        f" of {status} () ({server.url}{path})"
        for status, path in ((422, "/register"), (404, "/chats/999999"))
    }
    for console in consoles:
        console.errors = [line for line in console.errors if line not in asked]
    assert_clean_consoles(consoles)
