"""The chat list, the chat page, members, leaving and deleting in Russian (SPEC §14), and
still in English for a browser that asks for nothing else: their words, the counts in
three plural forms (1, 2-4, 5 and more; 21 like 1), and the words the page's script
counts with (data-one, data-few, data-many, data-other)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from quart import render_template

from tests.support.html import field_error, html
from tests.support.people import create_chat, send
from vibechat import i18n, queries
from vibechat.models import Chat, User, utcnow

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}


async def page(person, path: str, headers=RU):
    response = await person.get(path, headers=headers)
    assert response.status_code == 200, (path, response.status_code)
    return html(await response.get_data())


def text(page, selector: str) -> str:
    node = page.css_first(selector)
    assert node is not None, f"nothing matches {selector}"
    return node.text(strip=True)


def texts(page, selector: str) -> list[str]:
    return [node.text(strip=True) for node in page.css(selector)]


async def render(app, template: str, **context) -> str:
    """A partial as the request's language renders it (Russian here)."""
    async with app.app_context():
        with i18n.speaking("ru"):
            return await render_template(template, oob=False, **context)


async def group_of(people, owner, size: int, title: str) -> int:
    """A group chat of `size` people, `owner` among them."""
    others = [(await people(f"member{title.lower()}{n}")).username for n in range(size - 1)]
    return await create_chat(owner, title, " ".join(others))


# -- the chat list -----------------------------------------------------------------------


async def test_the_chat_list_speaks_russian(people):
    newcomer = await people("newcomer")
    list_page = await page(newcomer, "/chats")
    assert text(list_page, "h1") == "Чаты"
    assert text(list_page, "title").startswith("Чаты")
    assert text(list_page, "summary") == "Новый чат"
    assert texts(list_page, ".start-forms h2") == ["Групповой чат", "Личный чат"]
    assert texts(list_page, ".start-forms label") == [
        "Название",
        "Участники (необязательно)",
        "Имя пользователя",
    ]
    assert text(list_page, "#members-hint") == "Имена пользователей через запятую или пробел."
    assert texts(list_page, ".start-forms button") == ["Создать чат", "Открыть личный чат"]
    assert text(list_page, ".empty-list") == "Чатов пока нет. Нажмите «Новый чат», чтобы начать."


async def test_a_chat_without_messages_says_so_in_russian(alice, watercooler):
    list_page = await page(alice, "/chats")
    assert text(list_page, f"#chat-preview-{watercooler}") == "Сообщений пока нет."


async def test_the_readers_own_last_message_is_theirs_in_russian(alice, watercooler):
    await send(alice, watercooler, "hello")
    list_page = await page(alice, "/chats")
    assert text(list_page, f"#chat-preview-{watercooler} .chat-preview-author") == "Вы:"


@pytest.mark.parametrize(
    ("unread", "expected"),
    [(1, "1 непрочитанное"), (2, "2 непрочитанных"), (5, "5 непрочитанных")],
)
async def test_unread_counts_take_russian_plural_forms(alice, bob, watercooler, unread, expected):
    for n in range(unread):
        await send(bob, watercooler, f"message {n}")
    list_page = await page(alice, "/chats")
    assert text(list_page, f"#unread-{watercooler} .unread") == expected


async def test_unread_counts_of_21_and_11_as_russian_says_them(app):
    rendered = [
        html(await render(app, "chats/_unread.html", chat_id=1, unread=n)).text(strip=True)
        for n in (21, 11, 22, 25)
    ]
    assert rendered == [
        "21 непрочитанное",
        "11 непрочитанных",
        "22 непрочитанных",
        "25 непрочитанных",
    ]


async def test_the_script_gets_russian_words_for_its_counts(alice, watercooler):
    list_page = await page(alice, "/chats")
    # The unread badge reading.js writes when a message arrives, on the list.
    chat_list = list_page.css_first(".chat-list").attributes
    assert chat_list["data-one"] == "{n} непрочитанное"
    assert chat_list["data-few"] == "{n} непрочитанных"
    assert chat_list["data-many"] == "{n} непрочитанных"
    # The news it reads out once a burst is over.
    news = list_page.css_first("main [role=status][data-many]").attributes
    assert news["data-one"] == "{n} новое сообщение в чате «{chat}»."
    assert news["data-few"] == "{n} новых сообщения в чате «{chat}»."
    assert news["data-many"] == "{n} новых сообщений в чате «{chat}»."
    # The chat page's list beside the conversation carries the same.
    chat_page = await page(alice, f"/chats/{watercooler}")
    assert chat_page.css_first(".chat-side .chat-list").attributes["data-few"] == (
        "{n} непрочитанных"
    )
    side_news = chat_page.css_first(".chat-side [role=status][data-many]").attributes
    assert side_news["data-few"] == "{n} новых сообщения в чате «{chat}»."


async def test_starting_a_chat_is_refused_in_russian(alice):
    response = await alice.post("/chats/direct", {"username": "alice"}, headers=RU)
    assert response.status_code == 422
    assert field_error(html(await response.get_data()), "username") == (
        "Это вы. Чтобы писать заметки для себя, создайте групповой чат."
    )
    response = await alice.post("/chats/direct", {"username": "nobody"}, headers=RU)
    assert field_error(html(await response.get_data()), "username") == (
        "Пользователь nobody не найден."
    )
    assert text(html(await response.get_data()), "title").startswith("Ошибка: Чаты")
    response = await alice.post("/chats", {"title": "Plans", "members": "nobody ghost"}, headers=RU)
    assert field_error(html(await response.get_data()), "members") == (
        "Не найдены пользователи: nobody, ghost."
    )


async def test_a_chat_too_big_is_refused_with_the_russian_plural(app):
    with i18n.speaking("ru"):
        said = [
            i18n.ngettext(
                "A chat can have at most %(num)d people.",
                "A chat can have at most %(num)d people.",
                n,
            )
            for n in (21, 3, 100)
        ]
    assert said == [
        "В чате может быть не больше 21 человека.",
        "В чате может быть не больше 3 человек.",
        "В чате может быть не больше 100 человек.",
    ]


async def test_a_chat_without_a_name_is_named_in_russian(db, alice):
    reader = User(id=10_000, username="nobody", username_key="nobody", display_name="Nobody")
    nameless = [Chat(id=10_001, kind="group", title=""), Chat(id=10_002, kind="direct")]
    async with db.read() as session:
        with i18n.speaking("ru"):
            names = await queries.chat_names(session, nameless, reader)
        with i18n.speaking("en"):
            english = await queries.chat_names(session, nameless, reader)
    assert names == {10_001: "Чат без названия", 10_002: "Только вы"}
    assert english == {10_001: "Untitled chat", 10_002: "Just you"}


# -- the chat page -----------------------------------------------------------------------


async def test_the_chat_page_speaks_russian(alice, bob, watercooler):
    chat_page = await page(alice, f"/chats/{watercooler}")
    assert text(chat_page, "h1") == "Watercooler"
    assert chat_page.css_first(".chat-links a").text() == "2 участника и настройки"
    assert text(chat_page, "#messages-heading") == "Сообщения"
    assert text(chat_page, ".conversation .empty") == "Сообщений пока нет. Поздоровайтесь!"
    assert text(chat_page, ".newer a") == "Показать новые сообщения"
    assert text(chat_page, 'a.skip-link[href="#body"]') == "Перейти к полю сообщения"
    assert chat_page.css_first(".outbox").attributes["aria-label"] == (
        "Сообщения, которые ждут отправки"
    )
    assert text(chat_page, "#side-heading") == "Чаты"
    assert text(chat_page, "#members-heading") == "Участники"
    # The members beside it: who owns the chat, who is here (the reader) and who is not.
    members = {
        node.css_first(".member-name").text(): (
            texts(node, ".badge"),
            text(node, ".presence"),
        )
        for node in chat_page.css(".chat-members li.member")
    }
    assert members == {
        "Alice Liddell": (["владелец"], "в сети"),
        "Bob Dylan": ([], "не в сети"),
    }


@pytest.mark.parametrize(("size", "expected"), [(1, "1 участник"), (2, "2 участника")])
async def test_the_member_count_takes_russian_plural_forms(people, alice, size, expected):
    chat_id = await group_of(people, alice, size, f"Size{size}")
    chat_page = await page(alice, f"/chats/{chat_id}")
    assert text(chat_page, f"#member-count-{chat_id}") == expected


async def test_five_members_are_counted_in_russian(people, alice):
    chat_id = await group_of(people, alice, 5, "Five")
    chat_page = await page(alice, f"/chats/{chat_id}")
    assert text(chat_page, f"#member-count-{chat_id}") == "5 участников"


async def test_member_counts_of_21_and_more_as_russian_says_them(app):
    rendered = [
        html(await render(app, "chats/_member_count.html", chat_id=1, count=n)).text()
        for n in (21, 11, 12, 22, 101, 111)
    ]
    assert rendered == [
        "21 участник",
        "11 участников",
        "12 участников",
        "22 участника",
        "101 участник",
        "111 участников",
    ]


async def test_typing_is_said_in_russian(app):
    rendered = await render(app, "chats/_typing.html", chat_id=1, typers=[(1, "Bob <Dylan>")])
    # The name stays escaped inside the translated words.
    assert "<bdi>Bob &lt;Dylan&gt;</bdi> печатает…" in rendered


async def test_a_former_members_message_is_theirs_in_russian(app):
    # A message whose author's account is gone (the preview as the chat list shows it).
    gone = SimpleNamespace(seq=1, author_id=None, author=None, body="hi", created_at=utcnow())
    rendered = await render(app, "chats/_preview.html", chat_id=1, message=gone)
    assert "Бывший участник" in rendered


# -- members, leaving, deleting ----------------------------------------------------------


async def test_the_members_page_speaks_russian(alice, bob, watercooler):
    members_page = await page(alice, f"/chats/{watercooler}/members")
    assert text(members_page, "h1") == "Участники чата «Watercooler»"
    assert text(members_page, "title").startswith("Участники чата «Watercooler»")
    assert text(members_page, ".link-line a") == "Вернуться в чат"
    assert texts(members_page, ".badge") == ["владелец"]
    assert members_page.css_first(".member form button").text() == "Удалить Bob Dylan (@bob)"
    assert texts(members_page, "section h2") == [
        "Добавить участников",
        "Переименовать",
        "Выйти или удалить",
    ]
    assert text(members_page, "#members-hint") == "Через запятую или пробел."
    assert texts(members_page, "section form button") == ["Добавить", "Переименовать чат"]
    assert texts(members_page, "#leave-heading ~ p a") == [
        "Выйти из чата…",
        "Удалить чат для всех…",
    ]


async def test_a_direct_chats_members_page_says_what_it_is_in_russian(alice, bob):
    response = await alice.post("/chats/direct", {"username": "bob"})
    chat_id = int(response.headers["Location"].rsplit("/", 1)[1])
    members_page = await page(alice, f"/chats/{chat_id}/members")
    assert text(members_page, "h1") == "Участники чата «Bob Dylan»"
    assert "Это личный чат, в нём только вы двое." in members_page.css_first("main").text()
    # And the leave page is not for a direct chat, said in Russian.
    response = await alice.get(f"/chats/{chat_id}/leave", headers=RU)
    assert response.status_code == 403
    assert "В личном чате всегда одни и те же двое." in (await response.get_data(True))


async def test_adding_nobody_is_refused_in_russian(alice, watercooler):
    response = await alice.post(f"/chats/{watercooler}/members", {"members": " "}, headers=RU)
    assert response.status_code == 422
    page_ = html(await response.get_data())
    assert field_error(page_, "members") == "Введите хотя бы одно имя пользователя."
    assert text(page_, "title").startswith("Ошибка: Участники чата")


async def test_only_the_owner_may_is_said_in_russian(bob, watercooler):
    response = await bob.get(f"/chats/{watercooler}/delete", headers=RU)
    assert response.status_code == 403
    assert "Это может только владелец чата." in (await response.get_data(True))


async def test_the_leave_page_speaks_russian(alice, bob, watercooler):
    leave_page = await page(alice, f"/chats/{watercooler}/leave")
    assert text(leave_page, "h1") == "Выйти из чата «Watercooler»?"
    assert texts(leave_page, "main p:not(.link-line)") == [
        "Вы больше не увидите его сообщения и не узнаете о новых. "
        "Участники смогут потом добавить вас снова.",
        "Вы владелец этого чата: после вашего выхода владельцем станет Bob Dylan (@bob).",
    ]
    assert text(leave_page, "main form button") == "Выйти из чата"
    assert text(leave_page, ".link-line a") == "Отмена, остаться в чате"


async def test_the_last_member_is_told_in_russian_that_leaving_deletes(alice):
    chat_id = await create_chat(alice, "Notes")
    leave_page = await page(alice, f"/chats/{chat_id}/leave")
    assert text(leave_page, "main strong") == (
        "Вы последний участник. Если выйти, чат и все его сообщения удалятся навсегда."
    )
    assert text(leave_page, "main form button") == "Выйти и удалить чат"


@pytest.mark.parametrize(
    ("size", "who"),
    [
        (1, "."),
        (2, " — у вас и у второго участника."),
        (3, " — у вас и ещё у 2 участников."),
        (6, " — у вас и ещё у 5 участников."),
    ],
)
async def test_the_delete_page_speaks_russian(people, alice, size, who):
    chat_id = await group_of(people, alice, size, f"Doomed{size}")
    delete_page = await page(alice, f"/chats/{chat_id}/delete")
    assert text(delete_page, "h1") == f"Удалить «Doomed{size}» для всех?"
    assert text(delete_page, "main strong") == (
        f"Чат и все его сообщения будут удалены навсегда{who} Это нельзя отменить."
    )
    assert text(delete_page, "main form button") == "Удалить чат для всех"
    assert text(delete_page, ".link-line a") == "Отмена, оставить чат"


async def test_deleting_for_21_others_is_said_in_russian(app):
    with i18n.speaking("ru"):
        said = i18n.ngettext(
            "The chat and all its messages will be deleted for good, also for the %(count)s "
            "other member. This cannot be undone.",
            "The chat and all its messages will be deleted for good, also for the %(count)s "
            "other members. This cannot be undone.",
            21,
            count=21,
        )
    assert "у вас и ещё у 21 участника." in said


# -- and English, when nothing else is asked for -------------------------------------------


async def test_the_same_pages_stay_english_without_accept_language(alice, bob, watercooler):
    for n in range(2):
        await send(bob, watercooler, f"message {n}")
    list_page = await page(alice, "/chats", headers={})
    assert text(list_page, "h1") == "Your chats"
    assert text(list_page, f"#unread-{watercooler} .unread") == "2 unread"
    assert list_page.css_first(".chat-list").attributes["data-one"] == "{n} unread"
    news = list_page.css_first("main [role=status][data-many]").attributes
    assert news["data-one"] == "1 new message in {chat}."
    assert news["data-many"] == news["data-other"] == "{n} new messages in {chat}."

    chat_page = await page(alice, f"/chats/{watercooler}", headers={})
    assert chat_page.css_first(".chat-links a").text() == "2 members and settings"
    assert text(chat_page, "#members-heading") == "Members"
    assert text(chat_page, ".newer a") == "Load new messages"

    members_page = await page(alice, f"/chats/{watercooler}/members", headers={})
    assert text(members_page, "h1") == "Members of Watercooler"
    assert texts(members_page, ".badge") == ["owner"]

    leave_page = await page(alice, f"/chats/{watercooler}/leave", headers={})
    assert text(leave_page, "h1") == "Leave Watercooler?"
    assert text(leave_page, "main form button") == "Leave the chat"

    delete_page = await page(alice, f"/chats/{watercooler}/delete", headers={})
    assert text(delete_page, "h1") == "Delete Watercooler for everyone?"
    assert text(delete_page, "main strong") == (
        "The chat and all its messages will be deleted for good, also for the other member."
        " This cannot be undone."
    )
