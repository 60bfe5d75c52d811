"""vibechat/dom.py: every element id a frame or a script finds is spelled in one place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.support.html import html
from tests.support.people import send
from vibechat.dom import KINDS, dom_id

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_ids_keep_the_spelling_the_spec_and_the_page_rely_on():
    assert dom_id("msg", 3, 12) == "msg-3-12"  # SPEC §5
    assert dom_id("member", 3, 7) == "member-3-7"
    assert dom_id("chat", 3) == "chat-3"
    assert dom_id("unread", 3) == "unread-3"
    assert dom_id("presence", 7) == "presence-7"
    assert dom_id("typing", 3) == "typing-3"
    assert dom_id("older", 3) == "older-3"
    assert dom_id("chat-status", 3) == "chat-status-3"
    assert dom_id("messages") == "messages"


@pytest.mark.parametrize(
    ("kind", "numbers"),
    [
        ("mgs", (3, 12)),  # a typo
        ("msg", (3,)),  # too few
        ("chat", (3, 4)),  # too many
        ("chat", ("3",)),  # not a number
        ("chat", (True,)),  # a bool is an int to Python, not an id
        ("messages", (1,)),
    ],
)
def test_an_id_that_no_frame_would_find_is_an_error(kind, numbers):
    with pytest.raises(ValueError, match=repr(kind)):
        dom_id(kind, *numbers)


def test_no_template_spells_an_id_of_a_known_kind_by_hand():
    # id="msg-{{ …" or id="msg-3…" for a kind with numbers, id="messages" for one without.
    by_hand = re.compile(
        "|".join(
            f'id="{re.escape(kind)}' + (r"-[{0-9]" if numbers else '"')
            for kind, numbers in KINDS.items()
        )
    )
    spelled = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in TEMPLATES.rglob("*.html")
        for match in by_hand.finditer(path.read_text())
    ]
    assert spelled == []


async def test_a_chat_page_names_its_elements_through_dom_id(alice, watercooler):
    await send(alice, watercooler, "hello")
    page = html(await (await alice.get(f"/chats/{watercooler}")).get_data(as_text=True))
    for kind, numbers in [
        ("msg", (watercooler, 1)),
        ("typing", (watercooler,)),
        ("chat-status", (watercooler,)),
        ("chat-title", (watercooler,)),
        ("older", (watercooler,)),
        ("messages", ()),
        ("member-list", ()),
        ("composer", ()),
    ]:
        assert page.css_first(f"#{dom_id(kind, *numbers)}") is not None, kind
