"""A person's page (GET /people/<username>) and the messages that mention the reader
(GET /mentions), through the in-process app (SPEC §10)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from tests.support.db import snapshot, user_id
from tests.support.html import html
from tests.support.people import create_chat, send
from vibechat import queries
from vibechat.models import utcnow

RU = {"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}


# -- helpers -----------------------------------------------------------------------------


async def say(person, chat_id: int, body: str) -> int:
    """Send a message; its seq."""
    response = await send(person, chat_id, body)
    assert response.status_code == 303, await response.get_data()
    return int(response.headers["Location"].rsplit("-", 1)[1])


def mentions_shown(page) -> list[tuple[int, int]]:
    """(chat, seq) of each message on a /mentions page, in order."""
    return [
        (int(item.attributes["data-chat"]), int(item.attributes["data-seq"]))
        for item in page.css(".mention-item li.message")
    ]


def earlier_link(page):
    return page.css_first('main a[href^="/mentions?before="]')


# -- a person's page ---------------------------------------------------------------------


async def test_a_mention_links_to_the_persons_page_which_offers_to_message_them(
    alice, bob, watercooler
):
    await say(bob, watercooler, "@alice, lunch?")
    chat = await bob.page(f"/chats/{watercooler}")
    [mention] = chat.css("#messages a.mention")
    assert mention.attributes["href"] == "/people/alice"

    page = await bob.page("/people/alice")
    assert page.css_first("h1").text() == "Alice Liddell"
    assert "@alice" in page.css_first("main").text()
    form = page.css_first('main form[action="/chats/direct"]')
    assert form.attributes["method"] == "post"
    assert form.css_first('input[name="username"]').attributes["value"] == "alice"
    assert form.css_first('input[name="csrf_token"]').attributes["value"] == bob.token
    assert form.css_first("button[type=submit]").text() == "Send a message"

    response = await bob.post("/chats/direct", {"username": "alice"})
    assert response.status_code == 303
    direct = response.headers["Location"]
    assert re.fullmatch(r"/chats/\d+", direct) and direct != f"/chats/{watercooler}"
    again = await bob.post("/chats/direct", {"username": "alice"})
    assert again.headers["Location"] == direct  # the same chat the second time


async def test_a_persons_page_is_found_whatever_the_case_of_the_username(alice, bob, watercooler):
    for spelling in ("ALICE", "Alice", "aLiCe"):
        page = await bob.page(f"/people/{spelling}")
        assert page.css_first("h1").text() == "Alice Liddell"
        username = page.css_first('main input[name="username"]').attributes["value"]
        assert username == "alice"


async def test_someone_who_shares_no_chat_is_not_found_like_nobody(
    alice, bob, carol, db, watercooler
):
    before = await snapshot(db)
    stranger = await carol.get("/people/alice")
    nobody = await carol.get("/people/nobody-at-all")
    assert stranger.status_code == nobody.status_code == 404
    assert await stranger.get_data() == await nobody.get_data()
    assert html(await stranger.get_data()).css_first("h1").text() == "Not found"
    for junk in ("a", "x" * 33, "al%00ice", "al ice", "%D0%B0%D0%BB%D0%B8%D1%81%D0%B0"):
        assert (await carol.get(f"/people/{junk}")).status_code == 404, junk
    assert await snapshot(db) == before


async def test_sharing_only_a_direct_chat_is_enough_to_see_each_other(alice, carol):
    response = await alice.post("/chats/direct", {"username": "carol"})
    assert response.status_code == 303
    assert (await carol.page("/people/alice")).css_first("h1").text() == "Alice Liddell"
    assert (await alice.page("/people/carol")).css_first("h1").text() == "Carol Danvers"


async def test_after_leaving_the_last_shared_chat_the_person_is_not_found(alice, bob, watercooler):
    assert (await bob.get("/people/alice")).status_code == 200
    response = await bob.post(f"/chats/{watercooler}/leave")
    assert response.status_code == 303
    assert (await bob.get("/people/alice")).status_code == 404
    assert (await alice.get("/people/bob")).status_code == 404


async def test_the_readers_own_page_says_it_is_them_and_offers_no_button(alice):
    page = await alice.page("/people/alice")
    assert page.css_first("h1").text() == "Alice Liddell"
    assert "This is you" in page.css_first("main").text()
    assert page.css_first('main form[action="/chats/direct"]') is None
    assert page.css("main button") == []


async def test_a_deactivated_persons_page_offers_no_button(alice, bob, db, watercooler):
    async with db.write() as session:
        await queries.set_deactivated(session, await user_id(db, "alice"), utcnow())
        await session.commit()
    page = await bob.page("/people/alice")
    assert page.css_first("h1").text() == "Alice Liddell"
    assert "deactivated" in page.css_first("main").text()
    assert page.css_first('main form[action="/chats/direct"]') is None


async def test_a_display_name_is_shown_as_text(people, bob):
    mallory = await people("mallory", "<script>alert(1)</script>")
    await mallory.post("/chats/direct", {"username": "bob"})
    page = await bob.page("/people/mallory")
    assert page.css_first("h1").text() == "<script>alert(1)</script>"
    assert [s for s in page.css("script") if not s.attributes.get("src")] == []


@pytest.mark.parametrize("path", ["/people/alice", "/mentions", "/mentions?before=5"])
async def test_visitors_are_sent_to_log_in_and_come_back(people, alice, path):
    response = await people.anonymous().get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == "/login?" + urlencode({"next": path})


# -- mentions ----------------------------------------------------------------------------


async def test_mentions_are_newest_first_under_their_chats_names(alice, bob, carol, watercooler):
    lunch = await create_chat(bob, "Lunch", "alice carol")
    first = await say(bob, watercooler, "@alice the kettle is on")
    await say(bob, watercooler, "no mention of anyone here")
    await say(carol, lunch, "@bob only")
    second = await say(carol, lunch, "what about @alice?")
    direct = await bob.post("/chats/direct", {"username": "alice"})
    direct_chat = int(direct.headers["Location"].rsplit("/", 1)[1])
    third = await say(bob, direct_chat, "hey @Alice")

    page = await alice.page("/mentions")
    assert page.css_first("h1").text() == "Mentions"
    assert mentions_shown(page) == [(direct_chat, third), (lunch, second), (watercooler, first)]
    names = [item.css_first("h2").text() for item in page.css(".mention-item")]
    assert names == ["Bob Dylan", "Lunch", "Watercooler"]
    # Each message is the chat's own partial: its text, its author, its mention of alice.
    item = page.css(".mention-item")[1]
    assert "what about" in item.css_first(".message-body").text()
    assert item.css_first(".author").text() == "Carol Danvers"
    assert item.css_first("a.mention").attributes["href"] == "/people/alice"
    assert earlier_link(page) is None
    # No reaction shown, so no form for reaction buttons (it would be a stray form).
    assert page.css_first("form#react") is None
    # Nobody else's mentions.
    assert mentions_shown(await carol.page("/mentions")) == []


async def test_each_mention_links_to_its_message_in_context(alice, bob, watercooler):
    for n in range(3):
        await say(bob, watercooler, f"filler {n}")
    seq = await say(bob, watercooler, "@alice look")
    page = await alice.page("/mentions")
    [link] = page.css(".mention-item > .link-line a")
    href = link.attributes["href"]
    assert href == f"/chats/{watercooler}?around={seq}#msg-{watercooler}-{seq}"
    assert link.text() == "Show in context"
    target = await alice.page(href.split("#")[0])
    assert target.css_first(f"#msg-{watercooler}-{seq}") is not None


async def test_twenty_five_mentions_make_a_page_of_twenty_and_one_of_five(alice, bob, watercooler):
    seqs = [await say(bob, watercooler, f"@alice number {n}") for n in range(25)]
    newest_first = [(watercooler, seq) for seq in reversed(seqs)]

    page = await alice.page("/mentions")
    assert mentions_shown(page) == newest_first[:20]
    link = earlier_link(page)
    assert link is not None and link.text() == "Earlier mentions"

    rest = await alice.page(link.attributes["href"])
    assert mentions_shown(rest) == newest_first[20:]
    assert earlier_link(rest) is None
    assert rest.css_first('main a[href="/mentions"]') is not None  # back to the newest


async def test_exactly_twenty_mentions_are_one_page_without_an_earlier_link(
    alice, bob, watercooler
):
    for n in range(20):
        await say(bob, watercooler, f"@alice {n}")
    page = await alice.page("/mentions")
    assert len(mentions_shown(page)) == 20
    assert earlier_link(page) is None


async def test_mentions_in_a_chat_the_reader_left_are_not_shown(alice, bob, carol, watercooler):
    lunch = await create_chat(carol, "Lunch", "bob")
    await say(bob, watercooler, "@bob in the watercooler")
    kept = await say(carol, lunch, "@bob at lunch")
    response = await bob.post(f"/chats/{watercooler}/leave")
    assert response.status_code == 303
    assert mentions_shown(await bob.page("/mentions")) == [(lunch, kept)]


async def test_deleted_and_edited_away_mentions_are_not_shown(alice, bob, watercooler):
    deleted = await say(bob, watercooler, "@alice soon gone")
    edited = await say(bob, watercooler, "@alice soon unsaid")
    kept = await say(bob, watercooler, "@alice stays")
    assert (await bob.post(f"/chats/{watercooler}/messages/{deleted}/delete")).status_code == 303
    response = await bob.post(
        f"/chats/{watercooler}/messages/{edited}/edit", {"body": "nobody in particular"}
    )
    assert response.status_code == 303
    assert mentions_shown(await alice.page("/mentions")) == [(watercooler, kept)]


async def test_no_mentions_is_a_friendly_page(alice):
    page = await alice.page("/mentions")
    assert page.css(".mention-item") == []
    text = page.css_first("main").text()
    assert "Nobody has mentioned you yet" in text and "@alice" in text


@pytest.mark.parametrize("before", ["abc", "-1", "1.5", "", "٣", "99999999999999999999"])
async def test_a_bad_before_is_a_400_that_changes_nothing(alice, bob, db, watercooler, before):
    await say(bob, watercooler, "@alice hi")
    state = await snapshot(db)
    response = await alice.get("/mentions", query_string={"before": before})
    assert response.status_code == 400
    assert "before" in html(await response.get_data()).css_first("main").text()
    assert await snapshot(db) == state


async def test_a_page_past_the_oldest_mention_says_there_are_no_earlier_ones(
    alice, bob, watercooler
):
    await say(bob, watercooler, "@alice hi")
    page = await alice.page("/mentions?before=1")
    assert mentions_shown(page) == []
    assert "no earlier mentions" in page.css_first("main").text()


async def test_every_signed_in_page_links_to_mentions_in_the_header(alice, watercooler):
    for path in ("/chats", f"/chats/{watercooler}", "/account", "/people/alice"):
        page = await alice.page(path)
        link = page.css_first('header nav a[href="/mentions"]')
        assert link is not None and link.text() == "Mentions", path
        assert "aria-current" not in link.attributes, path
    here = (await alice.page("/mentions")).css_first('header nav a[href="/mentions"]')
    assert here.attributes["aria-current"] == "page"


async def test_no_header_link_to_mentions_when_signed_out(people):
    page = html(await (await people.anonymous().get("/login")).get_data())
    assert page.css_first('a[href="/mentions"]') is None


# -- in Russian --------------------------------------------------------------------------


async def test_a_persons_page_speaks_russian(alice, bob, watercooler):
    page = html(await (await bob.get("/people/alice", headers=RU)).get_data())
    assert page.css_first("html").attributes["lang"] == "ru"
    assert page.css_first("main button[type=submit]").text() == "Написать сообщение"
    own = html(await (await alice.get("/people/alice", headers=RU)).get_data())
    assert "Это вы" in own.css_first("main").text()


async def test_mentions_speak_russian(alice, bob, watercooler):
    empty = html(await (await alice.get("/mentions", headers=RU)).get_data())
    assert empty.css_first("h1").text() == "Упоминания"
    assert empty.css_first('header nav a[href="/mentions"]').text() == "Упоминания"
    assert "Вас пока никто не упоминал" in empty.css_first("main").text()
    for n in range(21):
        await say(bob, watercooler, f"@alice {n}")
    page = html(await (await alice.get("/mentions", headers=RU)).get_data())
    links = {a.text() for a in page.css(".mention-item .link-line a")}
    assert links == {"Показать в переписке"}
    assert earlier_link(page).text() == "Более ранние упоминания"
