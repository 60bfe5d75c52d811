"""Languages (SPEC §14): which language a page speaks, the switch, and the catalogs.

The language is the account's choice if made, else the cookie POST /language sets for
someone signed out, else Accept-Language by quality, else English.
"""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from tests.support.db import snapshot, user_id
from tests.support.html import html
from tests.support.live import live
from vibechat import i18n
from vibechat.live.envelope import open_envelope, seal
from vibechat.models import User

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}


def lang_of(body: bytes) -> str:
    return html(body).css_first("html").attributes["lang"]


async def page_language(person, path: str = "/login", **headers) -> str:
    response = await person.get(path, headers=headers)
    return lang_of(await response.get_data())


# -- choosing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "en"),
        ("ru", "ru"),
        ("ru-RU,ru;q=0.9,en-US;q=0.8", "ru"),
        ("de-DE, ru;q=0.7, en;q=0.5", "ru"),  # the best that we speak, by quality
        ("de-DE, en;q=0.8, ru;q=0.5", "en"),
        ("ru;q=0, en", "en"),  # q=0 refuses
        ("fr, de", "en"),  # nothing we speak: English
        ("*", "en"),
        ("ru;q=abc", "en"),  # a broken header is no choice
    ],
)
async def test_a_visitor_gets_the_language_their_browser_asks_for(people, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    assert await page_language(people.anonymous(), **headers) == expected


async def test_the_russian_page_says_so_and_speaks_russian(people):
    response = await people.anonymous().get("/login", headers=RU)
    page = html(await response.get_data())
    assert page.css_first("html").attributes["lang"] == "ru"
    assert page.css_first("#language-label").text() == "Язык:"
    # Each language is offered in its own words, marked as that language.
    buttons = {b.attributes["value"]: b for b in page.css(".language-switch button")}
    assert buttons["ru"].text() == "Русский" and buttons["ru"].attributes["lang"] == "ru"
    assert buttons["en"].text() == "English" and buttons["en"].attributes["lang"] == "en"
    assert buttons["ru"].attributes["aria-pressed"] == "true"
    assert buttons["en"].attributes["aria-pressed"] == "false"


async def test_a_visitor_switches_without_javascript_and_a_cookie_keeps_it(people):
    visitor = people.anonymous()
    await visitor.refresh_token("/login")
    response = await visitor.post("/language", {"language": "ru", "next": "/register"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/register"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("vibechat_language=ru;") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    # The cookie wins over the browser's header.
    assert await page_language(visitor, "/register", **{"Accept-Language": "en"}) == "ru"
    await visitor.post("/language", {"language": "en"})
    assert await page_language(visitor, "/register", **RU) == "en"


async def test_the_accounts_choice_wins_everywhere_it_signs_in(people, db):
    alice = await people("alice")
    assert await page_language(alice, "/chats", **RU) == "ru"  # nothing chosen yet
    response = await alice.post("/language", {"language": "en", "next": "/chats"})
    assert response.status_code == 303 and response.headers["Location"] == "/chats"
    # Saved on the account, not in a cookie: another browser of hers speaks it too.
    assert "vibechat_language" not in response.headers.get("Set-Cookie", "")
    assert await page_language(alice, "/chats", **RU) == "en"
    async with db.read() as session:
        assert (await session.get(User, await user_id(db, "alice"))).language == "en"


@pytest.mark.parametrize("language", ["", "de", "RU", "ru-RU", "en ", "x" * 100])
async def test_an_unknown_language_is_refused_and_changes_nothing(people, db, language):
    alice = await people("alice")
    before = await snapshot(db)
    response = await alice.post("/language", {"language": language, "next": "/chats"})
    assert response.status_code == 422
    page = html(await response.get_data())
    assert page.css_first("#language-error").text() == "Choose English or Russian."
    # The form is there to choose again, and goes back where the person was.
    assert page.css_first('.language-switch input[name="next"]').attributes["value"] == "/chats"
    assert await snapshot(db) == before
    assert "vibechat_language" not in response.headers.get("Set-Cookie", "")


async def test_the_switch_goes_back_only_to_a_page_of_this_site(people):
    visitor = people.anonymous()
    await visitor.refresh_token("/login")
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = await visitor.post("/language", {"language": "ru", "next": target})
        assert response.headers["Location"] == "/", target


async def test_the_switch_needs_the_csrf_token(people):
    response = await people.anonymous().post("/language", {"language": "ru"}, csrf=False)
    assert response.status_code == 403


# -- the catalogs --------------------------------------------------------------------------


def russian_catalog():
    with i18n.catalog("ru").open("rb") as po:
        return read_po(po, locale="ru")


def test_every_text_has_a_russian_translation_and_none_is_a_guess():
    catalog = russian_catalog()
    missing = [message.id for message in catalog if message.id and not all(_strings(message))]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert not missing, f"no Russian for: {missing}"
    assert not fuzzy, f"fuzzy (a guess, not a translation): {fuzzy}"


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple | list) else [message.string]


def test_russian_counts_take_three_plural_forms():
    with i18n.speaking("ru"):
        forms = [member_count(n) for n in (1, 2, 5, 21)]
    assert forms == ["1 участник", "2 участника", "5 участников", "21 участник"]
    with i18n.speaking("en"):
        assert [member_count(n) for n in (1, 21)] == ["1 member", "21 members"]


def member_count(n: int) -> str:
    # The chat header's count, as templates/chats/_member_count.html asks for it.
    return i18n.ngettext("%(count)s member", "%(count)s members", n, count=n)


# -- pages, forms and errors in Russian -------------------------------------------------------


async def test_signing_in_and_up_speaks_russian(people):
    visitor = people.anonymous()
    login = html(await (await visitor.get("/login", headers=RU)).get_data())
    assert login.css_first("title").text() == "Вход · vibechat"
    assert login.css_first("h1").text() == "Вход"
    assert login.css_first('label[for="username"]').text() == "Имя пользователя"
    assert login.css_first("form.stack button").text() == "Войти"  # the button says "do it"
    assert login.css_first("a.skip-link").text() == "Перейти к содержимому"
    assert login.css_first("nav").attributes["aria-label"] == "Аккаунт"
    register = html(await (await visitor.get("/register", headers=RU)).get_data())
    assert register.css_first("h1").text() == "Регистрация"
    assert register.css_first("#password-hint").text().startswith("Минимум 8 символов")


async def test_a_refused_form_explains_itself_in_russian(people):
    visitor = people.anonymous()
    await visitor.refresh_token("/register")
    response = await visitor.post(
        "/register",
        {"username": "a", "display_name": "", "password": "short"},
        headers=RU,
    )
    assert response.status_code == 422
    page = html(await response.get_data())
    assert page.css_first("title").text() == "Ошибка: регистрация · vibechat"
    assert page.css_first("#username-error").text() == (
        "Нужно от 3 до 32 символов: латинские буквы, цифры и знаки _ . или -."
    )
    assert page.css_first("#password-error").text() == "Нужно хотя бы 8 символов."


async def test_error_pages_speak_russian(people):
    visitor = people.anonymous()
    missing = await visitor.get("/no/such/page", headers=RU)
    assert missing.status_code == 404
    page = html(await missing.get_data())
    assert page.css_first("h1").text() == "Не найдено"
    assert "в адресе опечатка" in page.css_first("main p").text()
    assert page.css_first("main .muted").text() == "Ошибка 404"
    refused = await visitor.post("/language", {"language": "ru"}, csrf=False, headers=RU)
    assert refused.status_code == 403
    assert "Форма устарела" in html(await refused.get_data()).css_first("main p").text()


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [(1, "1 секунду"), (3, "3 секунды"), (45, "45 секунд"), (61, "61 секунду"), (600, "10 минут")],
)
def test_waiting_times_take_russian_plural_forms(seconds, spoken):
    from vibechat.rate_limits import _spoken

    with i18n.speaking("ru"):
        assert _spoken(seconds) == spoken


def test_length_limits_take_russian_plural_forms():
    from vibechat import forms

    with i18n.speaking("ru"):
        with pytest.raises(forms.Invalid) as error:
            forms.body("я" * 4001)
        assert str(error.value) == (
            "Сообщение может быть не длиннее 4000 символов, а в этом 4001 символ."
        )
        with pytest.raises(forms.Invalid) as error:
            forms.title("x" * 101)
        assert str(error.value) == "Не больше 100 символов."


# -- live frames: rendered once per language, each page gets its own -------------------------


async def test_each_socket_hears_a_frame_in_its_pages_language(alice, bob, carol, watercooler):
    await alice.post(f"/chats/{watercooler}/members", {"members": "carol"})
    async with (
        live(bob.client, headers=RU) as bob_ws,
        live(carol.client, headers={"Accept-Language": "en"}) as carol_ws,
    ):
        for name in ("bob", "carol"):
            response = await alice.post(f"/chats/{watercooler}/members/{name}/remove")
            assert response.status_code == 303
        said = {}
        for name, ws in (("bob", bob_ws), ("carol", carol_ws)):
            frame = await ws.until(f"p#chat-status-{watercooler}")
            said[name] = frame.top(f"p#chat-status-{watercooler}").text()
    assert said == {
        "bob": "Вас удалили из этого чата.",
        "carol": "You were removed from this chat.",
    }


def test_a_frame_that_reads_the_same_in_every_language_travels_once():
    assert seal(("<p>1</p>", "<p>1</p>")) == seal("<p>1</p>")
    both = seal(("<p>Hi</p>", "<p>Привет</p>"), join=3)
    assert open_envelope(both) == ({"join": 3}, ("<p>Hi</p>", "<p>Привет</p>"))
