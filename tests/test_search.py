"""Search (SPEC §11) through the in-process app: what is found and what never is, the
query language, the page's words and structure, and bad input. `make test-postgres`
runs this module on PostgreSQL; the index itself is tested on both databases at the
end of the module."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from tests.support.db import make_group, make_user, post
from tests.support.html import html
from tests.support.people import create_chat, send
from vibechat import queries, schema, search
from vibechat.db import Database

RU = {"Accept-Language": "ru-RU,ru;q=0.9"}
HTMX = {"HX-Request": "true"}


# -- helpers -----------------------------------------------------------------------------


async def say(person, chat_id: int, body: str) -> int:
    """Send a message; its seq."""
    response = await send(person, chat_id, body)
    assert response.status_code == 303, await response.get_data()
    return int(response.headers["Location"].rsplit("-", 1)[1])


async def search_page(person, headers=None, status: int = 200, **query):
    response = await person.get(
        "/search", query_string={k.rstrip("_"): v for k, v in query.items()}, headers=headers
    )
    assert response.status_code == status, (query, response.status_code)
    return html(await response.get_data())


async def found(person, q: str, **query) -> list[str]:
    """The snippets of what a search finds, newest first, marks as [brackets]."""
    page = await search_page(person, q=q, **query)
    return [
        re.sub(r"^<p[^>]*>|</p>$", "", item.css_first("p").html)
        .replace("<mark>", "[")
        .replace("</mark>", "]")
        for item in page.css("ol.search-results > li")
    ]


def heading(page) -> str:
    heading = page.css_first("#search-results h2")
    return heading.text() if heading else page.css_first("#search-results p").text()


# -- what is found -----------------------------------------------------------------------


async def test_words_are_found_by_their_beginning_in_any_case_and_script(alice, bob, watercooler):
    await say(bob, watercooler, "Поиска нет, **ищем** ёлку")
    await say(bob, watercooler, "Nothing about trees")
    await say(alice, watercooler, "Ἀθῆναι and Αθήνα, 東京 too")
    assert await found(alice, "поис") == ["[Поиска] нет, ищем ёлку"]
    assert await found(alice, "ПОИСКА") == ["[Поиска] нет, ищем ёлку"]
    # ё and the letter without its dots are one to the search, both ways.
    assert await found(alice, "елку") == ["Поиска нет, ищем [ёлку]"]
    assert await found(alice, "ЁЛК") == ["Поиска нет, ищем [ёлку]"]
    assert await found(alice, "αθήνα") == ["Ἀθῆναι and [Αθήνα], 東京 too"]
    assert await found(alice, "東京") == ["Ἀθῆναι and Αθήνα, [東京] too"]
    # Every word must match, the marks of Markdown are not part of words.
    assert await found(alice, "ищем ёлку") == ["Поиска нет, [ищем] [ёлку]"]
    assert await found(alice, "ищем trees") == []
    # A word is found by its beginning only; a word of one letter, whole.
    assert await found(alice, "иска") == []
    assert await found(alice, "Т") == []
    await say(bob, watercooler, "т. е. так")
    assert await found(alice, "Т") == ["[т]. е. так"]


async def test_results_are_newest_first_and_link_into_the_chat_in_context(alice, bob, watercooler):
    first = await say(bob, watercooler, "lunch at noon?")
    await say(alice, watercooler, "something else")
    second = await say(alice, watercooler, "Lunch was great")
    page = await search_page(alice, q="lunch")
    items = page.css("ol.search-results > li")
    links = [item.css_first("a") for item in items]
    assert [link.attributes["href"] for link in links] == [
        f"/chats/{watercooler}?around={second}#msg-{watercooler}-{second}",
        f"/chats/{watercooler}?around={first}#msg-{watercooler}-{first}",
    ]
    # The link names the chat, the author and the time.
    assert re.fullmatch(r"Watercooler · Alice Liddell · \S.*", links[0].text())
    assert links[1].text().startswith("Watercooler · Bob Dylan · ")
    assert links[0].css_first("time").attributes["datetime"].endswith("Z")
    assert heading(page) == "2 results for “lunch”"
    assert page.css_first("h1").text() == "Search"
    # The link lands on the message in its chat.
    chat = await alice.page(links[1].attributes["href"].split("#")[0])
    assert chat.css_first(f"#msg-{watercooler}-{first}") is not None


async def test_a_quoted_phrase_matches_whole_words_in_that_order(alice, watercooler):
    await say(alice, watercooler, "the exact phrase here")
    await say(alice, watercooler, "phrase exact, the other way")
    await say(alice, watercooler, "the exactly phrased one")
    assert await found(alice, '"exact phrase"') == ["the [exact] [phrase] here"]
    # Unquoted, the words may be anywhere and may go on.
    assert len(await found(alice, "exact phrase")) == 3
    # A token with punctuation is a phrase whose last word may go on.
    await say(alice, watercooler, "write to bob@example.com today")
    assert await found(alice, "example.co") == ["write to bob@[example].[com] today"]
    assert await found(alice, "com.example") == []


async def test_deleted_messages_are_never_found_and_an_edit_by_its_new_text_only(
    alice, watercooler
):
    gone = await say(alice, watercooler, "a secret plan")
    kept = await say(alice, watercooler, "an old draft")
    response = await alice.post(f"/chats/{watercooler}/messages/{gone}/delete")
    assert response.status_code == 303
    response = await alice.post(
        f"/chats/{watercooler}/messages/{kept}/edit", {"body": "a new version"}
    )
    assert response.status_code == 303
    assert await found(alice, "secret") == []
    assert await found(alice, "draft") == []
    assert await found(alice, "version") == ["a new [version]"]


async def test_only_the_chats_the_reader_is_in_now_are_searched(alice, bob, carol, watercooler):
    secret = await create_chat(bob, "Bob's own")
    await say(bob, secret, "needle in bob's own chat")
    await say(bob, watercooler, "needle in the watercooler")
    # Carol is not in the watercooler: its messages are not hers to find...
    assert await found(carol, "needle") == []
    # ... until she joins: then the whole chat is searched, from its start, as its
    # page shows it.
    response = await alice.post(f"/chats/{watercooler}/members", {"members": "carol"})
    assert response.status_code == 303
    assert await found(carol, "needle") == ["[needle] in the watercooler"]
    # A crafted chat= of a chat she is not in is "Not found", as the chat is.
    await search_page(carol, q="needle", chat=str(secret), status=404)
    await search_page(carol, q="needle", chat="999999", status=404)
    # Once she leaves, it is not searched any more.
    response = await carol.post(f"/chats/{watercooler}/leave")
    assert response.status_code == 303
    assert await found(carol, "needle") == []
    await search_page(carol, q="needle", chat=str(watercooler), status=404)


async def test_from_and_in_narrow_the_search(alice, bob, watercooler):
    other = await create_chat(alice, "Design review", "bob")
    await say(alice, watercooler, "coffee from alice")
    await say(bob, watercooler, "coffee from bob")
    await say(bob, other, "coffee in design")
    assert await found(alice, "coffee from:bob") == [
        "[coffee] in design",
        "[coffee] from bob",
    ]
    assert await found(alice, "coffee from:@BOB in:watercooler") == ["[coffee] from bob"]
    # in: takes the chat's whole name, quoted, or its beginning; Russian may say в: и от:.
    assert await found(alice, 'coffee in:"design review"') == ["[coffee] in design"]
    assert await found(alice, "coffee in:desi") == ["[coffee] in design"]
    assert await found(alice, "coffee от:bob в:water") == ["[coffee] from bob"]
    # The parameters do the same as the words.
    assert await found(alice, "coffee", from_="alice") == ["[coffee] from alice"]
    assert await found(alice, "coffee", chat=str(other)) == ["[coffee] in design"]
    # Filters alone list the messages they keep.
    assert await found(alice, "from:alice") == ["coffee from alice"]


async def test_a_filter_that_names_nothing_says_so(alice, bob, carol, watercooler):
    await say(alice, watercooler, "coffee")
    page = await search_page(alice, q="coffee in:nowhere")
    assert heading(page) == "You are in no chat called “nowhere”."
    # Carol shares no chat with alice: she is as unknown as nobody.
    for name in ("carol", "nobody"):
        page = await search_page(alice, q=f"coffee from:{name}")
        assert heading(page) == f"Nobody called @{name} shares a chat with you."
        assert page.css("ol.search-results") == []


async def test_twenty_a_page_and_the_count_says_how_many(alice, watercooler, monkeypatch):
    for number in range(1, 24):
        await say(alice, watercooler, f"note number {number}")
    page = await search_page(alice, q="note")
    assert heading(page) == "23 results for “note”"
    assert len(page.css("ol.search-results > li")) == 20
    older = page.css_first('nav a[rel="next"]')
    assert older.text() == "Older results"
    assert page.css_first('nav a[rel="prev"]') is None
    page = await alice.page(older.attributes["href"])
    assert [li.css_first("p").text() for li in page.css("ol.search-results > li")] == [
        "note number 3",
        "note number 2",
        "note number 1",
    ]
    assert page.css_first('nav a[rel="next"]') is None
    assert page.css_first('nav a[rel="prev"]').attributes["href"] == "/search?q=note&page=1"
    # Past the end: nothing, and the way back.
    page = await search_page(alice, q="note", page="9")
    assert page.css("ol.search-results > li") == []
    assert page.css_first('#search-results a[href="/search?q=note&page=1"]') is not None
    # Beyond the cap a count is not worth its cost.
    monkeypatch.setattr(queries, "SEARCH_COUNT_CAP", 10)
    page = await search_page(alice, q="note")
    assert heading(page) == "More than 10 results for “note”"
    assert len(page.css("ol.search-results > li")) == 20


async def test_the_page_speaks_russian_with_its_plurals(alice, watercooler):
    for number in range(1, 6):
        await say(alice, watercooler, f"заметка {number}")
    assert heading(await search_page(alice, headers=RU, q="заметка 1")) == (
        "1 результат по запросу «заметка 1»"
    )
    await say(alice, watercooler, "заметка 1 ещё раз")
    await say(alice, watercooler, "и снова заметка 1")
    assert heading(await search_page(alice, headers=RU, q="заметка 1")) == (
        "3 результата по запросу «заметка 1»"
    )
    page = await search_page(alice, headers=RU, q="заметка")
    assert heading(page) == "7 результатов по запросу «заметка»"
    assert page.css_first("h1").text() == "Поиск"
    assert heading(await search_page(alice, headers=RU, q="ничего")) == (
        "По запросу «ничего» ничего не нашлось"
    )


# -- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        '"unbalanced',
        "*",
        "NEAR(a b)",
        "-",
        "AND OR NOT",
        "a\x00b",
        "x" * 1000,
        "'a':* & !b | <-> c",
        "body:secret",
        "^(",
    ],
)
async def test_a_query_no_engine_would_take_is_a_page_never_an_error(alice, watercooler, typed):
    await say(alice, watercooler, "a message with body words")
    page = await search_page(alice, q=typed)
    assert page.css_first("#search-results") is not None


async def test_a_query_with_nothing_to_look_for_says_so(alice, watercooler):
    await say(alice, watercooler, "anything")
    page = await search_page(alice, q='"" * - ()')
    assert heading(page).startswith('There is nothing to look for in “"" * - ()”')
    page = await search_page(alice, q="x" * (search.MAX_QUERY_CHARS + 1))
    assert heading(page) == "That search is too long: at most 500 characters."
    # No query at all: the form, and nothing said.
    page = await search_page(alice)
    assert page.css_first("#search-results").text().strip() == ""
    assert page.css_first("#search-q").attributes["value"] == ""


@pytest.mark.parametrize(
    ("name", "value"), [("chat", "x"), ("chat", "-1"), ("page", "two"), ("chat", "99999999999")]
)
async def test_a_chat_or_page_that_is_not_a_number_is_a_bad_request(alice, name, value):
    await search_page(alice, q="a", status=400, **{name: value})


async def test_what_was_typed_and_found_is_only_ever_text(alice, bob, watercooler):
    await say(bob, watercooler, "<script>alert(1)</script> xss <b>here</b>")
    page = await search_page(alice, q="xss <img src=x>")
    assert heading(page) == "Nothing matched “xss <img src=x>”"
    page = await search_page(alice, q="xss <b>")
    assert page.css("main script, main img, main b") == []
    assert "<script>alert(1)</script>" in page.css_first("ol.search-results p").text()
    assert heading(page) == "1 result for “xss <b>”"
    page = await search_page(alice, q="xss")
    assert page.css_first("ol.search-results p").html == (
        '<p dir="auto">&lt;script&gt;alert(1)&lt;/script&gt; <mark>xss</mark>'
        " &lt;b&gt;here&lt;/b&gt;</p>"
    )


async def test_search_is_for_people_signed_in(people):
    response = await people.anonymous().get("/search", query_string={"q": "a"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


# -- the box and the page ----------------------------------------------------------------


async def test_every_signed_in_page_has_a_search_box(alice, bob, watercooler, people):
    await say(bob, watercooler, "@alice hello")
    for path in (
        "/chats",
        f"/chats/{watercooler}",
        f"/chats/{watercooler}/members",
        "/mentions",
        "/people/bob",
        "/account",
    ):
        page = await alice.page(path)
        form = page.css_first('header form[role="search"]')
        assert form.attributes["action"] == "/search", path
        assert form.attributes.get("method", "get") == "get"
        box = form.css_first('input[type="search"][name="q"]')
        label = form.css_first(f'label[for="{box.attributes["id"]}"]')
        assert label.text() == "Search messages"
    # The search page has its own, labelled, with the query in it; not a second one.
    page = await search_page(alice, q="hello")
    assert page.css('header form[role="search"]') == []
    [form] = page.css('form[role="search"]')
    assert form.css_first('label[for="search-q"]').text() == "Search messages"
    assert form.css_first("#search-q").attributes["value"] == "hello"
    signed_out = await people.anonymous().get("/login")
    assert 'role="search"' not in (await signed_out.get_data()).decode()


async def test_htmx_gets_the_results_alone_with_the_count_for_screen_readers(alice, watercooler):
    await say(alice, watercooler, "htmx fragment")
    page = await search_page(alice, headers=HTMX, q="fragment")
    assert page.css("header, h1, form") == []
    status = page.css_first("#search-status")
    assert status.attributes["data-hx-swap-oob"] == "innerHTML"
    assert status.text() == "1 result for “fragment”"
    # The tab's title follows the search too.
    assert page.css_first("title").text() == "fragment · Search · vibechat"
    assert len(page.css("ol.search-results > li")) == 1
    # The whole page has the status line empty: its heading says the count (a text
    # browser would show the hidden line as a second heading).
    page = await search_page(alice, q="fragment")
    assert page.css_first('#search-status[role="status"]').text() == ""
    box = page.css_first("#search-q")
    assert box.attributes["data-hx-get"] == "/search"
    assert box.attributes["data-hx-target"] == "#search-results"
    assert box.attributes["data-hx-push-url"] == "true"


async def test_searching_in_one_chat_keeps_the_chat_in_the_form(alice, watercooler):
    await say(alice, watercooler, "scoped words")
    page = await search_page(alice, q="scoped", chat=str(watercooler))
    form = page.css_first('form[role="search"]')
    assert form.css_first('input[name="chat"]').attributes["value"] == str(watercooler)
    everywhere = page.css_first('main a[href="/search?q=scoped&page=1"]')
    assert everywhere.text() == "Search all your chats"


# -- the index, on SQLite and PostgreSQL -------------------------------------------------


async def test_the_migration_indexes_the_messages_already_there(database_url):
    """0006 fills the index with what 0005's database held, and goes down and up again."""
    db = Database(database_url)
    try:
        alice = await make_user(db, "alice")
        chat = await make_group(db, alice)
        await post(db, chat.id, alice, "written before the index existed")
        await schema.downgrade(database_url, "0005")
        async with db.write() as session:
            await session.execute(
                text(
                    "INSERT INTO messages (chat_id, seq, rev, author_id, body, created_at)"
                    " VALUES (:chat, 2, 2, :author, 'also before: Ёжик', CURRENT_TIMESTAMP)"
                ),
                {"chat": chat.id, "author": alice.id},
            )
            await session.execute(
                text("UPDATE chats SET last_seq = 2, last_rev = 2 WHERE id = :chat"),
                {"chat": chat.id},
            )
            await session.commit()
        await schema.upgrade(database_url)
        async with db.read() as session:
            for typed, seqs in (("before", [2, 1]), ("index existed", [1]), ("ежик", [2])):
                hits, total = await queries.search_messages(session, alice.id, search.parse(typed))
                assert [hit.seq for hit in hits] == seqs, typed
                assert total == len(seqs)
    finally:
        await db.dispose()


async def test_the_index_follows_every_write_in_its_transaction(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    message, _ = await post(database, chat.id, alice, "first words")
    query = search.parse("first")

    async def seqs(query=query) -> list[int]:
        async with database.read() as session:
            hits, _ = await queries.search_messages(session, alice.id, query)
        return [hit.seq for hit in hits]

    assert await seqs() == [1]
    # A write that is rolled back leaves the index as it was.
    async with database.write() as session:
        await session.execute(
            text("UPDATE messages SET body = 'other words' WHERE id = :id"), {"id": message.id}
        )
        await session.rollback()
    assert await seqs() == [1]
    # Deleting the chat takes its messages out of the index (the rows cascade).
    async with database.write() as session:
        await queries.delete_chat(session, await session.get(type(chat), chat.id))
        await session.commit()
    assert await seqs() == []
    if database.is_sqlite:
        async with database.read() as session:
            left = await session.scalar(
                text("SELECT count(*) FROM message_search WHERE message_search MATCH 'first'")
            )
        assert left == 0


@pytest.mark.parametrize("scope_max", [0, 200], ids=["join-only", "index-scope"])
async def test_the_index_scope_never_shows_in_what_words_find(database, scope_max, monkeypatch):
    """SQLite keeps each message's chat in the index ("c<id>") to skip others' chats;
    words never match it, and with the scope or without it the same is found."""
    monkeypatch.setattr(queries, "SQLITE_SCOPE_MAX", scope_max)
    alice, bob = await make_user(database, "alice"), await make_user(database, "bob")
    ours = await make_group(database, alice, members=[bob])
    theirs = await make_group(database, bob, "Bob's")
    await post(database, ours.id, alice, "nothing to see")
    await post(database, ours.id, alice, f"the c{ours.id} form")
    await post(database, theirs.id, bob, f"the c{ours.id} form, in bob's own chat")

    async def bodies(typed: str) -> list[str]:
        async with database.read() as session:
            hits, _ = await queries.search_messages(session, alice.id, search.parse(typed))
        return [hit.body for hit in hits]

    assert await bodies(f"c{ours.id}") == [f"the c{ours.id} form"]
    assert await bodies("the") == [f"the c{ours.id} form"]
    assert await bodies("nothing") == ["nothing to see"]
    # Asked for a chat of someone else's, the query keeps to the reader's chats anyway.
    async with database.read() as session:
        for chats in ([theirs.id], [theirs.id, ours.id]):
            hits, _ = await queries.search_messages(
                session, alice.id, search.parse("the"), chat_ids=chats
            )
            assert [hit.chat_id for hit in hits] == [ours.id] * (len(chats) - 1)
