"""What a message can say besides its text (SPEC §10): replies, mentions, reactions; a
chat opened around one message; where the reader left off. Over HTTP (Quart's test
client) and the live channel; the same in Chromium: tests/test_replies_reactions_browser.py."""

from __future__ import annotations

import pytest

from tests.support.checks import assert_stranger_sees_404
from tests.support.db import count, snapshot, user_id
from tests.support.html import field_error, html
from tests.support.live import live
from tests.support.people import create_chat, send
from vibechat import queries
from vibechat.models import Reaction, message_mentions

HTMX = {"HX-Request": "true"}


def item(page, chat_id: int, seq: int):
    node = page.css_first(f"li#msg-{chat_id}-{seq}")
    assert node is not None, f"message {seq} is not on the page"
    return node


async def reply(person, chat_id: int, body: str, reply_to, **extra):
    form = {"body": body, "reply_to": str(reply_to), **extra}
    return await person.post(f"/chats/{chat_id}/messages", form)


async def react(person, chat_id: int, seq: int, emoji: str, **kwargs):
    return await person.post(
        f"/chats/{chat_id}/messages/{seq}/reactions", {"emoji": emoji}, **kwargs
    )


async def reactions_on(db, chat_id: int, seq: int) -> list[tuple[int, str]]:
    async with db.read() as session:
        message = await queries.message_at(session, chat_id, seq)
        return sorted((reaction.user_id, reaction.emoji) for reaction in message.reactions)


async def mentioned_ids(db, chat_id: int, seq: int) -> list[int]:
    async with db.read() as session:
        message = await queries.message_at(session, chat_id, seq)
        return [person.id for person in message.mentioned]


# -- replies -----------------------------------------------------------------------------


async def test_a_reply_quotes_its_original_and_links_to_it_in_context(alice, bob, watercooler):
    await send(alice, watercooler, "Lunch at **one**?")
    response = await reply(bob, watercooler, "Yes, see you there", 1)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#msg-{watercooler}-2")
    page = await bob.page(f"/chats/{watercooler}")
    quote = item(page, watercooler, 2).css_first("a.quote")
    assert quote is not None
    assert quote.attributes["href"] == f"/chats/{watercooler}?around=1#msg-{watercooler}-1"
    assert quote.css_first("b").text() == "Alice Liddell"
    # The words as they read (marks dropped), after "Reply to" for screen readers.
    assert quote.css_first(".visually-hidden").text().strip() == "Reply to"
    assert quote.text().endswith("Lunch at one?")
    assert item(page, watercooler, 1).css_first("a.quote") is None


async def test_a_quote_holds_the_first_140_characters(alice, bob, watercooler):
    await send(alice, watercooler, "x" * 139 + "yz" + " more words")
    await reply(bob, watercooler, "ok", 1)
    quote = item(await bob.page(f"/chats/{watercooler}"), watercooler, 2).css_first(".quote")
    assert quote.css_first("span[dir]").text() == "x" * 139 + "y…"


async def test_editing_or_deleting_the_original_updates_its_quotes_live_and_on_catch_up(
    alice, bob, watercooler
):
    await send(alice, watercooler, "first words")
    await reply(bob, watercooler, "a reply", 1)
    await reply(bob, watercooler, "another reply", 1)
    selector = f"#msg-{watercooler}-2"
    async with live(bob.client) as bob_ws:
        await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "better words"})
        frame = await bob_ws.until(selector)
        assert "better words" in frame.top(selector).css_first(".quote").text()
        frame = await bob_ws.until(f"#msg-{watercooler}-3")
        assert "better words" in frame.top(f"#msg-{watercooler}-3").css_first(".quote").text()

        await alice.post(f"/chats/{watercooler}/messages/1/delete")
        frame = await bob_ws.until(selector)
        quote = frame.top(selector).css_first(".quote")
        assert "Message deleted" in quote.text() and "better" not in quote.text()

    # A page that was away asks for everything since the rev it held: the replies too.
    text = (
        await (await bob.get(f"/chats/{watercooler}/messages?since=3", headers=HTMX)).get_data()
    ).decode()
    caught_up = html(text)
    for seq in (2, 3):
        assert "Message deleted" in item(caught_up, watercooler, seq).css_first(".quote").text()


@pytest.mark.parametrize("reply_to", ["99", "0", "abc", "-1", "1.5", "²", "9" * 12])
async def test_a_reply_to_a_message_that_is_not_in_the_chat_is_refused(
    alice, bob, db, watercooler, reply_to
):
    await send(alice, watercooler, "hello")
    before = await snapshot(db)
    response = await reply(bob, watercooler, "my answer", reply_to)
    assert response.status_code == 422
    page = html(await response.get_data())
    assert "not found in this chat" in field_error(page, "body")
    assert page.css_first("textarea[name=body]").text() == "my answer"  # kept
    assert await snapshot(db) == before


async def test_a_reply_to_a_message_of_another_chat_is_refused(alice, bob, db, watercooler):
    other = await create_chat(alice, "Elsewhere", "bob")
    await send(alice, other, "one")
    await send(alice, other, "two")
    before = await snapshot(db)
    response = await reply(bob, watercooler, "my answer", 2)  # seq 2 exists only there
    assert response.status_code == 422
    assert await snapshot(db) == before


async def test_the_reply_link_opens_the_composer_replying(alice, bob, watercooler):
    await send(alice, watercooler, "Question?")
    page = await bob.page(f"/chats/{watercooler}")
    link = item(page, watercooler, 1).css_first(".actions a")
    assert link.text() == "Reply"
    assert link.attributes["href"] == f"/chats/{watercooler}?reply_to=1#composer"
    page = await bob.page(f"/chats/{watercooler}?reply_to=1")
    box = page.css_first("form#composer .replying")
    assert "hidden" not in box.attributes
    assert "Question?" in box.text() and "Alice" in box.text()
    assert box.css_first("input[name=reply_to]").attributes["value"] == "1"
    # Without ?reply_to the box is there for the script, hidden and empty.
    box = (await bob.page(f"/chats/{watercooler}")).css_first("form#composer .replying")
    assert "hidden" in box.attributes
    assert box.css_first("input[name=reply_to]").attributes["value"] == ""


@pytest.mark.parametrize("query", ["reply_to=abc", "around=abc", "around=-1"])
async def test_junk_in_the_chat_pages_query_is_a_400(alice, watercooler, query):
    response = await alice.get(f"/chats/{watercooler}?{query}")
    assert response.status_code == 400


# -- mentions ----------------------------------------------------------------------------


async def test_a_mention_of_a_member_links_to_their_page_and_is_listed(
    alice, bob, carol, db, watercooler
):
    # carol is not in the chat: her name stays text.
    await send(alice, watercooler, "Thanks @bob and @carol, and `@bob` in code")
    page = await bob.page(f"/chats/{watercooler}")
    message = item(page, watercooler, 1)
    links = message.css(".message-body a.mention")
    assert [(link.text(), link.attributes["href"]) for link in links] == [("@bob", "/people/bob")]
    assert message.attributes["data-mentions"] == str(await user_id(db, "bob"))
    assert "@carol" in message.css_first(".message-body").text()
    assert message.css_first(".message-body code").text() == "@bob"
    assert await mentioned_ids(db, watercooler, 1) == [await user_id(db, "bob")]


async def test_a_message_without_mentions_has_no_data_mentions(alice, watercooler):
    await send(alice, watercooler, "mail bob@example.com, @nobody")
    message = item(await alice.page(f"/chats/{watercooler}"), watercooler, 1)
    assert "data-mentions" not in message.attributes
    assert message.css_first("a.mention") is None


async def test_an_edit_changes_who_is_mentioned(alice, bob, db, watercooler):
    await send(alice, watercooler, "hi @bob")
    assert await mentioned_ids(db, watercooler, 1) == [await user_id(db, "bob")]
    await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "hi @alice"})
    assert await mentioned_ids(db, watercooler, 1) == [await user_id(db, "alice")]
    await alice.post(f"/chats/{watercooler}/messages/1/delete")
    assert await count(db, message_mentions) == 0


async def test_the_readers_stylesheet_marks_mentions_of_them_in_words(alice, db):
    me = await user_id(db, "alice")
    css = await (await alice.get(f"/style/mine-{me}.css")).get_data(as_text=True)
    assert f'.message[data-mentions~="{me}"]' in css
    assert "mentions you" in css
    assert f'.reactions [data-users~="{me}"]' in css


# -- reactions ---------------------------------------------------------------------------


async def test_a_reaction_toggles_and_shows_its_count_and_who(alice, bob, db, watercooler):
    await send(alice, watercooler, "Shipped!")
    response = await react(bob, watercooler, 1, "🎉")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/chats/{watercooler}#msg-{watercooler}-1")
    assert (await react(alice, watercooler, 1, "🎉", headers=HTMX)).status_code == 204
    page = await alice.page(f"/chats/{watercooler}")
    [button] = item(page, watercooler, 1).css(".reactions button")
    assert button.attributes["data-emoji"] == "🎉"
    assert button.attributes["data-count"] == "2"
    assert button.attributes["form"] == "react"
    assert button.attributes["formaction"] == f"/chats/{watercooler}/messages/1/reactions"
    assert button.attributes["value"] == "🎉"
    ids = {await user_id(db, "alice"), await user_id(db, "bob")}
    assert set(map(int, button.attributes["data-users"].split())) == ids
    # For screen readers and on hover: who.
    assert button.css_first(".visually-hidden").text() == ": Bob Dylan and Alice Liddell"
    assert button.attributes["title"] == "Bob Dylan and Alice Liddell"
    # The page has the form every button submits, with this session's token.
    form = page.css_first("form#react")
    assert form.css_first("input[name=csrf_token]").attributes["value"] == alice.token

    await react(bob, watercooler, 1, "🎉")  # again: taken back
    [button] = item(await alice.page(f"/chats/{watercooler}"), watercooler, 1).css(
        ".reactions button"
    )
    assert button.attributes["data-count"] == "1"
    await react(alice, watercooler, 1, "🎉")
    assert (
        item(await alice.page(f"/chats/{watercooler}"), watercooler, 1).css_first(".reactions")
        is None
    )
    assert await reactions_on(db, watercooler, 1) == []


async def test_an_emoji_and_its_text_style_twin_are_one_reaction(alice, bob, db, watercooler):
    await send(alice, watercooler, "love it")
    await react(alice, watercooler, 1, "❤")
    await react(bob, watercooler, 1, " ❤️ ")
    assert {emoji for _user, emoji in await reactions_on(db, watercooler, 1)} == {"❤️"}


async def test_a_reaction_reaches_open_pages_and_catch_up_with_a_new_rev(alice, bob, watercooler):
    await send(alice, watercooler, "Shipped!")
    selector = f"#msg-{watercooler}-1"
    async with live(alice.client) as alice_ws:
        await react(bob, watercooler, 1, "👍")
        frame = await alice_ws.until(selector)
        shown = frame.top(selector)
        assert shown.attributes["data-rev"] == "2"
        assert shown.css_first('.reactions [data-emoji="👍"]').attributes["data-count"] == "1"
    text = (
        await (await alice.get(f"/chats/{watercooler}/messages?since=1", headers=HTMX)).get_data()
    ).decode()
    assert 'data-emoji="👍"' in item(html(text), watercooler, 1).html


@pytest.mark.parametrize(
    "emoji, error",
    [
        ("", "Choose an emoji."),
        ("   ", "Choose an emoji."),
        ("yes", "single emoji"),
        ("👍👍", "single emoji"),
        ("👍 ok", "single emoji"),
        ("👍" * 40, "single emoji"),
        ("<script>", "single emoji"),
    ],
)
async def test_an_emoji_field_that_is_not_one_emoji_is_a_422(
    alice, bob, db, watercooler, emoji, error
):
    await send(alice, watercooler, "hello")
    before = await snapshot(db)
    response = await react(bob, watercooler, 1, emoji)
    assert response.status_code == 422
    page = html(await response.get_data())
    assert error in field_error(page, "emoji")
    assert await snapshot(db) == before


async def test_a_reaction_form_without_the_field_is_a_400(alice, bob, db, watercooler):
    await send(alice, watercooler, "hello")
    before = await snapshot(db)
    response = await bob.post(f"/chats/{watercooler}/messages/1/reactions", {})
    assert response.status_code == 400
    assert await snapshot(db) == before


async def test_a_21st_different_reaction_is_refused(alice, bob, db, watercooler):
    await send(alice, watercooler, "react away")
    palette = "😀😃😄😁😆😅🤣😂🙂🙃😉😊😇🥰😍🤩😘😗😚😙"
    assert len(palette) == queries.REACTIONS_MAX
    async with db.write() as session:
        message = await queries.message_at(session, watercooler, 1)
        chat = (await queries.membership_in(session, watercooler, message.author)).chat
        for emoji in palette:
            await queries.toggle_reaction(session, chat, message, message.author_id, emoji)
        await session.commit()
    before = await snapshot(db)
    response = await react(bob, watercooler, 1, "🥳")
    assert response.status_code == 422
    assert "at most 20 different reactions" in field_error(html(await response.get_data()), "emoji")
    assert await snapshot(db) == before
    # One of the twenty is still everyone's to add to.
    assert (await react(bob, watercooler, 1, "😀")).status_code == 303
    assert await count(db, Reaction) == 21


async def test_a_deleted_or_missing_message_takes_no_reaction(alice, bob, db, watercooler):
    await send(alice, watercooler, "soon gone")
    await alice.post(f"/chats/{watercooler}/messages/1/delete")
    before = await snapshot(db)
    assert (await react(bob, watercooler, 1, "👍")).status_code == 403
    assert (await bob.get(f"/chats/{watercooler}/messages/1/reactions")).status_code == 403
    assert (await react(bob, watercooler, 7, "👍")).status_code == 404
    assert await snapshot(db) == before


async def test_deleting_a_message_drops_its_reactions(alice, bob, db, watercooler):
    await send(alice, watercooler, "hello")
    await react(bob, watercooler, 1, "👋")
    await alice.post(f"/chats/{watercooler}/messages/1/delete")
    assert await count(db, Reaction) == 0


async def test_strangers_can_neither_see_nor_react(alice, carol, db, watercooler):
    await send(alice, watercooler, "members only")
    path = "/chats/{chat}/messages/1/reactions"
    await assert_stranger_sees_404(carol, db, "GET", path, watercooler, None)
    await assert_stranger_sees_404(carol, db, "POST", path, watercooler, {"emoji": "👍"})


async def test_the_reaction_page_offers_quick_reactions_and_the_ones_given(alice, bob, watercooler):
    await send(alice, watercooler, "pick one")
    await react(alice, watercooler, 1, "🚀")
    page = await bob.page(f"/chats/{watercooler}/messages/1/reactions")
    quick = [button.attributes["value"] for button in page.css(".quick-reactions button")]
    assert quick[:2] == ["👍", "❤️"] and len(quick) == 8
    given = page.css(".reaction-list li")
    assert len(given) == 1 and "🚀 1" in given[0].text() and "Alice" in given[0].text()
    # Every form on it carries the token: it works in a text browser.
    for form in page.css("main form"):
        assert form.css_first("input[name=csrf_token]") is not None, form.html
    response = await bob.post(f"/chats/{watercooler}/messages/1/reactions", {"emoji": quick[0]})
    assert response.status_code == 303


# -- in context, and where the reader left off -------------------------------------------


async def post_many(db, chat_id: int, username: str, n: int) -> None:
    async with db.write() as session:
        author = await queries.user_by_username(session, username)
        chat = (await queries.membership_in(session, chat_id, author, lock=True)).chat
        for number in range(1, n + 1):
            await queries.post_message(session, chat, author, f"message {number}", None)
        await session.commit()


async def test_around_shows_the_message_with_25_on_each_side_and_links_both_ways(
    alice, bob, db, watercooler
):
    await post_many(db, watercooler, "alice", 120)
    page = await bob.page(f"/chats/{watercooler}?around=60")
    seqs = [int(node.attributes["data-seq"]) for node in page.css("li.message")]
    assert seqs == list(range(35, 86))
    assert page.css_first(f"#older-{watercooler} a").attributes["href"] == (
        f"/chats/{watercooler}/messages?before=35"
    )
    later = [link.attributes["href"] for link in page.css(".later a")]
    assert later == [
        f"/chats/{watercooler}?around=111#msg-{watercooler}-86",
        f"/chats/{watercooler}#newest",
    ]
    # Live messages are not put after a gap: the list says it does not end at the newest.
    assert page.css_first("ol#messages").attributes["data-more-after"] == ".later a"


async def test_around_the_newest_is_the_chat_as_usual(alice, bob, db, watercooler):
    await post_many(db, watercooler, "alice", 30)
    page = await bob.page(f"/chats/{watercooler}?around=29")
    seqs = [int(node.attributes["data-seq"]) for node in page.css("li.message")]
    assert seqs == list(range(4, 31))
    assert page.css_first(".later") is None
    assert "data-more-after" not in page.css_first("ol#messages").attributes


@pytest.mark.parametrize("around", ["0", "31", "2147483647"])
async def test_around_a_message_the_chat_does_not_have_is_a_404(
    alice, bob, db, watercooler, around
):
    await post_many(db, watercooler, "alice", 30)
    response = await bob.get(f"/chats/{watercooler}?around={around}")
    assert response.status_code == 404


async def test_new_messages_are_marked_where_the_reader_left_off(alice, bob, db, watercooler):
    await send(alice, watercooler, "seen")
    await bob.page(f"/chats/{watercooler}")  # bob reads up to 1
    await send(bob, watercooler, "bob's own, not news to him")
    await send(alice, watercooler, "news 1")
    await send(alice, watercooler, "news 2")
    page = await bob.page(f"/chats/{watercooler}")
    items = page.css("ol#messages > li")
    kinds = [
        "divider"
        if "unread-divider" in node.attributes["class"]
        else node.attributes.get("data-seq")
        for node in items
        if "day" not in node.attributes["class"].split()
    ]
    assert kinds == ["1", "2", "divider", "3", "4"]
    assert page.css_first("#unread-divider h3").text() == "New messages"
    # Read now: the next visit has no divider.
    assert (await bob.page(f"/chats/{watercooler}")).css_first("#unread-divider") is None
    # Nor when all that came since is the reader's own.
    await send(bob, watercooler, "bob again")
    assert (await bob.page(f"/chats/{watercooler}")).css_first("#unread-divider") is None


async def test_hostile_names_and_words_in_quotes_and_reactions_stay_text(people, alice, db):
    name = "\"><img src=x onerror=alert(1)><b title='x"
    mallory = await people("mallory", name)
    chat = await create_chat(alice, "Hostile", "mallory")
    words = "<script>alert(2)</script> **bold** [x](javascript:alert(3))"
    await send(mallory, chat, words)
    await reply(alice, chat, "answer", 1)
    await react(mallory, chat, 2, "👍")
    page = await alice.page(f"/chats/{chat}")
    for node in page.css("main *"):
        assert node.tag not in ("script", "img"), node.html
        assert not [attribute for attribute in node.attributes if attribute.startswith("on")]
    quote = item(page, chat, 2).css_first(".quote")
    assert quote.css_first("b").text() == name
    # The words, marks dropped; a link that is not one stays as typed.
    assert quote.text().endswith("<script>alert(2)</script> bold [x](javascript:alert(3))")
    button = item(page, chat, 2).css_first(".reactions button")
    assert button.attributes["title"] == name
    assert button.css_first(".visually-hidden").text() == ": " + name


async def test_the_reaction_form_and_the_reply_words_are_there_only_when_needed(
    alice, bob, watercooler
):
    """Text browsers show what `hidden` hides: no stray form, no empty reply box words."""
    await send(alice, watercooler, "hello")
    page = await bob.page(f"/chats/{watercooler}")
    assert page.css_first("form#react") is None
    box = page.css_first("form#composer .replying")
    assert "hidden" in box.attributes and box.text().strip() == ""
    # The script's words for the box wait in data-*.
    assert (box.attributes["data-to"], box.attributes["data-cancel"]) == (
        "Replying to",
        "Cancel reply",
    )
    await react(alice, watercooler, 1, "👍")
    page = await bob.page(f"/chats/{watercooler}")
    assert page.css_first("form#react input[name=csrf_token]") is not None
