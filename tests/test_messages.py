"""Posting, editing and deleting messages; older pages, newer pages, catch-up; read marks."""

from __future__ import annotations

import re

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

HTMX = {"HX-Request": "true"}
XSS_SCRIPT = "<script>alert(1)</script>"
XSS_IMG = "<img src=x onerror=alert(1)>"

# -- helpers -----------------------------------------------------------------------------


async def messages_in(db, chat_id: int) -> list[Message]:
    async with db.read() as session:
        query = select(Message).where(Message.chat_id == chat_id).order_by(Message.seq)
        return list(await session.scalars(query))


async def message_at(db, chat_id: int, seq: int) -> Message | None:
    async with db.read() as session:
        return await session.scalar(
            select(Message).where(Message.chat_id == chat_id, Message.seq == seq)
        )


async def chat_row(db, chat_id: int) -> Chat:
    async with db.read() as session:
        return await session.get(Chat, chat_id)


async def last_read_seq(db, chat_id: int, username: str) -> int:
    async with db.read() as session:
        return await session.scalar(
            select(Membership.last_read_seq)
            .join(User, User.id == Membership.user_id)
            .where(Membership.chat_id == chat_id, User.username_key == username)
        )


def seqs(page) -> list[int]:
    return [int(item.attributes["data-seq"]) for item in page.css("li.message")]


def item(page, chat_id: int, seq: int):
    node = page.css_first(f"li#msg-{chat_id}-{seq}")
    assert node is not None, f"message {seq} is not on the page"
    return node


def raw_item(body: str, chat_id: int, seq: int) -> str:
    """The bytes of one rendered message, exactly as sent."""
    match = re.search(rf'<li id="msg-{chat_id}-{seq}".*?</li>', body, re.DOTALL)
    assert match is not None, f"message {seq} is not in the response"
    return match.group(0)


async def fragment(person, path: str) -> tuple[str, object]:
    """An htmx request: the raw text and its parsed elements, checked to be messages
    (<li>) or elements that name their own target (data-hx-swap-oob)."""
    response = await person.get(path, headers=HTMX)
    assert response.status_code == 200
    text = (await response.get_data()).decode()
    assert "<html" not in text.lower() and "<!doctype" not in text.lower()
    page = html(text)
    for node in page.body.iter():
        assert node.tag == "li" or "data-hx-swap-oob" in node.attributes, node.html
    return text, page


async def post_many(person, chat_id: int, count: int, prefix: str = "message") -> None:
    for number in range(1, count + 1):
        response = await send(person, chat_id, f"{prefix} {number}")
        assert response.status_code == 303


# -- posting -----------------------------------------------------------------------------


async def test_posting_a_message_stores_it_and_goes_to_it(alice, bob, db, watercooler):
    response = await send(alice, watercooler, "  Hello,\r\n  world!  \n", client_token="tok-1")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/chats/{watercooler}#msg-{watercooler}-1"
    [message] = await messages_in(db, watercooler)
    assert message.body == "Hello,\n  world!"
    assert (message.seq, message.rev, message.client_token) == (1, 1, "tok-1")
    assert message.author_id == await user_id(db, "alice")
    assert (message.edited_at, message.deleted_at) == (None, None)
    chat = await chat_row(db, watercooler)
    assert (chat.last_seq, chat.last_rev) == (1, 1)

    page = await bob.page(f"/chats/{watercooler}")
    shown = item(page, watercooler, 1)
    assert shown.css_first(".author").text() == "Alice Liddell"
    # Each line escaped on its own, joined by <br> (SPEC §5: text browsers ignore CSS).
    body = shown.css_first(".message-body")
    # Stored as typed (above); shown as Markdown shows it: a line break, and a paragraph's
    # lines without their leading white space.
    assert body.html == '<p class="message-body" dir="auto">Hello,<br>world!</p>'
    assert shown.css_first(".message-edited") is None


async def test_seq_counts_up_from_one_without_gaps_in_each_chat(alice, bob, db, watercooler):
    other = await create_chat(bob, "Other")
    for number in range(1, 6):
        person = alice if number % 2 else bob
        response = await send(person, watercooler, f"number {number}")
        assert response.headers["Location"].endswith(f"#msg-{watercooler}-{number}")
    await send(bob, other, "elsewhere")
    messages = await messages_in(db, watercooler)
    assert [m.seq for m in messages] == [1, 2, 3, 4, 5]
    assert [m.rev for m in messages] == [1, 2, 3, 4, 5]
    assert [m.body for m in messages] == [f"number {n}" for n in range(1, 6)]
    assert [m.seq for m in await messages_in(db, other)] == [1]


async def test_the_same_client_token_twice_stores_one_message(alice, db, watercooler):
    await send(alice, watercooler, "before")
    first = await send(alice, watercooler, "only once", client_token="same-token")
    again = await send(alice, watercooler, "only once", client_token="same-token")
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    assert first.headers["Location"].endswith(f"#msg-{watercooler}-2")
    messages = await messages_in(db, watercooler)
    assert [(m.seq, m.body) for m in messages] == [(1, "before"), (2, "only once")]
    chat = await chat_row(db, watercooler)
    assert (chat.last_seq, chat.last_rev) == (2, 2)


async def test_different_client_tokens_store_two_messages(alice, bob, db, watercooler):
    await send(alice, watercooler, "twice", client_token="token-a")
    await send(alice, watercooler, "twice", client_token="token-b")
    # A token is the sender's own: bob's post with alice's token is his message.
    await send(bob, watercooler, "twice", client_token="token-a")
    messages = await messages_in(db, watercooler)
    assert [(m.seq, m.body) for m in messages] == [(1, "twice"), (2, "twice"), (3, "twice")]


async def test_a_message_from_htmx_is_stored_and_answered_with_no_content(alice, db, watercooler):
    response = await alice.client.post(
        f"/chats/{watercooler}/messages",
        form={"body": "from htmx", "client_token": "hx-1"},
        headers={**HTMX, "X-CSRF-Token": alice.token},
    )
    assert response.status_code == 204
    assert [m.body for m in await messages_in(db, watercooler)] == ["from htmx"]


async def test_a_4000_character_message_is_accepted(alice, db, watercooler):
    response = await send(alice, watercooler, "x" * 4000 + "   ")
    assert response.status_code == 303
    assert len((await message_at(db, watercooler, 1)).body) == 4000


@pytest.mark.parametrize(
    ("body", "client_token", "message"),
    [
        ("", "t1", "Write a message first."),
        ("  \n\t  ", "t1", "Write a message first."),
        ("x" * 4001, "t1", "at most 4000 characters (this one has 4001)"),
        ("ring \u0007 ring", "t1", "cannot be shown"),
        ("hello", "not a token!", "send token is malformed"),
    ],
    ids=["empty", "whitespace", "too-long", "control-character", "bad-token"],
)
async def test_a_bad_message_is_not_stored_and_the_text_is_kept(
    alice, db, watercooler, body, client_token, message
):
    before = await snapshot(db)
    response = await send(alice, watercooler, body, client_token=client_token)
    assert response.status_code == 422
    page = html(await response.get_data())
    assert message in field_error(page, "body")
    assert page.css_first("#body").text() == body
    # The whole chat page comes back, composer included.
    assert page.css_first("h1").text() == "Watercooler"
    assert page.css_first("ol#messages") is not None
    assert await snapshot(db) == before


async def test_a_refused_post_does_not_mark_the_chat_read(alice, bob, db, watercooler):
    """The chat page that comes back with the error is not a visit (found by fuzzing)."""
    await send(alice, watercooler, "hi")
    before = await snapshot(db)
    response = await send(bob, watercooler, "x" * 4001)
    assert response.status_code == 422
    assert await last_read_seq(db, watercooler, "bob") == 0
    assert await snapshot(db) == before


async def test_posting_without_a_body_field_is_malformed(alice, db, watercooler):
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/messages", {"client_token": "t"})
    assert response.status_code == 400
    assert await snapshot(db) == before


# -- editing and deleting ----------------------------------------------------------------


async def test_the_edit_form_shows_the_current_text(alice, watercooler):
    await send(alice, watercooler, "typo hre")
    page = await alice.page(f"/chats/{watercooler}/messages/1/edit")
    form = page.css_first(f'form[action="/chats/{watercooler}/messages/1/edit"]')
    assert form.css_first("textarea#body").text() == "typo hre"
    assert form.css_first('input[name="csrf_token"]').attributes["value"] == alice.token
    # Deleting asks first, on a page of its own (issue 15): a link, not a button by Save.
    assert page.css_first(f'a[href="/chats/{watercooler}/messages/1/delete"]') is not None


async def test_the_author_edits_a_message(alice, bob, db, watercooler):
    await send(alice, watercooler, "typo hre")
    await send(bob, watercooler, "ha")
    response = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": " typo here "})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/chats/{watercooler}#msg-{watercooler}-1"
    message = await message_at(db, watercooler, 1)
    assert message.body == "typo here"
    assert message.rev == 3
    assert message.edited_at is not None and message.deleted_at is None
    chat = await chat_row(db, watercooler)
    assert (chat.last_seq, chat.last_rev) == (2, 3)

    shown = item(await bob.page(f"/chats/{watercooler}"), watercooler, 1)
    assert shown.css_first(".message-body").text() == "typo here"
    assert shown.css_first(".message-edited").text() == "(edited)"
    assert shown.attributes["data-rev"] == "3"


async def test_saving_the_same_text_changes_nothing(alice, db, watercooler):
    await send(alice, watercooler, "fine as it is")
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "fine as it is "})
    assert response.status_code == 303
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write a message first."), ("   ", "Write a message first."), ("y" * 4001, "4000")],
    ids=["empty", "whitespace", "too-long"],
)
async def test_editing_to_a_bad_body_keeps_the_message(alice, db, watercooler, body, message):
    await send(alice, watercooler, "keep me")
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": body})
    assert response.status_code == 422
    page = html(await response.get_data())
    assert message in field_error(page, "body")
    assert page.css_first("#body").text() == body
    assert await snapshot(db) == before


async def test_editing_without_a_body_field_is_malformed(alice, db, watercooler):
    await send(alice, watercooler, "keep me")
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/messages/1/edit", {})
    assert response.status_code == 400
    assert await snapshot(db) == before


async def test_only_the_author_can_change_a_message(alice, bob, db, watercooler):
    await send(alice, watercooler, "mine")
    before = await snapshot(db)
    assert (await bob.get(f"/chats/{watercooler}/messages/1/edit")).status_code == 403
    edit = await bob.post(f"/chats/{watercooler}/messages/1/edit", {"body": "yours now"})
    assert edit.status_code == 403
    assert "Only the author" in html(await edit.get_data()).css_first("main").text()
    assert (await bob.post(f"/chats/{watercooler}/messages/1/delete")).status_code == 403
    assert await snapshot(db) == before


async def test_deleting_keeps_a_tombstone(alice, bob, db, watercooler):
    await send(alice, watercooler, "regrettable")
    await send(bob, watercooler, "what?")
    response = await alice.post(f"/chats/{watercooler}/messages/1/delete")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/chats/{watercooler}#msg-{watercooler}-1"
    message = await message_at(db, watercooler, 1)
    assert message.body == ""
    assert message.deleted_at is not None
    assert message.rev == 3
    assert await count(db, Message) == 2
    assert (await chat_row(db, watercooler)).last_rev == 3

    response = await bob.get(f"/chats/{watercooler}")
    assert b"regrettable" not in await response.get_data()
    tombstone = item(html(await response.get_data()), watercooler, 1)
    assert "message-deleted" in tombstone.attributes["class"].split()
    assert tombstone.css_first(".message-body").text() == "Message deleted"
    assert tombstone.attributes["data-rev"] == "3"
    assert tombstone.css_first(".actions") is None


async def test_a_deleted_message_cannot_be_edited_or_deleted_again(alice, db, watercooler):
    await send(alice, watercooler, "gone soon")
    await alice.post(f"/chats/{watercooler}/messages/1/delete")
    before = await snapshot(db)
    assert (await alice.get(f"/chats/{watercooler}/messages/1/edit")).status_code == 403
    edit = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "back again"})
    assert edit.status_code == 403
    assert (await alice.post(f"/chats/{watercooler}/messages/1/delete")).status_code == 403
    assert await snapshot(db) == before


async def test_changing_a_message_that_does_not_exist_is_404(alice, db, watercooler):
    await send(alice, watercooler, "only one")
    before = await snapshot(db)
    assert (await alice.get(f"/chats/{watercooler}/messages/2/edit")).status_code == 404
    edit = await alice.post(f"/chats/{watercooler}/messages/2/edit", {"body": "x"})
    assert edit.status_code == 404
    assert (await alice.post(f"/chats/{watercooler}/messages/2/delete")).status_code == 404
    assert await snapshot(db) == before


# -- older pages, newer pages, catch-up --------------------------------------------------


async def test_older_messages_are_a_page_without_javascript(alice, watercooler):
    await post_many(alice, watercooler, 60)
    page = await alice.page(f"/chats/{watercooler}/messages?before=11")
    assert page.css_first("h1").text() == "Earlier messages in Watercooler"
    assert seqs(page) == list(range(1, 11))
    assert item(page, watercooler, 1).css_first(".message-body").text() == "message 1"
    assert page.css('a[href*="before="]') == []
    assert page.css_first(f'a[href="/chats/{watercooler}#newest"]') is not None

    page = await alice.page(f"/chats/{watercooler}/messages?before=61")
    assert seqs(page) == list(range(11, 61))
    assert page.css_first(f'a[href="/chats/{watercooler}/messages?before=11"]') is not None

    page = await alice.page(f"/chats/{watercooler}/messages?before=1")
    assert seqs(page) == []
    assert "There are no earlier messages." in page.css_first("main").text()


async def test_older_messages_are_a_fragment_for_htmx(alice, watercooler):
    await post_many(alice, watercooler, 60)
    _text, page = await fragment(alice, f"/chats/{watercooler}/messages?before=11")
    assert seqs(page) == list(range(1, 11))
    # Nothing older: the link to earlier messages replaces itself with nothing.
    older = page.css_first(f"p#older-{watercooler}")
    assert older.attributes["data-hx-swap-oob"] == "true" and older.css_first("a") is None
    _text, page = await fragment(alice, f"/chats/{watercooler}/messages?before=61")
    assert seqs(page) == list(range(11, 61))
    link = page.css_first(f"p#older-{watercooler} a")
    assert link.attributes["data-hx-get"] == f"/chats/{watercooler}/messages?before=11"
    assert all("data-hx-swap-oob" not in li.attributes for li in page.css("li.message"))


async def test_newer_messages_come_as_they_are_now_with_tombstones(alice, bob, db, watercooler):
    await post_many(alice, watercooler, 4)
    await alice.post(f"/chats/{watercooler}/messages/2/edit", {"body": "message 2, fixed"})
    await alice.post(f"/chats/{watercooler}/messages/3/delete")

    page = await bob.page(f"/chats/{watercooler}/messages?after=1")
    assert page.css_first("h1").text() == "Newer messages in Watercooler"
    assert seqs(page) == [2, 3, 4]
    edited = item(page, watercooler, 2)
    assert edited.css_first(".message-body").text() == "message 2, fixed"
    assert edited.css_first(".message-edited").text() == "(edited)"
    assert item(page, watercooler, 3).css_first(".message-body").text() == "Message deleted"
    assert item(page, watercooler, 4).css_first(".message-body").text() == "message 4"
    # Seeing the newer messages reads them.
    assert await last_read_seq(db, watercooler, "bob") == 4

    _text, page = await fragment(bob, f"/chats/{watercooler}/messages?after=2")
    assert seqs(page) == [3, 4]
    page = await bob.page(f"/chats/{watercooler}/messages?after=4")
    assert seqs(page) == []
    assert "No new messages yet." in page.css_first("main").text()


async def test_catch_up_returns_every_change_after_a_rev_in_seq_order(alice, bob, db, watercooler):
    await post_many(alice, watercooler, 3)  # revs 1, 2, 3
    await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "first, edited"})  # 4
    await send(bob, watercooler, "message 4")  # rev 5
    await alice.post(f"/chats/{watercooler}/messages/2/delete")  # rev 6

    _text, page = await fragment(bob, f"/chats/{watercooler}/messages?since=3")
    assert seqs(page) == [1, 2, 4]
    assert [node.attributes["data-rev"] for node in page.css("li.message")] == ["4", "6", "5"]
    assert item(page, watercooler, 1).css_first(".message-body").text() == "first, edited"
    assert item(page, watercooler, 2).css_first(".message-body").text() == "Message deleted"

    _text, page = await fragment(bob, f"/chats/{watercooler}/messages?since=5")
    assert seqs(page) == [2]
    _text, page = await fragment(bob, f"/chats/{watercooler}/messages?since=0")
    assert seqs(page) == [1, 2, 3, 4]
    _text, page = await fragment(bob, f"/chats/{watercooler}/messages?since=6")
    assert page.css("li") == []

    page = await bob.page(f"/chats/{watercooler}/messages?since=4")
    assert seqs(page) == [2, 4]


async def test_catch_up_carries_the_chats_current_title(alice, bob, watercooler):
    """A page that was offline through a rename learns the new title on reconnect."""
    await alice.post(f"/chats/{watercooler}/rename", {"title": "Kitchen"})
    _text, page = await fragment(bob, f"/chats/{watercooler}/messages?since=0")
    heading = page.css_first(f"h1#chat-title-{watercooler}")
    assert heading.text() == "Kitchen"
    assert heading.attributes["data-hx-swap-oob"] == "true"
    assert page.css_first(f"#chat-name-{watercooler}").text() == "Kitchen"


@pytest.mark.parametrize(
    "query",
    [
        "before=abc",
        "after=-1",
        "since=1.5",
        "before=",
        "since=%201",
        "after=1234567890123",
        "before=1&after=2",
        "after=1&since=1",
        "before=1&after=1&since=1",
        "page=2",
        "before=%C2%B2",  # "²": str.isdigit() says yes, int() says no
    ],
)
async def test_messages_need_exactly_one_whole_number_to_start_from(alice, db, watercooler, query):
    await send(alice, watercooler, "hello")
    before = await snapshot(db)
    response = await alice.get(f"/chats/{watercooler}/messages?{query}")
    assert response.status_code == 400
    assert html(await response.get_data()).css("li.message") == []
    assert await snapshot(db) == before


async def test_messages_without_a_query_lead_back_to_the_chat(alice, watercooler):
    response = await alice.get(f"/chats/{watercooler}/messages")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/chats/{watercooler}"


# -- read marks --------------------------------------------------------------------------


async def test_reading_moves_the_mark_forward_only_and_never_past_the_last_message(
    alice, bob, db, watercooler
):
    await post_many(alice, watercooler, 5)

    response = await bob.post(f"/chats/{watercooler}/read", {"seq": "3"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/chats/{watercooler}"
    assert await last_read_seq(db, watercooler, "bob") == 3
    unread = (await bob.page("/chats")).css_first(f"#chat-{watercooler} .unread")
    assert unread.text() == "2 unread"

    await bob.post(f"/chats/{watercooler}/read", {"seq": "1"})
    assert await last_read_seq(db, watercooler, "bob") == 3

    await bob.post(f"/chats/{watercooler}/read", {"seq": "99"})
    assert await last_read_seq(db, watercooler, "bob") == 5
    assert (await bob.page("/chats")).css_first(f"#chat-{watercooler} .unread") is None
    # Only the reader's own mark moved.
    assert await last_read_seq(db, watercooler, "alice") == 0


async def test_reading_from_htmx_answers_with_no_content(bob, alice, db, watercooler):
    await post_many(alice, watercooler, 2)
    response = await bob.client.post(
        f"/chats/{watercooler}/read",
        form={"seq": "2"},
        headers={**HTMX, "X-CSRF-Token": bob.token},
    )
    assert response.status_code == 204
    assert await last_read_seq(db, watercooler, "bob") == 2


@pytest.mark.parametrize(
    "form", [{}, {"seq": ""}, {"seq": "abc"}, {"seq": "-1"}, {"seq": "2.0"}, {"seq": "\u00b2"}]
)
async def test_reading_needs_a_whole_number(alice, bob, db, watercooler, form):
    await post_many(alice, watercooler, 3)
    before = await snapshot(db)
    response = await bob.post(f"/chats/{watercooler}/read", form)
    assert response.status_code == 400
    assert await snapshot(db) == before


# -- the one partial ---------------------------------------------------------------------


async def test_the_message_partial_is_the_same_for_every_reader(alice, bob, watercooler):
    await send(alice, watercooler, "alice's, later edited")
    await send(bob, watercooler, "bob's")
    await send(alice, watercooler, "alice's, later deleted")
    await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "alice's, edited"})
    await alice.post(f"/chats/{watercooler}/messages/3/delete")

    # A page may add what is true only for its reader (SPEC §5): the edit link under
    # their own messages and no other. Without it, every rendering is the same.
    edit_link = r' <a class="edit" .*?</a>'
    mine = {"alice": {1}, "bob": {2}}  # 3 is deleted: no link for anyone
    renderings = []
    for person in (alice, bob):
        page = (await (await person.get(f"/chats/{watercooler}")).get_data()).decode()
        text, _ = await fragment(person, f"/chats/{watercooler}/messages?since=0")
        # Catch-up is an upsert like a live frame: the same element, naming its target.
        assert 'data-hx-swap-oob="true"' in text
        renderings += [page, text.replace(' data-hx-swap-oob="true"', "")]
        for seq in (1, 2, 3):
            shown = raw_item(page, watercooler, seq)
            assert ('class="edit"' in shown) == (seq in mine[person.username])
    for seq in (1, 2, 3):
        items = {
            re.sub(edit_link, "", raw_item(rendering, watercooler, seq)) for rendering in renderings
        }
        assert len(items) == 1, items


# -- guards: visitors, strangers, CSRF ---------------------------------------------------


@pytest.mark.parametrize(
    ("path", "next_path"),
    [
        ("/chats/{chat}/messages?before=5", "%2Fchats%2F{chat}%2Fmessages%3Fbefore%3D5"),
        ("/chats/{chat}/messages?since=0", "%2Fchats%2F{chat}%2Fmessages%3Fsince%3D0"),
        ("/chats/{chat}/messages/1/edit", "%2Fchats%2F{chat}%2Fmessages%2F1%2Fedit"),
    ],
)
async def test_message_pages_send_visitors_to_login_and_back(
    people, alice, watercooler, path, next_path
):
    await send(alice, watercooler, "hello")
    response = await people.anonymous().get(path.format(chat=watercooler))
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?next=" + next_path.format(chat=watercooler)


MESSAGE_ACTIONS = [
    ("/chats/{chat}/messages", {"body": "sneaky", "client_token": "t"}),
    ("/chats/{chat}/messages/1/edit", {"body": "sneaky"}),
    ("/chats/{chat}/messages/1/delete", {}),
    ("/chats/{chat}/read", {"seq": "1"}),
]
ACTION_IDS = ["post", "edit", "delete", "read"]


@pytest.mark.parametrize(("path", "data"), MESSAGE_ACTIONS, ids=ACTION_IDS)
async def test_visitors_cannot_change_messages(people, alice, db, watercooler, path, data):
    await send(alice, watercooler, "hello")
    await assert_visitors_go_to_login(people, db, path.format(chat=watercooler), data)


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/chats/{chat}/messages?before=2", {}),
        ("GET", "/chats/{chat}/messages?after=0", {}),
        ("GET", "/chats/{chat}/messages?since=0", {}),
        ("GET", "/chats/{chat}/messages/1/edit", {}),
        ("POST", "/chats/{chat}/messages", {"body": "let me in", "client_token": "t"}),
        ("POST", "/chats/{chat}/messages", {"body": "   ", "client_token": "t"}),
        ("POST", "/chats/{chat}/messages/1/edit", {"body": "mine now"}),
        ("POST", "/chats/{chat}/messages/1/delete", {}),
        ("POST", "/chats/{chat}/read", {"seq": "1"}),
    ],
    ids=["before", "after", "since", "edit-form", "post", "post-blank", "edit", "delete", "read"],
)
async def test_strangers_get_the_same_404_as_for_a_chat_that_does_not_exist(
    alice, carol, db, watercooler, method, path, data
):
    await send(alice, watercooler, "members only")
    body = await assert_stranger_sees_404(carol, db, method, path, watercooler, data)
    assert b"members only" not in body


@pytest.mark.parametrize(("path", "data"), MESSAGE_ACTIONS, ids=ACTION_IDS)
async def test_message_changes_need_this_sessions_csrf_token(
    people, alice, bob, db, watercooler, path, data
):
    await send(alice, watercooler, "hello")  # seq 1: alice may edit, delete and read it
    url = path.format(chat=watercooler)
    await assert_needs_this_sessions_token(people, alice, bob, db, url, data)
    before = await snapshot(db)
    # The htmx header with a wrong token is refused too.
    response = await alice.client.post(
        path.format(chat=watercooler), form=data, headers={**HTMX, "X-CSRF-Token": bob.token}
    )
    assert response.status_code == 403
    assert await snapshot(db) == before


# -- escaping ----------------------------------------------------------------------------


async def test_user_text_is_escaped_in_every_message_view(people, db):
    alice = await people("alice", "Alice")
    mallory = await people("mallory", XSS_SCRIPT)
    chat_id = await create_chat(alice, XSS_IMG, "mallory")
    body = XSS_SCRIPT + XSS_IMG
    await send(mallory, chat_id, body)
    await send(mallory, chat_id, "soon edited")
    await mallory.post(f"/chats/{chat_id}/messages/2/edit", {"body": XSS_IMG})

    views = [
        (await alice.get(f"/chats/{chat_id}/messages?before=3")),
        (await alice.get(f"/chats/{chat_id}/messages?after=0")),
        (await alice.get(f"/chats/{chat_id}/messages?since=0")),
        (await alice.get(f"/chats/{chat_id}/messages?after=0", headers=HTMX)),
        (await alice.get(f"/chats/{chat_id}/messages?since=0", headers=HTMX)),
        (await alice.get(f"/chats/{chat_id}/messages?before=3", headers=HTMX)),
        (await mallory.get(f"/chats/{chat_id}/messages/1/edit")),
    ]
    for response in views:
        assert response.status_code == 200
        text = (await response.get_data()).decode()
        page = html(text)
        assert foreign_scripts(page) == [] and page.css("img") == []
        assert "<script>" not in text and "<img" not in text
    page = html(await views[3].get_data())
    assert [n.text() for n in page.css(".message-body")] == [body, XSS_IMG]
    assert {n.text() for n in page.css(".author")} == {XSS_SCRIPT}
    edit_form = html(await views[-1].get_data())
    assert edit_form.css_first("textarea#body").text() == body


async def test_a_message_of_invisible_characters_is_refused(alice, watercooler, db):
    response = await send(alice, watercooler, "\u200d\u2060")
    assert response.status_code == 422
    assert field_error(html(await response.get_data()), "body") == "Write a message first."
    assert await count(db, Message) == 0


async def test_a_long_run_of_new_messages_links_to_the_rest(alice, watercooler, monkeypatch):
    from vibechat import queries

    monkeypatch.setattr(queries, "CATCH_UP_LIMIT", 3)
    for n in range(5):
        await send(alice, watercooler, f"m{n}")
    page = await alice.page(f"/chats/{watercooler}/messages?after=0")
    assert [int(li.attributes["data-seq"]) for li in page.css("li.message")] == [1, 2, 3]
    more = page.css_first(f'a[href="/chats/{watercooler}/messages?after=3#newest"]')
    assert more is not None and more.text() == "More new messages"
    rest = await alice.page(f"/chats/{watercooler}/messages?after=3")
    assert [int(li.attributes["data-seq"]) for li in rest.css("li.message")] == [4, 5]
    assert rest.css_first(f'a[href="/chats/{watercooler}/messages?after=5"]') is None


async def test_catch_up_says_up_to_which_rev_it_is_complete(alice, watercooler, monkeypatch):
    from vibechat import queries

    for n in range(5):
        await send(alice, watercooler, f"m{n}")
    await alice.post(f"/chats/{watercooler}/messages/2/edit", {"body": "m1, fixed"})  # rev 6
    response = await alice.get(f"/chats/{watercooler}/messages?since=3", headers=HTMX)
    assert response.headers["X-Vibechat-Rev"] == "6"
    assert "X-Vibechat-More" not in response.headers
    assert seqs(html(await response.get_data())) == [2, 4, 5]

    monkeypatch.setattr(queries, "CATCH_UP_LIMIT", 2)
    # Asking again from each answer's rev walks through every change exactly once
    # (message 2 was edited: its current state has rev 6, so it comes last).
    since, pages = 0, []
    while True:
        answer = await alice.get(f"/chats/{watercooler}/messages?since={since}", headers=HTMX)
        pages.append(seqs(html(await answer.get_data())))
        since = int(answer.headers["X-Vibechat-Rev"])
        if "X-Vibechat-More" not in answer.headers:
            break
    assert pages == [[1, 3], [4, 5], [2]]
    assert since == 6
