"""What text browsers show: lynx and w3m ignore CSS and `hidden`, so a page must hold
only what is true for its reader (SPEC §5): edit links under the reader's own messages
only, the "no chats yet" note only when there is none, and a message's lines as lines.

The pages come from the in-process app and are read by the real programs
(`lynx -dump -stdin`, `w3m -dump -T text/html`), so no server is started."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.support.db import user_id
from tests.support.html import html
from tests.support.people import send
from tests.support.services import skip_or_fail

BROWSERS = {
    "lynx": ["lynx", "-dump", "-stdin", "-nolist", "-width=200", "-assume_charset=utf-8"],
    "w3m": ["w3m", "-dump", "-T", "text/html", "-cols", "200", "-I", "UTF-8", "-O", "UTF-8"],
}


@pytest.fixture(params=sorted(BROWSERS))
def text_browser(request):
    """A function that shows a page as this text browser prints it."""
    command = BROWSERS[request.param]
    if shutil.which(command[0]) is None:
        skip_or_fail(f"{command[0]} is not installed: apt-get install -y {command[0]}")

    def dump(page: str) -> str:
        done = subprocess.run(command, input=page.encode(), capture_output=True, check=True)
        return done.stdout.decode()

    return dump


async def text_of(person, path: str) -> str:
    response = await person.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return await response.get_data(as_text=True)


async def test_edit_links_are_only_under_the_readers_own_messages(
    alice, bob, watercooler, text_browser
):
    await send(alice, watercooler, "from alice")
    await send(bob, watercooler, "from bob")
    await send(alice, watercooler, "alice again")

    page = await text_of(bob, f"/chats/{watercooler}")
    items = html(page).css("ol#messages > li.message")
    assert [item.css_first(".edit") is not None for item in items] == [
        False,
        True,
        False,
    ]
    link = items[1].css_first(".edit")
    assert link.attributes["href"] == f"/chats/{watercooler}/messages/2/edit"
    shown = text_browser(page)
    assert len(re.findall(r"\bEdit\b", shown)) == 1, shown

    # Alice's page: her two, not Bob's.
    shown = text_browser(await text_of(alice, f"/chats/{watercooler}"))
    assert len(re.findall(r"\bEdit\b", shown)) == 2, shown


async def test_older_and_newer_pages_show_edit_links_only_for_the_reader(alice, bob, watercooler):
    await send(alice, watercooler, "from alice")
    await send(bob, watercooler, "from bob")
    for query in ("after=0", "before=3"):
        path = f"/chats/{watercooler}/messages?{query}"
        items = (await bob.page(path)).css("ol.messages > li.message")
        assert [item.css_first(".edit") is not None for item in items] == [
            False,
            True,
        ], path


async def test_frames_and_catch_up_carry_the_edit_link_for_every_reader(alice, bob, watercooler):
    """Reader-independent (the same bytes for everyone): the reader's stylesheet hides
    the link but for the author, and text browsers never get these."""
    await send(alice, watercooler, "from alice")
    response = await bob.get(
        f"/chats/{watercooler}/messages?since=0", headers={"HX-Request": "true"}
    )
    fragment = html(await response.get_data(as_text=True))
    assert fragment.css_first("li.message .edit") is not None
    # The page of the same reader, rendered after the fragment, still has none.
    page = await bob.page(f"/chats/{watercooler}")
    assert page.css_first("li.message .edit") is None


async def test_the_reader_stylesheet_shows_the_edit_link_only_for_the_author(alice, db):
    me = await user_id(db, "alice")
    css = await (await alice.get(f"/style/mine-{me}.css")).get_data(as_text=True)
    assert f'.message[data-author="{me}"] .edit{{display:inline-block}}' in css


async def test_a_message_keeps_its_lines_in_text_browsers_and_in_the_html(
    alice, watercooler, text_browser
):
    await send(alice, watercooler, "first line\n<b>second</b> line\r\n\r\nafter a blank line")
    page = await text_of(alice, f"/chats/{watercooler}")
    body = html(page).css_first("li.message .message-body")
    # A blank line starts a paragraph (Markdown): the body is blocks.
    assert body.html == (
        '<div class="message-body" dir="auto"><p>first line<br>&lt;b&gt;second&lt;/b&gt; line'
        "</p>\n<p>after a blank line</p></div>"
    )
    lines = [line.strip() for line in text_browser(page).splitlines() if line.strip()]
    at = lines.index("first line")
    assert lines[at : at + 3] == ["first line", "<b>second</b> line", "after a blank line"]


async def test_the_chat_list_says_there_are_no_chats_only_when_there_are_none(people, text_browser):
    alice = await people("alice")
    await people("bob")
    empty = await text_of(alice, "/chats")
    assert "You are not in any chat yet" in text_browser(empty)

    for title in ("Watercooler", "Plans", "Books"):
        response = await alice.post("/chats", {"title": title, "members": "bob"})
        assert response.status_code == 303
    page = await text_of(alice, "/chats")
    assert html(page).css_first(".empty-list") is None
    shown = text_browser(page)
    assert "You are not in any chat yet" not in shown
    for title in ("Watercooler", "Plans", "Books"):
        assert title in shown
