"""Real Chromium: the offline outbox and the draft outlive the tab (static/js/composer.js
keeps them in localStorage per person and chat), are sent on the next visit exactly
once, and a browser whose storage refuses still sends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, Route, expect

from tests.support.browser import (
    RECONNECT_TIMEOUT,
    assert_clean_consoles,
    composer_box,
    create_group_chat,
    messages_with,
    open_chat,
    open_page,
    register,
    say,
    serve,
)
from tests.support.remote import unique
from tests.support.servers import RestartableServer

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("outbox-browser"))


def refuse_posts(page: Page, chat_id: int) -> None:
    """Every POST of a message is refused, as by a network that is not there yet."""

    def handle(route: Route) -> None:
        if route.request.method == "POST":
            route.abort("connectionrefused")
        else:
            route.continue_()

    page.route(lambda url: url.split("?")[0].endswith(f"/chats/{chat_id}/messages"), handle)


def stored(page: Page) -> list[str]:
    return page.evaluate(
        "() => Object.keys(localStorage).filter(key => key.startsWith('vibechat-outbox-'))"
    )


def test_a_message_queued_offline_survives_a_reload_and_arrives_exactly_once(
    new_context, consoles, server
):
    alice = open_page(new_context, consoles, server.url, "alice", network_may_drop=True)
    register(alice, unique("alice"), "Alice")
    chat_id = create_group_chat(alice, "Outbox", "")
    open_chat(alice, chat_id)
    say(alice, "before the tunnel")

    text = "written in the tunnel"
    alice.context.set_offline(True)
    composer_box(alice).fill(text)
    composer_box(alice).press("Enter")
    expect(composer_box(alice)).to_have_value("")
    expect(alice.locator("#outbox li")).to_have_count(1)
    composer_box(alice).fill("half a thought")  # a draft, not sent

    # Back online, but the posts still fail (the tab is reloaded before they can go):
    # the reloaded page shows what is waiting and the draft.
    refuse_posts(alice, chat_id)
    alice.context.set_offline(False)
    alice.reload()
    expect(alice.locator("#outbox")).to_be_visible()
    expect(alice.locator("#outbox li")).to_have_count(1)
    expect(alice.locator("#outbox li")).to_contain_text(text)
    expect(composer_box(alice)).to_have_value("half a thought")
    expect(messages_with(alice, text)).to_have_count(0)

    # The posts get through: sent once, the outbox empties, storage holds only the draft.
    alice.unroute_all()
    expect(messages_with(alice, text)).to_have_count(1, timeout=RECONNECT_TIMEOUT)
    expect(alice.locator("#outbox")).to_be_hidden()
    # Sending the draft clears it: a reload brings back neither message nor draft.
    composer_box(alice).press("Enter")
    expect(messages_with(alice, "half a thought")).to_have_count(1)
    assert stored(alice) == []
    alice.reload()
    expect(composer_box(alice)).to_have_value("")
    expect(alice.locator("#outbox")).to_be_hidden()
    expect(messages_with(alice, text)).to_have_count(1)
    expect(messages_with(alice, "half a thought")).to_have_count(1)
    assert_clean_consoles(consoles)


def test_a_message_left_by_a_closed_tab_is_sent_by_the_next_visit_once(
    new_context, consoles, server
):
    alice = open_page(new_context, consoles, server.url, "alice", network_may_drop=True)
    register(alice, unique("alice"), "Alice")
    chat_id = create_group_chat(alice, "Closed tab", "")
    open_chat(alice, chat_id)
    refuse_posts(alice, chat_id)
    composer_box(alice).fill("from the closed tab")
    composer_box(alice).press("Enter")
    expect(alice.locator("#outbox li")).to_contain_text("from the closed tab")
    context = alice.context
    alice.close()

    later = context.new_page()
    later.goto(f"/chats/{chat_id}")
    expect(messages_with(later, "from the closed tab")).to_have_count(1)
    expect(later.locator("#outbox")).to_be_hidden()
    later.reload()
    expect(messages_with(later, "from the closed tab")).to_have_count(1)
    assert_clean_consoles(consoles)


def test_sending_works_when_the_browser_refuses_storage(new_context, consoles, server):
    alice = open_page(new_context, consoles, server.url, "alice")
    # As in a private window with no quota: every use of localStorage throws.
    alice.add_init_script(
        """for (const name of ['getItem', 'setItem', 'removeItem']) {
             Storage.prototype[name] = () => {
               throw new DOMException('full', 'QuotaExceededError')
             }
           }"""
    )
    register(alice, unique("alice"), "Alice")
    chat_id = create_group_chat(alice, "No storage", "")
    open_chat(alice, chat_id)
    say(alice, "sent without storage")
    composer_box(alice).fill("a draft nobody keeps")
    say(alice, "and another")
    assert_clean_consoles(consoles)
