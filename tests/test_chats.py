"""The chat list, starting chats, the chat page, members, renaming and deleting."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from sqlalchemy import select

from tests.support.checks import (
    assert_needs_this_sessions_token,
    assert_stranger_sees_404,
    assert_visitors_go_to_login,
)
from tests.support.db import count, snapshot, user_id
from tests.support.html import field_error, foreign_scripts, html
from tests.support.people import create_chat, send
from vibechat.models import Chat, Membership, Message, User

# -- helpers -----------------------------------------------------------------------------


async def membership(db, chat_id: int, username: str) -> Membership | None:
    async with db.read() as session:
        return await session.scalar(
            select(Membership)
            .join(User, User.id == Membership.user_id)
            .where(Membership.chat_id == chat_id, User.username_key == username)
        )


async def roles(db, chat_id: int) -> dict[str, str]:
    async with db.read() as session:
        rows = await session.execute(
            select(User.username, Membership.role)
            .join(User, User.id == Membership.user_id)
            .where(Membership.chat_id == chat_id)
        )
        return dict(rows.all())


def chat_item(page, chat_id: int):
    item = page.css_first(f"li#chat-{chat_id}")
    assert item is not None, f"chat {chat_id} is not in the list"
    return item


async def open_direct(person, username: str) -> int:
    response = await person.post("/chats/direct", {"username": username})
    assert response.status_code == 303, await response.get_data()
    return int(response.headers["Location"].rsplit("/", 1)[1])


XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"


# -- the chat list -----------------------------------------------------------------------


async def test_a_new_person_sees_no_chats_and_the_forms_to_start_one(alice):
    page = await alice.page("/chats")
    assert page.css_first("h1").text() == "Your chats"
    assert page.css("li.chat-item") == []
    assert "open" in page.css_first("details.new-chat").attributes
    group = page.css_first('form[action="/chats"]')
    assert group.css_first('input[name="title"]') is not None
    assert group.css_first('input[name="members"]') is not None
    direct = page.css_first('form[action="/chats/direct"]')
    assert direct.css_first('input[name="username"]') is not None


async def test_the_forms_to_start_a_chat_sit_behind_one_new_chat_control(alice, watercooler):
    """Open by itself for someone with no chat (test above) or with a form error, else
    one "New chat" control above the list: the list comes first on a phone."""
    page = await alice.page("/chats")
    [control] = page.css("details.new-chat")
    assert control.css_first("summary").text() == "New chat"
    assert "open" not in control.attributes
    assert control.css_first('form[action="/chats"]') is not None
    assert control.css_first('form[action="/chats/direct"]') is not None
    response = await alice.post("/chats", {"title": "", "members": ""})
    assert response.status_code in (400, 422)
    again = html(await response.get_data(as_text=True))
    assert "open" in again.css_first("details.new-chat").attributes
    assert again.css_first("details.new-chat .error") is not None


async def test_chat_list_shows_title_unread_count_and_last_message_preview(alice, bob, watercooler):
    await send(bob, watercooler, "first")
    await send(bob, watercooler, "and the latest")
    page = await alice.page("/chats")
    item = chat_item(page, watercooler)
    assert item.css_first(".chat-name").text() == "Watercooler"
    assert item.css_first("a.chat-link").attributes["href"] == f"/chats/{watercooler}#newest"
    assert item.css_first(".unread").text() == "2 unread"
    assert item.css_first(".chat-preview").text() == "Bob Dylan: and the latest"
    # When, quietly beside it: the time of the latest message.
    when = item.css_first("time.chat-when")
    assert when.attributes["datetime"].endswith("Z")
    # Today: the time of day, in UTC while no zone is known, and the page says so.
    assert re.fullmatch(r"\d{1,2}:\d\d\u202f[AP]M", when.text()), when.text()
    assert "Times are in UTC." in page.css_first(".zone-note").text()


async def test_unread_count_skips_what_was_read_the_readers_own_and_deleted_messages(
    alice, bob, db, watercooler
):
    for body in ("one", "two", "three", "four"):
        await send(bob, watercooler, body)
    await alice.post(f"/chats/{watercooler}/read", {"seq": "1"})
    await send(alice, watercooler, "my own")
    await bob.post(f"/chats/{watercooler}/messages/4/delete")

    item = chat_item(await alice.page("/chats"), watercooler)
    # After seq 1: two, three (four is deleted, five is alice's own).
    assert item.css_first(".unread").text() == "2 unread"
    # A deleted message is not previewed; the latest visible one is.
    # The reader's own latest message is "You:" in words (not only for sighted readers).
    assert item.css_first(".chat-preview").text() == "You: my own"
    assert (await membership(db, watercooler, "alice")).last_read_seq == 1
    # Bob has written everything but alice's message.
    bob_item = chat_item(await bob.page("/chats"), watercooler)
    assert bob_item.css_first(".unread").text() == "1 unread"


async def test_a_chat_without_messages_says_so_and_has_no_unread_count(alice, watercooler):
    item = chat_item(await alice.page("/chats"), watercooler)
    assert item.css_first(".unread") is None
    assert item.css_first(".chat-preview").text() == "No messages yet."


async def test_chat_list_puts_the_newest_activity_first(alice):
    first = await create_chat(alice, "First")
    second = await create_chat(alice, "Second")
    third = await create_chat(alice, "Third")

    page = await alice.page("/chats")
    assert [li.attributes["id"] for li in page.css("li.chat-item")] == [
        f"chat-{third}",
        f"chat-{second}",
        f"chat-{first}",
    ]
    await send(alice, first, "bump")
    page = await alice.page("/chats")
    assert [li.css_first(".chat-name").text() for li in page.css("li.chat-item")] == [
        "First",
        "Third",
        "Second",
    ]


async def test_chat_list_shows_only_the_readers_own_chats(alice, bob, carol, watercooler):
    await create_chat(carol, "Carol's corner")
    page = await bob.page("/chats")
    assert [li.css_first(".chat-name").text() for li in page.css("li.chat-item")] == ["Watercooler"]


async def test_a_direct_chat_is_named_after_the_other_person(alice, bob):
    chat_id = await open_direct(alice, "bob")
    alice_list = await alice.page("/chats")
    bob_list = await bob.page("/chats")
    assert chat_item(alice_list, chat_id).css_first(".chat-name").text() == "Bob Dylan"
    assert chat_item(bob_list, chat_id).css_first(".chat-name").text() == "Alice Liddell"
    assert (await alice.page(f"/chats/{chat_id}")).css_first("h1").text() == "Bob Dylan"
    assert (await bob.page(f"/chats/{chat_id}")).css_first("h1").text() == "Alice Liddell"


# -- signing in first --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/chats/{chat}",
        "/chats/{chat}/members",
    ],
)
async def test_chat_pages_send_visitors_to_login_and_back(people, watercooler, path):
    anonymous = people.anonymous()
    response = await anonymous.get(path.format(chat=watercooler))
    assert response.status_code == 303
    assert response.headers["Location"] == (
        f"/login?next=%2Fchats%2F{watercooler}" + ("%2Fmembers" if "members" in path else "")
    )


async def test_the_chat_list_sends_visitors_to_login(people):
    response = await people.anonymous().get("/chats")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login"


CHAT_ACTIONS = [
    ("/chats", {"title": "Hijacked", "members": "carol"}),
    ("/chats/direct", {"username": "carol"}),
    ("/chats/{chat}/members", {"members": "carol"}),
    ("/chats/{chat}/members/bob/remove", {}),
    ("/chats/{chat}/leave", {}),
    ("/chats/{chat}/rename", {"title": "Hijacked"}),
    ("/chats/{chat}/delete", {}),
]
ACTION_IDS = ["create", "direct", "add", "remove", "leave", "rename", "delete"]


@pytest.mark.parametrize(("path", "data"), CHAT_ACTIONS, ids=ACTION_IDS)
async def test_visitors_cannot_change_chats(people, carol, db, watercooler, path, data):
    await assert_visitors_go_to_login(people, db, path.format(chat=watercooler), data)


# -- guards: strangers, members without the right, CSRF ------------------------------------


STRANGER_REQUESTS = [
    ("GET", "/chats/{chat}", {}),
    ("GET", "/chats/{chat}/members", {}),
    ("POST", "/chats/{chat}/members", {"members": "carol"}),
    ("POST", "/chats/{chat}/members/bob/remove", {}),
    ("POST", "/chats/{chat}/leave", {}),
    ("POST", "/chats/{chat}/rename", {"title": "Mine now"}),
    ("POST", "/chats/{chat}/delete", {}),
]
STRANGER_IDS = ["show", "members", "add", "remove", "leave", "rename", "delete"]


@pytest.mark.parametrize(("method", "path", "data"), STRANGER_REQUESTS, ids=STRANGER_IDS)
async def test_strangers_get_the_same_404_as_for_a_chat_that_does_not_exist(
    carol, db, watercooler, method, path, data
):
    await assert_stranger_sees_404(carol, db, method, path, watercooler, data)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/chats/{chat}/members", {"members": "carol"}),
        ("/chats/{chat}/members/alice/remove", {}),
        ("/chats/{chat}/rename", {"title": "Bob's now"}),
        ("/chats/{chat}/delete", {}),
    ],
    ids=["add", "remove", "rename", "delete"],
)
async def test_only_the_owner_may_change_a_group_chat(bob, carol, db, watercooler, path, data):
    before = await snapshot(db)
    response = await bob.post(path.format(chat=watercooler), data)
    assert response.status_code == 403
    assert html(await response.get_data()).css_first("h1").text() == "You can't do that here"
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/chats/{chat}/members", {"members": "carol"}),
        ("/chats/{chat}/members/bob/remove", {}),
        ("/chats/{chat}/leave", {}),
        ("/chats/{chat}/rename", {"title": "Us two"}),
        ("/chats/{chat}/delete", {}),
    ],
    ids=["add", "remove", "leave", "rename", "delete"],
)
async def test_a_direct_chat_always_has_the_same_two_people(alice, bob, carol, db, path, data):
    chat_id = await open_direct(alice, "bob")
    before = await snapshot(db)
    response = await alice.post(path.format(chat=chat_id), data)
    assert response.status_code == 403
    assert "same two people" in html(await response.get_data()).css_first("main").text()
    assert await snapshot(db) == before


@pytest.mark.parametrize(("path", "data"), CHAT_ACTIONS, ids=ACTION_IDS)
async def test_chat_changes_need_this_sessions_csrf_token(
    people, alice, bob, carol, db, watercooler, path, data
):
    url = path.format(chat=watercooler)
    await assert_needs_this_sessions_token(people, alice, bob, db, url, data)


async def test_a_request_from_another_site_is_refused_even_with_a_token(alice, db, watercooler):
    before = await snapshot(db)
    response = await alice.post(
        f"/chats/{watercooler}/delete", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 403
    assert await snapshot(db) == before


# -- starting a group chat ---------------------------------------------------------------


async def test_creating_a_group_chat_makes_the_creator_its_owner(alice, bob, carol, db):
    response = await alice.post("/chats", {"title": "  Book   club ", "members": "bob, @carol"})
    assert response.status_code == 303
    chat_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert response.headers["Location"] == f"/chats/{chat_id}"
    async with db.read() as session:
        chat = await session.get(Chat, chat_id)
    assert (chat.kind, chat.title, chat.created_by) == (
        "group",
        "Book club",
        await user_id(db, "alice"),
    )
    assert (chat.last_seq, chat.last_rev) == (0, 0)
    assert await roles(db, chat_id) == {"alice": "owner", "bob": "member", "carol": "member"}
    assert chat_item(await carol.page("/chats"), chat_id).css_first(".chat-name").text() == (
        "Book club"
    )


@pytest.mark.parametrize(
    "members",
    ["bob carol", "bob,carol", "@bob , @carol", "bob\ncarol", "BOB, carol, bob", "bob carol alice"],
)
async def test_members_can_be_separated_by_commas_or_spaces(alice, bob, carol, db, members):
    chat_id = await create_chat(alice, "Separators", members)
    assert await roles(db, chat_id) == {"alice": "owner", "bob": "member", "carol": "member"}


async def test_a_group_chat_can_start_with_only_its_creator(alice, db):
    response = await alice.post("/chats", {"title": "Notes"})
    assert response.status_code == 303
    assert await count(db, Chat) == 1
    assert await count(db, Membership) == 1


async def test_creating_a_chat_with_an_unknown_member_creates_nothing(alice, bob, db):
    response = await alice.post("/chats", {"title": "Plans", "members": "bob, nobody"})
    assert response.status_code == 422
    page = html(await response.get_data())
    assert field_error(page, "members") == "No account with the username nobody."
    assert page.css_first("#title").attributes["value"] == "Plans"
    assert page.css_first("#members").attributes["value"] == "bob, nobody"
    assert await count(db, Chat) == 0
    assert await count(db, Membership) == 0


@pytest.mark.parametrize(
    ("title", "members", "field", "message"),
    [
        ("", "", "title", "Give the chat a title."),
        ("   ", "bob", "title", "Give the chat a title."),
        ("x" * 101, "", "title", "at most 100"),
        ("bell\u0007", "", "title", "visible characters"),
        ("Plans", "not/valid", "members", "is not a valid username"),
        ("Plans", "nobody noone", "members", "No accounts for: nobody, noone."),
    ],
)
async def test_creating_a_chat_with_bad_input_creates_nothing(
    alice, bob, db, title, members, field, message
):
    response = await alice.post("/chats", {"title": title, "members": members})
    assert response.status_code == 422
    page = html(await response.get_data())
    assert message in field_error(page, field)
    assert page.css_first("#title").attributes["value"] == title
    assert page.css_first("#members").attributes["value"] == members
    assert await count(db, Chat) == 0


async def test_creating_a_chat_without_a_title_field_is_malformed(alice, bob, db):
    response = await alice.post("/chats", {"members": "bob"})
    assert response.status_code == 400
    assert await count(db, Chat) == 0


# -- direct chats ------------------------------------------------------------------------


async def test_a_direct_chat_is_created_once_and_found_again_from_either_side(alice, bob, db):
    first = await open_direct(alice, "bob")
    again = await open_direct(alice, "@BOB")
    from_bob = await open_direct(bob, "alice")
    assert first == again == from_bob
    async with db.read() as session:
        chats = list(await session.scalars(select(Chat)))
    assert [(chat.id, chat.kind, chat.title) for chat in chats] == [(first, "direct", None)]
    assert await roles(db, first) == {"alice": "member", "bob": "member"}


async def test_each_pair_has_its_own_direct_chat(alice, bob, carol, db):
    with_bob = await open_direct(alice, "bob")
    with_carol = await open_direct(alice, "carol")
    bob_and_carol = await open_direct(bob, "carol")
    assert len({with_bob, with_carol, bob_and_carol}) == 3
    assert await count(db, Chat, Chat.kind == "direct") == 3


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("nobody", "No account with the username nobody."),
        ("<b>x</b>", "No account with the username <b>x</b>."),
        ("alice", "That is you."),
        ("@ALICE", "That is you."),
        ("", "Enter the username"),
        ("   ", "Enter the username"),
    ],
)
async def test_a_direct_chat_needs_someone_else_who_exists(alice, bob, db, username, message):
    response = await alice.post("/chats/direct", {"username": username})
    assert response.status_code == 422
    page = html(await response.get_data())
    assert field_error(page, "username").startswith(message)
    assert page.css_first("#username").attributes["value"] == username
    assert await count(db, Chat) == 0


async def test_a_direct_chat_without_a_username_field_is_malformed(alice, db):
    response = await alice.post("/chats/direct", {})
    assert response.status_code == 400
    assert await count(db, Chat) == 0


# -- the chat page -----------------------------------------------------------------------


async def test_chat_page_shows_the_latest_50_messages_with_links_to_older_and_newer(
    alice, db, watercooler
):
    for number in range(1, 61):
        await send(alice, watercooler, f"message {number}")
    author = await user_id(db, "alice")

    page = await alice.page(f"/chats/{watercooler}")
    # The list sits in the role="log" live region (an <ol> may not take that role).
    log = page.css_first('[role="log"]')
    assert log.attributes["aria-live"] == "polite"
    # One live region: the list inside it is not a second one (issue 15).
    assert "aria-live" not in log.css_first("ol#messages").attributes
    items = page.css("ol#messages > li.message")
    assert [item.attributes["data-seq"] for item in items] == [str(n) for n in range(11, 61)]
    first, last = items[0], items[-1]
    assert first.attributes["id"] == f"msg-{watercooler}-11"
    assert first.attributes["data-chat"] == str(watercooler)
    assert first.attributes["data-rev"] == "11"
    assert first.attributes["data-author"] == str(author)
    assert first.css_first(".message-body").text() == "message 11"
    assert last.attributes["id"] == f"msg-{watercooler}-60"
    assert last.css_first(".message-body").text() == "message 60"
    older = page.css_first(f'a[href="/chats/{watercooler}/messages?before=11"]')
    assert older is not None and older.text() == "Earlier messages"
    newer = page.css_first(f'a[href="/chats/{watercooler}/messages?after=60#newest"]')
    assert newer is not None and newer.text() == "Load new messages"


async def test_a_short_chat_has_no_link_to_older_messages(alice, watercooler):
    await send(alice, watercooler, "hello")
    page = await alice.page(f"/chats/{watercooler}")
    assert len(page.css("ol#messages > li.message")) == 1
    assert page.css('a[href*="before="]') == []
    assert page.css_first(f'a[href="/chats/{watercooler}/messages?after=1#newest"]') is not None


async def test_an_empty_chat_invites_the_first_message(alice, watercooler):
    page = await alice.page(f"/chats/{watercooler}")
    assert page.css("ol#messages > li.message") == []
    assert page.css_first(".empty").text() == "No messages yet. Say hello!"
    assert page.css_first(f'a[href="/chats/{watercooler}/messages?after=0#newest"]') is not None


async def test_chat_page_links_to_its_members_with_their_count(alice, carol, watercooler):
    page = await alice.page(f"/chats/{watercooler}")
    assert page.css_first("h1").text() == "Watercooler"
    link = page.css_first(f'a[href="/chats/{watercooler}/members"]')
    assert link.text() == "2 members and settings"
    await alice.post(f"/chats/{watercooler}/members", {"members": "carol"})
    page = await alice.page(f"/chats/{watercooler}")
    assert page.css_first(f'a[href="/chats/{watercooler}/members"]').text().startswith("3 members")


async def test_chat_page_has_a_composer_with_a_fresh_send_token(alice, watercooler):
    tokens = set()
    for _ in range(2):
        page = await alice.page(f"/chats/{watercooler}")
        composer = page.css_first(f'form#composer[action="/chats/{watercooler}/messages"]')
        assert composer.css_first('input[name="csrf_token"]').attributes["value"] == alice.token
        assert composer.css_first('textarea[name="body"]') is not None
        tokens.add(composer.css_first('input[name="client_token"]').attributes["value"])
    assert len(tokens) == 2


async def test_opening_a_chat_marks_it_read(alice, bob, db, watercooler):
    for body in ("one", "two", "three"):
        await send(bob, watercooler, body)
    assert chat_item(await alice.page("/chats"), watercooler).css_first(".unread").text() == (
        "3 unread"
    )
    await alice.page(f"/chats/{watercooler}")
    assert chat_item(await alice.page("/chats"), watercooler).css_first(".unread") is None
    assert (await membership(db, watercooler, "alice")).last_read_seq == 3
    # Only the reader's mark moves.
    assert (await membership(db, watercooler, "bob")).last_read_seq == 0


async def test_the_chat_page_lists_the_readers_chats_beside_it_the_open_one_marked(
    alice, bob, carol, watercooler
):
    corner = await create_chat(carol, "Carol's corner", "bob")
    direct = await open_direct(bob, "alice")
    await send(bob, direct, "are you there?")
    await send(bob, watercooler, "hello")
    page = await bob.page(f"/chats/{watercooler}")
    side = page.css_first('nav.chat-side[aria-labelledby="side-heading"]')
    assert page.css_first("#side-heading").text() == "Your chats"
    # The same list as /chats, newest activity first, and after the chat in the page.
    items = side.css("li.chat-item")
    assert [item.css_first(".chat-name").text() for item in items] == [
        "Watercooler",
        "Alice Liddell",
        "Carol's corner",
    ]
    assert page.html.index("chat-side") > page.html.index('id="composer"')
    opened = side.css_first(f"li#chat-{watercooler} a.chat-link")
    assert opened.attributes["aria-current"] == "page"
    assert [a.attributes.get("aria-current") for a in side.css("a.chat-link")][1:] == [None, None]
    assert side.css_first(f"#chat-preview-{watercooler}").text() == "You: hello"
    # Unread elsewhere is counted; the open chat has nothing unread: it is being read.
    await send(carol, corner, "news")
    await send(alice, watercooler, "and to you")
    side = (await bob.page(f"/chats/{watercooler}")).css_first("nav.chat-side")
    assert side.css_first(f"#unread-{corner} .unread").text() == "1 unread"
    assert side.css_first(f"#unread-{watercooler} .unread") is None
    assert side.css_first(".chat-list").attributes["data-refresh-url"] == "/chats?recent=20"
    assert side.css_first('a[href="/chats"]') is None  # all of them are here


async def test_the_side_list_holds_the_20_most_recent_chats_the_open_one_and_a_link_to_all(alice):
    chats = [await create_chat(alice, f"Chat {n}") for n in range(22)]
    page = await alice.page(f"/chats/{chats[1]}")
    side = page.css_first("nav.chat-side")
    names = [item.css_first(".chat-name").text() for item in side.css("li.chat-item")]
    # The 20 most recent, and the open one (too old to be among them) last, marked.
    assert names == [f"Chat {n}" for n in range(21, 1, -1)] + ["Chat 1"]
    assert side.css_first("a[aria-current=page]").text().strip() == "Chat 1"
    assert side.css_first('a[href="/chats"]').text() == "All chats"
    # The list as it comes anew after an outage (app.js): the same 20, as a fragment.
    fragment = await alice.get("/chats?recent=20", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    listed = html((await fragment.get_data()).decode()).css("li.chat-item .chat-name")
    assert [name.text() for name in listed] == names[:20]
    everything = await alice.get("/chats", headers={"HX-Request": "true"})
    assert (await everything.get_data()).decode().count('class="chat-item"') == 22


async def test_the_chat_list_page_comes_anew_whole(alice, watercooler):
    """After an outage the page fetches its list again (app.js): all of it."""
    page = await alice.page("/chats")
    url = page.css_first(".chat-list").attributes["data-refresh-url"]
    assert url == "/chats"
    fragment = await alice.get(url, headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert f'id="chat-{watercooler}"' in (await fragment.get_data()).decode()


@pytest.mark.parametrize("recent", ["0", "-1", "many", "1e3", "99999999999999999999"])
async def test_a_bad_recent_count_is_refused(alice, watercooler, recent):
    response = await alice.get(f"/chats?recent={recent}", headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "recent must be a whole number" in (await response.get_data()).decode()


# -- members -----------------------------------------------------------------------------


async def test_members_page_lists_everyone_with_the_owner_first(alice, bob, carol, watercooler):
    await alice.post(f"/chats/{watercooler}/members", {"members": "carol"})
    page = await bob.page(f"/chats/{watercooler}/members")
    assert page.css_first("h1").text() == "Members of Watercooler"
    members = page.css("li.member")
    assert [m.css_first(".member-name").text() for m in members] == [
        "Alice Liddell",
        "Bob Dylan",
        "Carol Danvers",
    ]
    assert [m.css_first(".member-username").text() for m in members] == [
        "@alice",
        "@bob",
        "@carol",
    ]
    assert [m.css_first(".badge") is not None for m in members] == [True, False, False]


async def test_only_the_owner_sees_the_forms_to_change_members(alice, bob, watercooler):
    owner = await alice.page(f"/chats/{watercooler}/members")
    member = await bob.page(f"/chats/{watercooler}/members")
    for path in ("members", "rename", "members/bob/remove"):
        action = f'form[action="/chats/{watercooler}/{path}"]'
        assert owner.css_first(action) is not None, path
        assert member.css_first(action) is None, path
    # Deleting and leaving ask first on a page of their own (issue 15): links to them.
    assert owner.css_first(f'a[href="/chats/{watercooler}/delete"]') is not None
    assert member.css_first(f'a[href="/chats/{watercooler}/delete"]') is None
    # Everyone may leave; nobody is offered to remove themselves.
    assert member.css_first(f'a[href="/chats/{watercooler}/leave"]') is not None
    assert owner.css_first(f'form[action="/chats/{watercooler}/members/alice/remove"]') is None


async def test_owner_adds_members_by_username(alice, bob, carol, people, db, watercooler):
    dave = await people("dave", "Dave Grohl")
    response = await alice.post(f"/chats/{watercooler}/members", {"members": "@Carol, dave bob"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/chats/{watercooler}/members"
    assert await roles(db, watercooler) == {
        "alice": "owner",
        "bob": "member",
        "carol": "member",
        "dave": "member",
    }
    assert (await dave.get(f"/chats/{watercooler}")).status_code == 200


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ("carol nobody", "No account with the username nobody."),
        ("", "Enter at least one username."),
        (" , ", "Enter at least one username."),
        ("carol <script>", "is not a valid username"),
    ],
)
async def test_adding_bad_usernames_adds_nobody(alice, carol, db, watercooler, members, message):
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/members", {"members": members})
    assert response.status_code == 422
    page = html(await response.get_data())
    assert message in field_error(page, "members")
    assert page.css_first("#members").attributes["value"] == members
    assert await snapshot(db) == before


async def test_adding_members_without_the_field_is_malformed(alice, carol, db, watercooler):
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/members", {})
    assert response.status_code == 400
    assert await snapshot(db) == before


async def test_owner_removes_a_member_who_then_cannot_open_the_chat(alice, bob, db, watercooler):
    await send(bob, watercooler, "still here")
    response = await alice.post(f"/chats/{watercooler}/members/bob/remove")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/chats/{watercooler}/members"
    assert await roles(db, watercooler) == {"alice": "owner"}
    assert (await bob.get(f"/chats/{watercooler}")).status_code == 404
    assert (await bob.page("/chats")).css(f"li#chat-{watercooler}") == []
    # Their messages stay in the chat.
    assert await count(db, Message, Message.chat_id == watercooler) == 1


async def test_removing_someone_who_is_not_in_the_chat_is_404(alice, carol, db, watercooler):
    before = await snapshot(db)
    for username in ("carol", "nobody"):
        response = await alice.post(f"/chats/{watercooler}/members/{username}/remove")
        assert response.status_code == 404
    assert await snapshot(db) == before


async def test_a_member_leaves_and_the_owner_stays(alice, bob, db, watercooler):
    response = await bob.post(f"/chats/{watercooler}/leave")
    assert response.status_code == 303
    assert response.headers["Location"] == "/chats"
    assert await roles(db, watercooler) == {"alice": "owner"}
    assert (await bob.get(f"/chats/{watercooler}")).status_code == 404


async def test_when_the_owner_leaves_the_longest_standing_member_takes_over(people, db):
    # carol signs up first (a lower user id) but joins the chat after bob.
    carol = await people("carol")
    bob = await people("bob")
    alice = await people("alice")
    chat_id = await create_chat(alice, "Relay", "bob")
    await alice.post(f"/chats/{chat_id}/members", {"members": "carol"})

    response = await alice.post(f"/chats/{chat_id}/leave")
    assert response.status_code == 303
    assert await roles(db, chat_id) == {"bob": "owner", "carol": "member"}
    assert (await alice.get(f"/chats/{chat_id}")).status_code == 404
    # The new owner can act as one.
    assert (await bob.post(f"/chats/{chat_id}/rename", {"title": "Bob's relay"})).status_code == 303
    assert (await carol.post(f"/chats/{chat_id}/rename", {"title": "No"})).status_code == 403


async def test_an_owner_who_removes_themselves_hands_the_chat_over(alice, bob, db, watercooler):
    response = await alice.post(f"/chats/{watercooler}/members/alice/remove")
    assert response.status_code == 303
    assert response.headers["Location"] == "/chats"
    assert await roles(db, watercooler) == {"bob": "owner"}
    assert (await alice.get(f"/chats/{watercooler}")).status_code == 404


async def test_a_direct_chats_members_page_offers_no_changes(alice, bob):
    chat_id = await open_direct(alice, "bob")
    page = await alice.page(f"/chats/{chat_id}/members")
    assert page.css_first("h1").text() == "Members of Bob Dylan"
    assert [m.css_first(".member-username").text() for m in page.css("li.member")] == [
        "@alice",
        "@bob",
    ]
    assert page.css(f'form[action^="/chats/{chat_id}/"]') == []


async def test_when_the_last_member_leaves_the_chat_is_deleted(alice, db):
    chat_id = await create_chat(alice, "Notes")
    await send(alice, chat_id, "remember the milk")
    response = await alice.post(f"/chats/{chat_id}/leave")
    assert response.status_code == 303
    assert await count(db, Chat) == 0
    assert await count(db, Membership) == 0
    assert await count(db, Message) == 0


async def test_owner_renames_the_chat(alice, bob, db, watercooler):
    response = await alice.post(f"/chats/{watercooler}/rename", {"title": "  Break   room "})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/chats/{watercooler}/members"
    async with db.read() as session:
        assert (await session.get(Chat, watercooler)).title == "Break room"
    assert (await bob.page(f"/chats/{watercooler}")).css_first("h1").text() == "Break room"
    page = await alice.page(f"/chats/{watercooler}/members")
    assert page.css_first("#title").attributes["value"] == "Break room"


@pytest.mark.parametrize(
    ("title", "message"),
    [("", "Give the chat a title."), ("   ", "Give the chat a title."), ("y" * 101, "at most 100")],
)
async def test_renaming_to_a_bad_title_keeps_the_old_one(alice, db, watercooler, title, message):
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/rename", {"title": title})
    assert response.status_code == 422
    page = html(await response.get_data())
    assert message in field_error(page, "title")
    assert page.css_first("#title").attributes["value"] == title
    assert await snapshot(db) == before


async def test_renaming_without_a_title_field_is_malformed(alice, db, watercooler):
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/rename", {})
    assert response.status_code == 400
    assert await snapshot(db) == before


async def test_owner_deletes_the_chat_for_everyone(alice, bob, db, watercooler):
    await send(bob, watercooler, "hello")
    await send(alice, watercooler, "bye")
    response = await alice.post(f"/chats/{watercooler}/delete")
    assert response.status_code == 303
    assert response.headers["Location"] == "/chats"
    for person in (alice, bob):
        assert (await person.get(f"/chats/{watercooler}")).status_code == 404
        assert (await person.page("/chats")).css("li.chat-item") == []
    assert await count(db, Chat) == 0
    assert await count(db, Membership) == 0
    assert await count(db, Message) == 0


# -- escaping ----------------------------------------------------------------------------


async def test_user_text_is_escaped_in_the_chat_list_chat_page_and_members_page(people, db):
    alice = await people("alice", "Alice")
    mallory = await people("mallory", XSS_IMG)
    title = XSS_SCRIPT + XSS_IMG
    body = XSS_IMG + " and " + XSS_SCRIPT
    group = await create_chat(alice, title, "mallory")
    direct = await open_direct(alice, "mallory")
    await send(mallory, group, body)
    await send(mallory, direct, body)

    chats = await alice.page("/chats")
    assert chat_item(chats, group).css_first(".chat-name").text() == title
    assert chat_item(chats, direct).css_first(".chat-name").text() == XSS_IMG
    assert chat_item(chats, group).css_first(".chat-preview").text() == f"{XSS_IMG}: {body}"
    chat = await alice.page(f"/chats/{group}")
    assert chat.css_first("h1").text() == title
    assert chat.css_first(".author").text() == XSS_IMG
    assert chat.css_first(".message-body").text() == body
    members = await alice.page(f"/chats/{group}/members")
    assert XSS_IMG in [node.text() for node in members.css(".member-name")]
    for page in (chats, chat, await alice.page(f"/chats/{direct}"), members):
        assert foreign_scripts(page) == []
        assert page.css("img") == []


async def test_people_added_later_do_not_find_the_history_unread(alice, carol, watercooler):
    for n in range(3):
        await send(alice, watercooler, f"before carol {n}")
    await alice.post(f"/chats/{watercooler}/members", {"members": "carol"})
    await send(alice, watercooler, "welcome, carol")
    page = await carol.page("/chats")
    item = page.css_first(f"li#chat-{watercooler}")
    assert item.css_first(".unread").text() == "1 unread"


async def test_the_chat_page_lists_its_members(alice, bob, watercooler):
    page = await bob.page(f"/chats/{watercooler}")
    panel = page.css_first("aside.chat-members")
    assert panel.css_first("h2").text() == "Members"
    names = [node.css_first(".member-name").text() for node in panel.css("#member-list li")]
    assert names == ["Alice Liddell", "Bob Dylan"]
    assert panel.css_first(f"li#member-{watercooler}-1 .badge").text() == "owner"


@pytest.mark.parametrize("title", ["\u200d", " \u200d\u200b "])
async def test_a_title_of_invisible_characters_is_no_title(alice, db, title):
    response = await alice.post("/chats", {"title": title, "members": ""})
    assert response.status_code == 422
    assert field_error(html(await response.get_data()), "title") == "Give the chat a title."
    assert await count(db, Chat) == 0


# -- size of a chat ------------------------------------------------------------------------


async def test_a_chat_cannot_grow_past_the_member_limit(app, alice, bob, carol, people, db):
    app.extensions["settings"] = replace(app.extensions["settings"], max_members=3)
    await people("dave")
    too_many = await alice.post("/chats", {"title": "Crowd", "members": "bob carol dave"})
    assert too_many.status_code == 422
    assert field_error(html(await too_many.get_data()), "members") == (
        "A chat can have at most 3 people."
    )
    assert await count(db, Chat) == 0

    chat = await create_chat(alice, "Crowd", "bob carol")  # exactly the limit
    before = await snapshot(db)
    refused = await alice.post(f"/chats/{chat}/members", {"members": "dave"})
    assert refused.status_code == 422
    assert field_error(html(await refused.get_data()), "members") == (
        "A chat can have at most 3 people."
    )
    assert await snapshot(db) == before
    # Naming people who are already in does not count twice.
    again = await alice.post(f"/chats/{chat}/members", {"members": "bob carol"})
    assert again.status_code == 303
    # Once someone leaves, there is room again.
    assert (await carol.post(f"/chats/{chat}/leave")).status_code == 303
    assert (await alice.post(f"/chats/{chat}/members", {"members": "dave"})).status_code == 303
    assert await count(db, Membership, Membership.chat_id == chat) == 3
