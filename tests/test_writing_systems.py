"""Text in any script is kept as written; only characters that reorder or hide text are
refused, with a message that names them (vibechat/forms.py).

Messages (sent and edited), display names and chat titles follow one rule.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.db import snapshot
from tests.support.html import field_error, html
from tests.support.people import PASSWORD, create_chat, send
from vibechat.models import Chat, Message, User

SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"

# What languages write with format characters (Unicode Cf), each kept exactly.
KEPT = {
    "persian-zwnj": "می\u200cخواهم بروم",
    "kurdish-zwnj": "دە\u200cچم",
    "hebrew-rlm": "שלום\u200f!",  # RLM keeps the ! on the right
    "english-lrm": "C++\u200e rocks",
    "arabic-alm": "العدد \u061c-5",  # ALM before a signed number
    "scotland-flag": f"Up {SCOTLAND}",  # TAG characters U+E0020-E007F
    "soft-hyphen": "Donau\u00addampf\u00adschiff",
    "emoji-zwj": f"Family {FAMILY}",
    "bom-inside": "zero\ufeffwidth no-break",
    "zwsp-thai": "สวัสดี\u200bครับ",
}

# Characters that make text read differently from what was written: (text, what the
# message must name).
REFUSED = {
    "rlo": ("invoice\u202egpj.exe", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    "lro": ("a\u202db", "U+202D LEFT-TO-RIGHT OVERRIDE"),
    "lre": ("a\u202ab", "U+202A LEFT-TO-RIGHT EMBEDDING"),
    "rle": ("a\u202bb", "U+202B RIGHT-TO-LEFT EMBEDDING"),
    "pdf": ("a\u202cb", "U+202C POP DIRECTIONAL FORMATTING"),
    "lri": ("a\u2066b", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    "rli": ("a\u2067b", "U+2067 RIGHT-TO-LEFT ISOLATE"),
    "fsi": ("a\u2068b", "U+2068 FIRST STRONG ISOLATE"),
    "pdi": ("a\u2069b", "U+2069 POP DIRECTIONAL ISOLATE"),
    "annotation": ("base\ufff9ruby\ufffatext\ufffb", "U+FFF9 INTERLINEAR ANNOTATION ANCHOR"),
}

# Nothing visible: only format characters, fillers, spaces.
BLANK = {
    "soft-hyphen": "\u00ad",
    "bom": "\ufeff",
    "zwnj-rlm": " \u200c\u200f ",
    "tags": "\U000e0067\U000e0062",
    "hangul-filler": "\u3164",
    "variation-selector": "\ufe0f",
}


async def bodies(db, chat_id: int) -> list[str]:
    async with db.read() as session:
        query = select(Message.body).where(Message.chat_id == chat_id).order_by(Message.seq)
        return list(await session.scalars(query))


# -- messages ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", KEPT.values(), ids=KEPT.keys())
async def test_a_message_in_any_script_is_stored_as_written(alice, db, watercooler, text):
    response = await send(alice, watercooler, text)
    assert response.status_code == 303
    assert await bodies(db, watercooler) == [text]
    page = await alice.page(f"/chats/{watercooler}")
    assert page.css_first(".message-body").text() == text


@pytest.mark.parametrize("text", KEPT.values(), ids=KEPT.keys())
async def test_a_message_is_edited_into_any_script(alice, db, watercooler, text):
    await send(alice, watercooler, "draft")
    response = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": text})
    assert response.status_code == 303
    assert await bodies(db, watercooler) == [text]


async def test_a_byte_order_mark_pasted_in_front_is_dropped(alice, db, watercooler):
    response = await send(alice, watercooler, "\ufeff \ufeffHello from a file\n")
    assert response.status_code == 303
    assert await bodies(db, watercooler) == ["Hello from a file"]


@pytest.mark.parametrize(("text", "named"), REFUSED.values(), ids=REFUSED.keys())
async def test_a_message_that_reorders_or_hides_text_is_refused_naming_it(
    alice, db, watercooler, text, named
):
    before = await snapshot(db)
    response = await send(alice, watercooler, text)
    assert response.status_code == 422
    page = html(await response.get_data())
    error = field_error(page, "body")
    assert error.startswith(f"The message contains {named}, which ")
    assert "remove it" in error
    assert page.css_first("#body").text() == text  # the text is kept to fix
    assert await snapshot(db) == before


@pytest.mark.parametrize(("text", "named"), REFUSED.values(), ids=REFUSED.keys())
async def test_an_edit_that_reorders_or_hides_text_is_refused(alice, db, watercooler, text, named):
    await send(alice, watercooler, "keep me")
    before = await snapshot(db)
    response = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": text})
    assert response.status_code == 422
    assert named in field_error(html(await response.get_data()), "body")
    assert await snapshot(db) == before


@pytest.mark.parametrize("text", BLANK.values(), ids=BLANK.keys())
async def test_a_message_of_nothing_visible_is_empty(alice, db, watercooler, text):
    before = await snapshot(db)
    response = await send(alice, watercooler, text)
    assert response.status_code == 422
    assert field_error(html(await response.get_data()), "body") == "Write a message first."
    assert await snapshot(db) == before


async def test_a_control_character_is_named_too(alice, watercooler):
    response = await send(alice, watercooler, "ring \u0007 ring")
    assert response.status_code == 422
    error = field_error(html(await response.get_data()), "body")
    assert error == (
        "The message contains a control character (U+0007) that cannot be shown."
        " Use visible characters only."
    )


# -- display names -------------------------------------------------------------------------


async def register(people, display_name: str):
    person = people.anonymous()
    await person.refresh_token("/register")
    form = {"username": "newcomer", "display_name": display_name, "password": PASSWORD}
    return await person.post("/register", form)


async def display_names(db) -> list[str]:
    async with db.read() as session:
        return list(await session.scalars(select(User.display_name)))


@pytest.mark.parametrize("name", KEPT.values(), ids=KEPT.keys())
async def test_a_display_name_in_any_script_is_kept(people, db, name):
    response = await register(people, name)
    assert response.status_code == 303
    assert await display_names(db) == [name]


async def test_a_display_name_loses_a_pasted_byte_order_mark(people, db):
    response = await register(people, "\ufeffNewcomer")
    assert response.status_code == 303
    assert await display_names(db) == ["Newcomer"]


@pytest.mark.parametrize(("name", "named"), REFUSED.values(), ids=REFUSED.keys())
async def test_a_display_name_that_reorders_or_hides_text_is_refused(people, db, name, named):
    response = await register(people, name)
    assert response.status_code == 422
    error = field_error(html(await response.get_data()), "display_name")
    assert error.startswith(f"The name contains {named}, which ")
    assert await display_names(db) == []


@pytest.mark.parametrize("name", BLANK.values(), ids=BLANK.keys())
async def test_a_display_name_of_nothing_visible_falls_back_to_the_username(people, db, name):
    response = await register(people, name)
    assert response.status_code == 303
    assert await display_names(db) == ["newcomer"]


# -- chat titles ---------------------------------------------------------------------------


async def titles(db) -> list[str]:
    async with db.read() as session:
        return list(await session.scalars(select(Chat.title)))


@pytest.mark.parametrize("title", KEPT.values(), ids=KEPT.keys())
async def test_a_title_in_any_script_is_kept(alice, db, title):
    await create_chat(alice, title)
    assert await titles(db) == [title]


@pytest.mark.parametrize(("title", "named"), REFUSED.values(), ids=REFUSED.keys())
async def test_a_title_that_reorders_or_hides_text_is_refused(alice, db, title, named):
    response = await alice.post("/chats", {"title": title, "members": ""})
    assert response.status_code == 422
    assert named in field_error(html(await response.get_data()), "title")
    assert await titles(db) == []
