"""Real Chromium against a real server: the page's furniture follows live changes.

- the chat header's "N members" follows people added, leaving and removed, and the
  tab's title follows a rename, without a reload, and after an outage through both;
- the chat list's polite status says what arrived, once a burst is over ("2 new messages
  in Watercooler. 1 new message in Plans."), in the words the page carries;
- without JavaScript, the reader sees themselves online.

The burst is timed by Playwright's clock, paused, so a slow machine cannot split it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.support.browser import (
    RECONNECT_TIMEOUT,
    assert_clean_consoles,
    create_group_chat,
    expect_live,
    expect_offline,
    open_chat,
    open_page,
    post_form,
    register,
    serve,
)
from tests.support.remote import unique
from tests.support.servers import RestartableServer
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("furniture-browser-instance"))


def header_count(page: Page, chat_id: int):
    return page.locator(f".chat-header #member-count-{chat_id}")


def news(page: Page):
    return page.locator("main [role=status][data-many]")


def post_message(page: Page, chat_id: int, body: str) -> None:
    post_form(page, f"/chats/{chat_id}/messages", {"body": body})


def test_the_header_counts_members_and_the_tab_names_the_chat_as_they_change_live(
    new_context, consoles, server
):
    alice = open_page(new_context, consoles, server.url, "alice")
    bob = open_page(new_context, consoles, server.url, "bob")
    bob_name, carol_name = unique("bob"), unique("carol")
    register(alice, unique("alice"), "Alice Liddell")
    register(bob, bob_name, "Bob Dylan")
    carol = open_page(new_context, consoles, server.url, "carol")
    register(carol, carol_name, "Carol Danvers")
    title = unique("Plans")
    chat_id = create_group_chat(alice, title, "")
    expect_live(alice)
    expect(header_count(alice, chat_id)).to_have_text("1 member")
    expect(alice).to_have_title(f"{title} · vibechat")

    # The owner adds two people in another tab (here: outside the page).
    post_form(alice, f"/chats/{chat_id}/members", {"members": f"{bob_name} {carol_name}"})
    expect(header_count(alice, chat_id)).to_have_text("3 members")
    expect(alice.locator("#member-list li.member")).to_have_count(3)
    open_chat(bob, chat_id)
    expect(header_count(bob, chat_id)).to_have_text("3 members")

    # Bob leaves; carol is removed.
    post_form(bob, f"/chats/{chat_id}/leave", {})
    expect(header_count(alice, chat_id)).to_have_text("2 members")
    post_form(alice, f"/chats/{chat_id}/members/{carol_name}/remove", {})
    expect(header_count(alice, chat_id)).to_have_text("1 member")
    expect(alice.locator(".chat-header a")).to_have_text("1 member and settings")

    # A rename changes the heading and the tab's title, and nothing else of the title.
    renamed = unique("Break room")
    post_form(alice, f"/chats/{chat_id}/rename", {"title": renamed})
    expect(alice.get_by_role("heading", level=1)).to_have_text(renamed)
    expect(alice).to_have_title(f"{renamed} · vibechat")
    assert_clean_consoles(consoles)


def test_a_page_offline_through_a_join_and_a_rename_shows_both_after_reconnecting(
    new_context, consoles, server
):
    with TcpProxy(server.port) as bob_net:
        alice = open_page(new_context, consoles, server.url, "alice")
        bob = open_page(new_context, consoles, bob_net.url, "bob", network_may_drop=True)
        carol = open_page(new_context, consoles, server.url, "carol")
        bob_name, carol_name = unique("bob"), unique("carol")
        register(alice, unique("alice"), "Alice Liddell")
        register(bob, bob_name, "Bob Dylan")
        register(carol, carol_name, "Carol Danvers")
        chat_id = create_group_chat(alice, unique("Before"), bob_name)
        open_chat(bob, chat_id)
        expect(header_count(bob, chat_id)).to_have_text("2 members")

        assert bob_net.cut() >= 1, "bob's page is not connected through the proxy"
        expect_offline(bob)
        post_form(alice, f"/chats/{chat_id}/members", {"members": carol_name})
        renamed = unique("After")
        post_form(alice, f"/chats/{chat_id}/rename", {"title": renamed})
        expect(header_count(bob, chat_id)).to_have_text("2 members")  # really offline

        bob_net.restore()
        expect_live(bob, RECONNECT_TIMEOUT)
        expect(header_count(bob, chat_id)).to_have_text("3 members")
        expect(bob).to_have_title(f"{renamed} · vibechat")
    assert_clean_consoles(consoles)


def test_the_chat_list_says_what_arrived_once_a_burst_is_over(new_context, consoles, server):
    alice = open_page(new_context, consoles, server.url, "alice")
    bob = open_page(new_context, consoles, server.url, "bob")
    bob_name = unique("bob")
    register(alice, unique("alice"), "Alice Liddell")
    register(bob, bob_name, "Bob Dylan")
    watercooler = create_group_chat(alice, "Watercooler", bob_name)
    plans = create_group_chat(alice, "Plans", bob_name)
    bob.goto("/chats")

    # One message: said a second later, in the page's words.
    alice.goto("/chats")
    expect_live(alice)
    expect(news(alice)).to_have_text("")
    post_message(bob, watercooler, "coffee?")
    expect(news(alice)).to_have_text("1 new message in Watercooler.")

    # A burst over two chats, the reader's own message among it: one summary when the
    # second has passed, not one per message. The clock stands still meanwhile.
    alice.clock.install()
    alice.reload()
    expect_live(alice)
    alice.clock.pause_at(alice.evaluate("Date.now()") / 1000 + 2)  # seconds, in Python
    post_message(bob, watercooler, "anyone?")
    post_message(bob, plans, "the plan")
    post_message(alice, watercooler, "me, in a minute")
    post_message(bob, watercooler, "great")
    # Every frame is in (the previews show them), and nothing is said yet.
    expect(alice.locator(f"#chat-preview-{plans}")).to_contain_text("the plan")
    expect(alice.locator(f"#chat-preview-{watercooler}")).to_contain_text("great")
    expect(news(alice)).to_have_text("")
    alice.clock.run_for(1_000)
    expect(news(alice)).to_have_text("2 new messages in Watercooler. 1 new message in Plans.")
    assert_clean_consoles(consoles)


@pytest.mark.parametrize("java_script_enabled", [False, True])
def test_the_reader_sees_themselves_online_with_javascript_or_without(
    new_context, consoles, server, java_script_enabled
):
    alice = open_page(
        new_context, consoles, server.url, "alice", java_script_enabled=java_script_enabled
    )
    bob_name = unique("bob")
    register(alice, unique("alice"), "Alice Liddell")
    chat_id = create_group_chat(alice, unique("Presence"), "")
    bob = open_page(new_context, consoles, server.url, "bob", java_script_enabled=False)
    register(bob, bob_name, "Bob Dylan")
    post_form(alice, f"/chats/{chat_id}/members", {"members": bob_name})
    alice.goto(f"/chats/{chat_id}")
    members = alice.locator("#member-list li.member")
    mine = members.filter(has_text=re.compile("^Alice Liddell"))
    expect(mine.locator(".presence")).to_have_text("online")
    # Bob has no page open with JavaScript: no socket says he is here.
    expect(members.filter(has_text="Bob Dylan").locator(".presence")).to_have_text("offline")
    assert_clean_consoles(consoles)
