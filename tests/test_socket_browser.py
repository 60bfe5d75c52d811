"""Real Chromium: what the page does when its socket is closed with a code that says
"do not simply reconnect": 1008 (session ended) and 4429 (too many sockets); and when
nothing closes at all, the network a black hole (the heartbeat, vibechat/live/heartbeat.py).

The wrong 1008 is produced by Playwright's WebSocket routing: the page's socket goes
through the test, which forwards everything to the real server and then closes the
page's side with 1008 while the session is alive, as the session check once did.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, WebSocketRoute, expect

from tests.support.browser import (
    RECONNECT_TIMEOUT,
    assert_clean_consoles,
    composer_box,
    connection_state,
    create_group_chat,
    expect_live,
    expect_offline,
    messages_with,
    open_chat,
    open_page,
    post_form,
    register,
    say,
    serve,
)
from tests.support.remote import unique
from tests.support.servers import RestartableServer
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.browser


QUIET_MS = 3_000  # longer than the first reconnection delays (up to 1 s, then 2 s)


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("socket-browser"))


@pytest.fixture(scope="module")
def one_socket_server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(
        tmp_path_factory.mktemp("one-socket"), settings={"VIBECHAT_WS_PER_SESSION": "1"}
    )


BEAT = 2  # seconds between heartbeats on beating_server (12 by default)


@pytest.fixture(scope="module")
def beating_server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(
        tmp_path_factory.mktemp("heartbeat"), settings={"VIBECHAT_WS_HEARTBEAT": str(BEAT)}
    )


def presence_of(page: Page, display_name: str) -> Locator:
    member = page.locator("#member-list li.member").filter(
        has=page.locator(".member-name", has_text=re.compile(rf"^{re.escape(display_name)}$"))
    )
    return member.locator(".presence")


def sockets_opened(page) -> list:
    opened = []
    page.on("websocket", lambda socket: opened.append(socket))
    return opened


def test_a_wrong_1008_makes_the_page_ask_and_reconnect_while_signed_in(
    new_context, consoles, server
):
    alice = open_page(new_context, consoles, server.url, "alice")
    bob = open_page(new_context, consoles, server.url, "bob")
    alice_name, bob_name = unique("alice"), unique("bob")
    register(alice, alice_name, "Alice")
    register(bob, bob_name, "Bob")
    chat_id = create_group_chat(alice, "Routed", bob_name)

    routes: list[WebSocketRoute] = []

    def through_the_test(route: WebSocketRoute) -> None:
        route.connect_to_server()  # forwards both ways until the test closes it
        routes.append(route)

    alice.route_web_socket(re.compile(r"/ws$"), through_the_test)
    asked = []
    alice.on("request", lambda request: asked.append(request.url))
    open_chat(alice, chat_id)
    open_chat(bob, chat_id)
    assert len(routes) == 1

    routes[0].close(code=1008, reason="session ended")
    expect_live(alice, timeout=RECONNECT_TIMEOUT)
    assert len(routes) == 2, "the page did not open a new socket"
    assert [url for url in asked if url.endswith("/session")] == [f"{server.url}/session"]
    say(bob, "still reaching alice")
    expect(messages_with(alice, "still reaching alice")).to_have_count(1)
    assert_clean_consoles(consoles)


def test_a_true_1008_says_signed_out_and_stops(new_context, consoles, server):
    alice = open_page(new_context, consoles, server.url, "alice")
    register(alice, unique("alice"), "Alice")
    chat_id = create_group_chat(alice, "Leaving soon", "")
    opened = sockets_opened(alice)
    open_chat(alice, chat_id)
    # Log out outside the page (same cookies): the server closes the page's socket (1008).
    post_form(alice, "/logout", {})
    expect(connection_state(alice)).to_have_text("Signed out. Sign in again to see new messages.")
    expect(connection_state(alice)).to_have_attribute("data-live", "false")
    alice.wait_for_timeout(QUIET_MS)
    assert len(opened) == 1, "a signed-out page must not keep reconnecting"
    assert_clean_consoles(consoles)


def test_a_page_beyond_the_socket_cap_says_so_and_does_not_retry(
    new_context, consoles, one_socket_server
):
    first = open_page(new_context, consoles, one_socket_server.url, "first tab")
    register(first, unique("alice"), "Alice")
    chat_id = create_group_chat(first, "Many tabs", "")
    open_chat(first, chat_id)
    second = first.context.new_page()  # another tab of the same browser: same session
    opened = sockets_opened(second)
    second.goto(f"/chats/{chat_id}")
    expect(connection_state(second)).to_have_text(
        "Not live: too many pages are open. Close some, then reload."
    )
    second.wait_for_timeout(QUIET_MS)
    assert len(opened) == 1, "a page refused for too many sockets must not retry by itself"
    expect_live(first)  # the tab that was there first is untouched
    assert_clean_consoles(consoles)


# resume: the stalled connections flow again (the sent message's first post too, so it
# reaches the server twice); reroute: they stay dead and only new ones go through (the
# post must have timed out and been sent again).
@pytest.mark.parametrize("comeback", ["resume", "reroute"])
def test_a_black_holed_network_is_noticed_and_what_was_sent_meanwhile_arrives_once(
    new_context, consoles, beating_server, comeback
):
    server = beating_server
    with TcpProxy(server.port) as bob_net:
        alice = open_page(new_context, consoles, server.url, "alice")
        bob = open_page(new_context, consoles, bob_net.url, "bob", network_may_drop=True)
        bob_name = unique("bob")
        register(alice, unique("alice"), "Alice")
        register(bob, bob_name, "Bob")
        chat_id = create_group_chat(alice, "Tunnel", bob_name)
        open_chat(bob, chat_id)
        expect(presence_of(alice, "Bob")).to_have_text("online")
        # Several heartbeats go by: a quiet chat whose pages answer stays live.
        bob.wait_for_timeout(2.5 * BEAT * 1000)
        expect_live(bob)
        expect(presence_of(alice, "Bob")).to_have_text("online")

        # The network swallows everything and closes nothing.
        bob_net.stall()
        stalled_at = time.monotonic()
        # The page notices within two heartbeats and a check's period (2.5 of them) ...
        expect_offline(bob, timeout=int((2.5 * BEAT + 5) * 1000))
        noticed = time.monotonic() - stalled_at
        assert noticed < 2.5 * BEAT + 5, f"the page said Offline after {noticed:.1f} s"
        # ... and the server drops the silent socket: bob no longer shows as online.
        expect(presence_of(alice, "Bob")).to_have_text(
            "offline", timeout=int((4 * BEAT + 5) * 1000)
        )

        # Bob sends meanwhile: the post hangs, times out, and waits in the outbox.
        text = "sent into the tunnel"
        composer_box(bob).fill(text)
        composer_box(bob).press("Enter")
        expect(bob.locator("#outbox li")).to_have_text([f"Waiting for the connection: {text}"])
        bob.wait_for_timeout(2.5 * BEAT * 1000)  # past the send's timeout (2 heartbeats)
        expect_offline(bob)

        # The network comes back: the page recovers by itself, the message arrives once.
        getattr(bob_net, comeback)()
        expect_live(bob, timeout=RECONNECT_TIMEOUT)
        expect(bob.locator("#outbox")).to_be_hidden(timeout=RECONNECT_TIMEOUT)
        expect(messages_with(alice, text)).to_have_count(1)
        expect(messages_with(bob, text)).to_have_count(1)
        expect(presence_of(alice, "Bob")).to_have_text("online")
        alice.reload()
        expect(messages_with(alice, text)).to_have_count(1)
    assert_clean_consoles(consoles)
