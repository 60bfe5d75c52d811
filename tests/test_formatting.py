"""Issue 17, formatting (SPEC §10): a body is stored as typed and shown as the Markdown
subset chats use, with raw HTML off and only web and mail links, on every page, in
live frames and in catch-up; the edit form shows the source. Hostile Markdown is in
the XSS corpus (tests/support/xss.py, kind "markdown")."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.html import html
from tests.support.people import send
from vibechat.formatting import REL, formatted, mention_candidates, mentioned_in, plain
from vibechat.live import frames
from vibechat.models import Message

HTMX = {"HX-Request": "true"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("plain words", "plain words"),
        (
            "**bold** *italic* _also_ ~~gone~~ `x < y`",
            (
                "<strong>bold</strong> <em>italic</em> <em>also</em> <s>gone</s> "
                "<code>x &lt; y</code>"
            ),
        ),
        ("one\ntwo", "one<br>two"),
        ("<b>not bold</b> &amp; &lt;", "&lt;b&gt;not bold&lt;/b&gt; &amp;amp; &amp;lt;"),
        ("# not a heading", "# not a heading"),
        (
            "see https://example.org/a?b=1&c=2.",
            (
                f'see <a href="https://example.org/a?b=1&amp;c=2" rel="{REL}">'
                "https://example.org/a?b=1&amp;c=2</a>."
            ),
        ),
        ("notes.md and file.py", "notes.md and file.py"),
        (
            '[docs](https://example.org/d "the docs")',
            (f'<a href="https://example.org/d" title="the docs" rel="{REL}">docs</a>'),
        ),
        (
            "write to <mailto:a@example.org>",
            (f'write to <a href="mailto:a@example.org" rel="{REL}">mailto:a@example.org</a>'),
        ),
        (
            "![a cat](https://example.org/cat.png)",
            (f'<a href="https://example.org/cat.png" rel="{REL}">a cat</a>'),
        ),
    ],
)
def test_one_paragraph_is_inline_with_the_subset(body, expected):
    result = formatted(body)
    assert result.inline
    assert str(result.html) == expected


def test_blocks_quotes_lists_and_fenced_code():
    body = "> quoted\n\n- one\n- two\n\n3. three\n\n```python\nif a < b:\n    pass\n```"
    result = formatted(body)
    assert not result.inline
    assert str(result.html) == (
        "<blockquote>\n<p>quoted</p>\n</blockquote>\n"
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>\n"
        '<ol start="3">\n<li>three</li>\n</ol>\n'
        "<pre><code>if a &lt; b:\n    pass\n</code></pre>"
    )


@pytest.mark.parametrize(
    "body",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](jav&#x61;script:alert(1))",
        "[x](java%73cript:alert(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](vbscript:msgbox(1))",
        "[x](file:///etc/passwd)",
        "[x](/chats/1)",
        "![x](javascript:alert(1))",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: javascript:alert(1)",
    ],
)
def test_a_link_that_is_not_web_or_mail_stays_text(body):
    rendered = str(formatted(body).html)
    assert "<a" not in rendered and "href" not in rendered


def test_nesting_deeper_than_the_parser_goes_is_shown_as_typed_not_lost():
    body = "> " * 30 + "the point"
    result = formatted(body)
    assert result.inline and "<blockquote" not in result.html
    assert result.html.endswith("the point")


def test_more_link_openers_than_a_message_has_leave_them_text_and_the_rest_formatted():
    body = "[" * 300 + " **still bold** [a](https://example.org) https://example.net"
    rendered = str(formatted(body).html)
    assert rendered.startswith("[" * 300)
    assert "<strong>still bold</strong> [a](" in rendered  # the Markdown link is text
    assert f'<a href="https://example.net" rel="{REL}">' in rendered  # a bare URL is not


def test_a_fence_keeps_words_that_are_not_a_language_name():
    assert str(formatted("```python\nx = 1\n```").html) == "<pre><code>x = 1\n</code></pre>"
    assert str(formatted("```let x = 1\nlet y = 2").html) == (
        "<pre><code>let x = 1\nlet y = 2</code></pre>"
    )


def test_only_a_reference_definition_shows_what_was_typed():
    assert str(formatted("[r]: https://example.org").html) == "[r]: https://example.org"


def test_the_plain_words_drop_the_marks():
    assert plain("**Done**, see `make test`\n\n- [the notes](https://example.org)") == (
        "Done, see make test the notes"
    )
    assert plain("```\ncode\n```") == "code"
    assert plain("![](https://example.org/cat.png)") == "https://example.org/cat.png"


# -- on the page, live and in catch-up ----------------------------------------------------


async def test_the_chat_page_shows_formatting_and_the_edit_form_the_source(alice, watercooler):
    await send(alice, watercooler, "**ship it** on *Friday*")
    await send(alice, watercooler, "- milk\n- bread")
    page = await alice.page(f"/chats/{watercooler}")
    first = page.css_first(f"#msg-{watercooler}-1 p.message-body")
    assert first.html == (
        '<p class="message-body" dir="auto"><strong>ship it</strong> on <em>Friday</em></p>'
    )
    second = page.css_first(f"#msg-{watercooler}-2 div.message-body")
    assert [item.text() for item in second.css("ul > li")] == ["milk", "bread"]
    edit = await alice.page(f"/chats/{watercooler}/messages/1/edit")
    assert edit.css_first("textarea").text() == "**ship it** on *Friday*"


async def test_the_chat_list_previews_the_words_not_the_marks(alice, watercooler):
    await send(alice, watercooler, "**ship it** on *Friday*")
    listing = await alice.page("/chats")
    preview = listing.css_first(f"#chat-preview-{watercooler}")
    assert preview.css("bdi")[-1].text() == "ship it on Friday"


async def test_an_edit_is_shown_formatted_anew(alice, watercooler):
    """The rendering is kept per version: an edit (a new rev) is rendered again."""
    await send(alice, watercooler, "**bold**")
    assert (await alice.page(f"/chats/{watercooler}")).css_first("strong") is not None
    edit = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "*slanted*"})
    assert edit.status_code == 303
    page = await alice.page(f"/chats/{watercooler}")
    body = page.css_first(f"#msg-{watercooler}-1 .message-body")
    assert body.css_first("strong") is None and body.css_first("em").text() == "slanted"


async def test_frames_and_catch_up_carry_the_formatting(app, alice, db, watercooler):
    await send(alice, watercooler, "see `make test`")
    async with db.read() as session:
        message = await session.scalar(select(Message).where(Message.chat_id == watercooler))
        await session.refresh(message, ["author"])
    async with app.test_request_context("/"):
        english, russian = await frames.message_frame(message, frames.Preview(message))
    for frame in (english, russian):
        item = html(frame).css_first(f"#msg-{watercooler}-1")
        assert item.css_first(".message-body code").text() == "make test"
        assert html(frame).css_first(".chat-preview").text().endswith("see make test")
    response = await alice.get(f"/chats/{watercooler}/messages?since=0", headers=HTMX)
    caught_up = html(await response.get_data())
    assert caught_up.css_first(f"#msg-{watercooler}-1 .message-body code").text() == "make test"


# -- mentions (the one inline rule of our own) -------------------------------------------

PEOPLE = ("bob", "Carol.K")


def mention(name: str, shown: str | None = None) -> str:
    return f'<a href="/people/{name}" class="mention">@{shown or name}</a>'


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("hi @bob", "hi " + mention("bob")),
        ("@BOB!", mention("bob", "BOB") + "!"),  # any case; the link names the account
        ("thanks @bob.", "thanks " + mention("bob") + "."),  # the full stop ends the sentence
        ("ask @carol.k.", "ask " + mention("Carol.K", "carol.k") + "."),
        ("@bob--", mention("bob") + "--"),
        ("@dave", "@dave"),  # not someone the message mentions: text
        ("mail bob@example.com", "mail bob@example.com"),  # an address, not a mention
        ("x@bob", "x@bob"),
        ("`@bob`", "<code>@bob</code>"),  # in code
        ("[@bob](https://example.org)", f'<a href="https://example.org" rel="{REL}">@bob</a>'),
        ("**@bob**", "<strong>" + mention("bob") + "</strong>"),
    ],
)
def test_a_mention_is_a_link_where_the_text_shows(body, expected):
    assert formatted(body, PEOPLE).html == expected


def test_who_a_body_mentions_is_what_it_shows():
    body = "@bob and `@dave` and [@erin](https://x.org) and carol@example.com, @Carol.K."
    assert {"bob", "dave", "erin", "carol.k", "carol.k."} <= mention_candidates(body)
    assert mentioned_in(body, ["bob", "dave", "erin", "Carol.K"]) == {"bob", "carol.k"}
    assert mentioned_in(body, []) == set()
