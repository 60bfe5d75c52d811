"""Issue 16, messages: the chat's messages, the earlier and newer pages, editing and
deleting, the composer and the words it gives the script, the password page and the
reader's stylesheet (mine.css) say it in Russian to a Russian reader, and stay English
for everyone else."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from quart import render_template

from tests.support.html import field_error, html
from tests.support.people import send
from vibechat import i18n
from vibechat.paths import STATIC

RU = {"Accept-Language": "ru"}


async def page(person, path: str, headers: dict | None = None, status: int = 200):
    response = await person.get(path, headers=headers or {})
    assert response.status_code == status, (path, response.status_code)
    return html(await response.get_data())


def text(node) -> str:
    return " ".join(node.text().split())


async def a_chat_with_history(alice, chat_id: int) -> None:
    """51 messages (one more than a page: the link to earlier ones shows); the 50th
    edited, the 51st deleted."""
    for number in range(1, 52):
        assert (await send(alice, chat_id, f"message {number}")).status_code == 303
    edit = await alice.post(f"/chats/{chat_id}/messages/50/edit", {"body": "changed"})
    assert edit.status_code == 303
    assert (await alice.post(f"/chats/{chat_id}/messages/51/delete")).status_code == 303


def message(chat, chat_id: int, seq: int):
    item = chat.css_first(f"#msg-{chat_id}-{seq}")
    assert item is not None, f"message {seq} is not on the page"
    return item


# -- the chat page -----------------------------------------------------------------------


async def test_the_chats_messages_speak_russian(alice, watercooler):
    await a_chat_with_history(alice, watercooler)
    chat = await page(alice, f"/chats/{watercooler}", RU)
    assert text(message(chat, watercooler, 51).css_first(".message-body")) == "Сообщение удалено"
    assert text(message(chat, watercooler, 50).css_first(".message-edited")) == "(изменено)"
    link = message(chat, watercooler, 50).css_first(".edit")
    assert text(link) == "Изменить"
    assert [text(action) for action in message(chat, watercooler, 50).css(".actions a")] == [
        "Ответить",
        "Реакция",
        "Изменить",
    ]
    assert text(chat.css_first(f"#older-{watercooler} a")) == "Более ранние сообщения"
    composer = chat.css_first("form#composer")
    assert text(composer.css_first("label")) == "Сообщение"
    assert text(composer.css_first("button")) == "Отправить"


async def test_the_chats_messages_stay_english_by_default(alice, watercooler):
    await a_chat_with_history(alice, watercooler)
    chat = await page(alice, f"/chats/{watercooler}")
    assert text(message(chat, watercooler, 51).css_first(".message-body")) == "Message deleted"
    assert text(message(chat, watercooler, 50).css_first(".message-edited")) == "(edited)"
    link = message(chat, watercooler, 50).css_first(".edit")
    assert text(link) == "Edit"
    assert text(chat.css_first(f"#older-{watercooler} a")) == "Earlier messages"
    composer = chat.css_first("form#composer")
    assert text(composer.css_first("label")) == "Message"
    assert text(composer.css_first("button")) == "Send"


async def test_a_message_rendered_for_one_language_is_not_served_in_another(
    alice, bob, watercooler
):
    await send(alice, watercooler, "soon gone")
    assert (await alice.post(f"/chats/{watercooler}/messages/1/delete")).status_code == 303
    english = await page(bob, f"/chats/{watercooler}")
    russian = await page(bob, f"/chats/{watercooler}", RU)
    assert text(message(english, watercooler, 1).css_first(".message-body")) == "Message deleted"
    assert text(message(russian, watercooler, 1).css_first(".message-body")) == "Сообщение удалено"


async def test_a_message_whose_author_is_gone_names_a_former_member(app):
    gone = SimpleNamespace(
        id=1,
        chat_id=1,
        seq=1,
        rev=1,
        author_id=None,
        author=None,
        body="hello",
        created_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        edited_at=None,
        deleted_at=None,
        reply_to_seq=None,
        quoted=None,
        reactions=[],
        mentioned=[],
    )
    async with app.test_request_context("/"):
        for language, name in (("en", "Former member"), ("ru", "Бывший участник")):
            with i18n.speaking(language):
                rendered = await render_template(
                    "messages/_message.html", message=gone, oob=False, actions=False
                )
            assert text(html(rendered).css_first(".author")) == name


# -- the words the script says -----------------------------------------------------------

SCRIPT_WORDS = {
    "ru": {
        "connecting": "Подключаемся…",
        "live": "На связи: новые сообщения появляются сразу.",
        "offline": "Нет связи. Переподключаемся… Можно писать дальше: сообщения уйдут, "
        "когда связь вернётся.",
        "crowded": "Нет связи: открыто слишком много вкладок. Закройте лишние и обновите страницу.",
        "signed-out": "Вы вышли из аккаунта. Войдите снова, чтобы видеть новые сообщения.",
    },
    "en": {
        "connecting": "Connecting…",
        "live": "Live: new messages appear as they arrive.",
        "offline": "Offline. Reconnecting… You can keep writing; messages are sent when the "
        "connection is back.",
        "crowded": "Not live: too many pages are open. Close some, then reload.",
        "signed-out": "Signed out. Sign in again to see new messages.",
    },
}
COMPOSER_WORDS = {
    "ru": {
        "empty": "Сначала напишите сообщение.",
        "sending": "Отправляется: {text}",
        "waiting": "Ждёт связи: {text}",
        "too-long": "В сообщении может быть не больше 4000 символов.",
    },
    "en": {
        "empty": "Write a message first.",
        "sending": "Sending: {text}",
        "waiting": "Waiting for the connection: {text}",
        "too-long": "A message can be at most 4000 characters.",
    },
}


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_the_script_is_given_its_words_in_the_readers_language(alice, watercooler, language):
    chat = await page(alice, f"/chats/{watercooler}", RU if language == "ru" else {})
    [words] = chat.css("#connection-state")
    for name, said in SCRIPT_WORDS[language].items():
        assert words.attributes[f"data-say-{name}"] == said
    composer = chat.css_first("form#composer")
    for name, said in COMPOSER_WORDS[language].items():
        assert composer.attributes[f"data-{name}"] == said


def test_the_scripts_hold_no_english_words_of_their_own():
    scripts = (STATIC / "app.js").read_text() + (STATIC / "js" / "composer.js").read_text()
    for words in (*SCRIPT_WORDS["en"].values(), *COMPOSER_WORDS["en"].values()):
        assert words.split("{")[0] not in scripts, words


# -- earlier and newer pages -------------------------------------------------------------


async def test_earlier_and_newer_pages_speak_russian(alice, watercooler):
    await a_chat_with_history(alice, watercooler)
    older = await page(alice, f"/chats/{watercooler}/messages?before=52", RU)
    assert text(older.css_first("title")) == "Более ранние сообщения: Watercooler" + " · vibechat"
    assert text(older.css_first("h1")) == "Более ранние сообщения: Watercooler"
    assert older.css_first("h1 bdi").text() == "Watercooler"
    assert text(older.css_first("ol.messages")) != ""
    assert older.css_first("ol.messages").attributes["aria-label"] == "Сообщения"
    links = [text(link) for link in older.css(".link-line a")]
    assert links == ["Ещё более ранние сообщения", "К последним сообщениям"]
    none = await page(alice, f"/chats/{watercooler}/messages?before=1", RU)
    assert "Более ранних сообщений нет." in text(none.css_first("main"))

    newer = await page(alice, f"/chats/{watercooler}/messages?after=49", RU)
    assert text(newer.css_first("h1")) == "Новые сообщения: Watercooler"
    assert text(message(newer, watercooler, 51).css_first(".message-body")) == "Сообщение удалено"
    assert text(newer.css_first("form.composer-plain label")) == "Сообщение"
    assert text(newer.css_first("form.composer-plain button")) == "Отправить"
    assert (
        newer.css_first("form.composer-plain").attributes["data-too-long"]
        == (COMPOSER_WORDS["ru"]["too-long"])
    )
    none = await page(alice, f"/chats/{watercooler}/messages?after=51", RU)
    assert "Новых сообщений пока нет." in text(none.css_first("main"))


async def test_earlier_and_newer_pages_stay_english_by_default(alice, watercooler):
    await a_chat_with_history(alice, watercooler)
    older = await page(alice, f"/chats/{watercooler}/messages?before=52")
    assert text(older.css_first("h1")) == "Earlier messages in Watercooler"
    links = [text(link) for link in older.css(".link-line a")]
    assert links == ["Even earlier messages", "Back to the latest messages"]
    newer = await page(alice, f"/chats/{watercooler}/messages?after=49")
    assert text(newer.css_first("title")) == "Newer messages in Watercooler" + " · vibechat"
    assert text(newer.css_first("form.composer-plain button")) == "Send"


# -- editing and deleting ----------------------------------------------------------------


async def test_editing_and_deleting_speak_russian(alice, bob, watercooler):
    await send(alice, watercooler, "hello")
    edit = await page(alice, f"/chats/{watercooler}/messages/1/edit", RU)
    assert text(edit.css_first("h1")) == "Изменить сообщение"
    assert text(edit.css_first("main label")) == "Сообщение"
    assert text(edit.css_first("form.stack button")) == "Сохранить"
    assert [text(link) for link in edit.css(".link-line a")] == [
        "Вернуться в чат",
        "Удалить сообщение…",
    ]
    assert (
        edit.css_first("form[data-max]").attributes["data-too-long"]
        == (COMPOSER_WORDS["ru"]["too-long"])
    )

    delete = await page(alice, f"/chats/{watercooler}/messages/1/delete", RU)
    assert text(delete.css_first("h1")) == "Удалить сообщение?"
    assert "«Сообщение удалено»" in text(delete.css_first("main"))
    assert text(delete.css_first("form.stack button")) == "Удалить"
    assert text(delete.css_first(".link-line a")) == "Отмена, не удалять"

    refused = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "  "}, headers=RU)
    assert refused.status_code == 422
    refused = html(await refused.get_data())
    assert text(refused.css_first("title")) == "Ошибка: Изменить сообщение" + " · vibechat"
    assert text(refused.css_first("h1")) == "Изменить сообщение"

    not_theirs = await page(bob, f"/chats/{watercooler}/messages/1/edit", RU, status=403)
    assert "Изменить сообщение может только его автор." in text(not_theirs.css_first("main"))


async def test_editing_and_deleting_stay_english_by_default(alice, watercooler):
    await send(alice, watercooler, "hello")
    edit = await page(alice, f"/chats/{watercooler}/messages/1/edit")
    assert text(edit.css_first("h1")) == "Edit your message"
    assert text(edit.css_first("form.stack button")) == "Save"
    delete = await page(alice, f"/chats/{watercooler}/messages/1/delete")
    assert text(delete.css_first("h1")) == "Delete your message?"
    assert text(delete.css_first("form.stack button")) == "Delete message"
    refused = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "  "})
    title = html(await refused.get_data()).css_first("title")
    assert text(title) == "Error: Edit your message · vibechat"


# -- a refused message -------------------------------------------------------------------


@pytest.mark.parametrize("body", ["", "x" * 4001])
async def test_a_refused_message_comes_back_in_russian(alice, watercooler, body):
    response = await send_in(alice, watercooler, body, RU)
    assert response.status_code == 422
    chat = html(await response.get_data())
    composer = chat.css_first("form#composer")
    assert text(composer.css_first("label")) == "Сообщение"
    assert text(composer.css_first("button")) == "Отправить"
    assert composer.attributes["data-empty"] == COMPOSER_WORDS["ru"]["empty"]
    field_error(chat, "body")  # shown by its field (its words: vibechat/forms.py)


@pytest.mark.parametrize("body", ["", "x" * 4001])
async def test_a_refused_message_comes_back_in_english_by_default(alice, watercooler, body):
    response = await send_in(alice, watercooler, body, {})
    assert response.status_code == 422
    composer = html(await response.get_data()).css_first("form#composer")
    assert text(composer.css_first("label")) == "Message"
    assert text(composer.css_first("button")) == "Send"


async def send_in(person, chat_id: int, body: str, headers: dict):
    return await person.post(f"/chats/{chat_id}/messages", {"body": body}, headers=headers)


# -- the password page -------------------------------------------------------------------


async def test_the_password_page_speaks_russian(alice):
    form = await page(alice, "/account/password", RU)
    assert text(form.css_first("title")) == "Смена пароля" + " · vibechat"
    assert text(form.css_first("h1")) == "Смена пароля"
    assert [text(label) for label in form.css("main label")] == ["Текущий пароль", "Новый пароль"]
    assert text(form.css_first("#new_password-hint")).startswith("Не меньше 8 символов")
    assert form.css_first('input[name="username"]').attributes["aria-label"] == ("Имя пользователя")
    assert text(form.css_first("form.stack button")) == "Сменить пароль"
    changed = await page(alice, "/account/password?changed=1", RU)
    assert text(changed.css_first(".notice")).startswith("Пароль изменён.")

    refused = await alice.post(
        "/account/password",
        {"current_password": "not it at all", "new_password": "a new long password"},
        headers=RU,
    )
    assert refused.status_code == 422
    refused = html(await refused.get_data())
    assert text(refused.css_first("title")) == "Ошибка: Смена пароля" + " · vibechat"
    assert field_error(refused, "current_password") == "Неверный текущий пароль."


async def test_the_password_page_stays_english_by_default(alice):
    form = await page(alice, "/account/password")
    assert text(form.css_first("h1")) == "Change your password"
    assert [text(label) for label in form.css("main label")] == ["Current password", "New password"]
    refused = await alice.post(
        "/account/password",
        {"current_password": "not it at all", "new_password": "a new long password"},
    )
    assert refused.status_code == 422
    refused = html(await refused.get_data())
    assert text(refused.css_first("title")) == "Error: Change your password" + " · vibechat"
    assert field_error(refused, "current_password") == "That is not your current password."


# -- mine.css ----------------------------------------------------------------------------


async def sheet_url(person, headers: dict) -> str:
    chats = await page(person, "/chats", headers)
    return chats.css_first('link[href^="/style/mine-"]').attributes["href"]


async def sheet(person, url: str, headers: dict | None = None) -> str:
    response = await person.get(url, headers=headers or {})
    assert response.status_code == 200
    return await response.get_data(as_text=True)


async def test_the_readers_stylesheet_speaks_the_language_its_url_names(alice):
    english, russian = await sheet_url(alice, {}), await sheet_url(alice, RU)
    assert english != russian
    assert "lang=" not in english
    assert "lang=ru" in russian
    # The version covers the catalog: a changed Russian word is a new URL.
    assert english.split("v=")[1][:8] != russian.split("v=")[1][:8]
    # By the URL, whoever asks: a shared cache keeps one sheet per URL.
    for headers in ({}, RU):
        css = await sheet(alice, russian, headers)
        assert 'content:" (вы)"' in css
        assert 'content:"Вы: "' in css
        css = await sheet(alice, english, headers)
        assert 'content:" (you)"' in css
        assert 'content:"You: "' in css
