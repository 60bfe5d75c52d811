"""The chat page's furniture follows live changes, and tells the truth without JavaScript:
the header's member count after a join or a leave, the reader's own presence, and the
chat list's status element that says what arrived (its words; Chromium reads them in
tests/test_furniture_browser.py).
"""

from __future__ import annotations

import asyncio
import shutil
from asyncio.subprocess import PIPE

import pytest

from tests.support.app import app_config
from tests.support.db import user_id
from tests.support.html import html
from tests.support.live import RecordingBroker, live, opened
from tests.support.people import create_chat
from tests.support.services import skip_or_fail
from vibechat.app import create_app
from vibechat.live.envelope import chat_topic

FRAME_BUDGET = 1024  # SPEC §7: a frame stays under 1 KB


@pytest.fixture
async def app(app_database_url, tmp_path):
    app = create_app(app_config(app_database_url, tmp_path), testing=True, broker=RecordingBroker())
    async with app.test_app():
        yield app


def published_to(app, chat_id: int) -> list[str]:
    """Every frame published to a chat's topic so far, out of its envelope."""
    broker = app.extensions["live"].broker
    return [opened(data) for topic, data in broker.published if topic == chat_topic(chat_id)]


def header_count(page, chat_id: int) -> str:
    count = page.css_first(f".chat-header a #member-count-{chat_id}")
    assert count is not None, "the header has no member count"
    return count.text()


async def test_the_chat_header_counts_members_in_an_element_a_frame_can_replace(alice, watercooler):
    page = await alice.page(f"/chats/{watercooler}")
    assert header_count(page, watercooler) == "2 members"
    link = page.css_first(".chat-header a").text()
    assert link == "2 members and settings"


async def test_adding_people_sends_the_new_member_count_with_them_to_every_open_page(
    app, alice, bob, carol, db
):
    plans = await create_chat(alice, "Plans")
    assert header_count(await alice.page(f"/chats/{plans}"), plans) == "1 member"
    async with live(alice.client) as alice_ws:
        response = await alice.post(f"/chats/{plans}/members", {"members": "bob carol"})
        assert response.status_code == 303
        frame = await alice_ws.until(f"span#member-count-{plans}")
        count = frame.top(f"span#member-count-{plans}")
        assert count.attributes["data-hx-swap-oob"] == "true"
        assert count.text() == "3 members"
        # One frame for both newcomers and the count, the same bytes for every reader.
        bob_id, carol_id = await user_id(db, "bob"), await user_id(db, "carol")
        assert frame.top(f"li#member-{plans}-{bob_id}") is not None
        assert frame.top(f"li#member-{plans}-{carol_id}") is not None
    frames = published_to(app, plans)
    assert len(frames) == 1 and frames[0] == frame.raw
    assert len(frame.raw.encode()) < FRAME_BUDGET


async def test_someone_leaving_sends_the_count_left_to_the_others(app, alice, bob, watercooler):
    async with live(alice.client) as alice_ws:
        assert (await bob.post(f"/chats/{watercooler}/leave")).status_code == 303
        frame = await alice_ws.until(f"span#member-count-{watercooler}")
        assert frame.top(f"span#member-count-{watercooler}").text() == "1 member"
    assert header_count(await alice.page(f"/chats/{watercooler}"), watercooler) == "1 member"


async def test_a_removal_sends_the_count_left_beside_the_deletion_and_the_new_owner(
    app, alice, bob, carol, watercooler, db
):
    assert (await alice.post(f"/chats/{watercooler}/members", {"members": "carol"})).status_code
    async with live(bob.client) as bob_ws:
        assert (await alice.post(f"/chats/{watercooler}/members/carol/remove")).status_code == 303
        frame = await bob_ws.until(f"span#member-count-{watercooler}")
        assert frame.top(f"span#member-count-{watercooler}").text() == "2 members"
        carol_id = await user_id(db, "carol")
        assert (
            frame.top(f"#member-{watercooler}-{carol_id}").attributes["data-hx-swap-oob"]
            == "delete"
        )

        # The owner leaves: the count and the new owner's badge come in one frame.
        assert (await alice.post(f"/chats/{watercooler}/leave")).status_code == 303
        frame = await bob_ws.until(f"span#member-count-{watercooler}")
        assert frame.top(f"span#member-count-{watercooler}").text() == "1 member"
        bob_id = await user_id(db, "bob")
        assert frame.top(f"li#member-{watercooler}-{bob_id}").css_first(".badge").text() == "owner"


async def test_the_member_list_fetched_again_after_an_outage_brings_the_count_too(
    alice, bob, carol, watercooler
):
    assert (await alice.post(f"/chats/{watercooler}/members", {"members": "carol"})).status_code
    response = await alice.get(f"/chats/{watercooler}/members", headers={"HX-Request": "true"})
    assert response.status_code == 200
    fragment = html(await response.get_data())
    assert len(fragment.css("#member-list li.member")) == 3
    count = fragment.css_first(f"#member-count-{watercooler}")
    assert count.attributes["data-hx-swap-oob"] == "true"
    assert count.text() == "3 members"


async def test_without_javascript_the_reader_sees_themselves_online_and_others_as_they_are(
    alice, bob, watercooler, db
):
    alice_id, bob_id = await user_id(db, "alice"), await user_id(db, "bob")
    page = await alice.page(f"/chats/{watercooler}")
    assert page.css_first(f"#member-{watercooler}-{alice_id} .presence").text() == "online"
    assert page.css_first(f"#member-{watercooler}-{bob_id} .presence").text() == "offline"
    async with live(bob.client):
        page = await alice.page(f"/chats/{watercooler}")
        assert page.css_first(f"#member-{watercooler}-{bob_id} .presence").text() == "online"


@pytest.mark.parametrize(
    "command",
    [
        ["lynx", "-dump", "-stdin", "-nolist", "-width=200", "-assume_charset=utf-8"],
        ["w3m", "-dump", "-T", "text/html", "-cols", "200", "-I", "UTF-8", "-O", "UTF-8"],
    ],
    ids=["lynx", "w3m"],
)
async def test_a_text_browser_shows_the_reader_online(alice, bob, watercooler, command):
    if shutil.which(command[0]) is None:
        skip_or_fail(f"{command[0]} is not installed: apt-get install -y {command[0]}")
    page = await (await alice.get(f"/chats/{watercooler}")).get_data()
    process = await asyncio.create_subprocess_exec(*command, stdin=PIPE, stdout=PIPE, stderr=PIPE)
    out, _ = await asyncio.wait_for(process.communicate(page), 30)
    assert process.returncode == 0
    shown = out.decode()
    lines = [" ".join(line.split()) for line in shown.splitlines()]
    assert any(line.endswith("Alice Liddell @alice owner online") for line in lines), shown
    assert any(line.endswith("Bob Dylan @bob offline") for line in lines), shown


async def test_the_chat_list_has_a_quiet_status_with_the_words_for_what_arrives(alice, watercooler):
    page = await alice.page("/chats")
    news = page.css_first("main [role=status][data-many]")
    assert news is not None
    assert "visually-hidden" in news.attributes["class"].split()
    assert news.text() == "", "it says nothing until something arrives"
    assert news.attributes["data-one"] == "1 new message in {chat}."
    assert news.attributes["data-many"] == "{n} new messages in {chat}."
