"""People and mentions (SPEC §10) in real Chromium, with JavaScript on and off: a
mention in a chat leads to the person's page, whose "Send a message" button lands in
the direct chat with them; "Show in context" on /mentions opens the chat at the
message, in view and marked (:target).

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it outside CI and
failed in CI. One hypercorn process serves the module; every test makes its own people.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from tests.support.browser import (
    arrived,
    assert_clean_consoles,
    in_view,
    serve,
    watched,
)
from tests.support.browser_people import People
from tests.support.remote import unique
from tests.support.servers import RestartableServer

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("people-instance"))


@pytest.fixture
def people(browser, server) -> Iterator[People]:
    made = People(browser, server.url, viewport=DESKTOP, locale="en-US")
    yield made
    made.close()


@JAVASCRIPT
def test_a_mention_leads_to_the_person_and_on_to_a_direct_chat_with_them(
    people, consoles, javascript
):
    alice = people("alice", "Alice Keys")
    bob, carol = people("bob", "Bob"), people("carol", "Carol")
    chat = alice.create_chat(unique("Watercooler"), bob, carol)
    bob.say(chat, f"@{alice.username} has the keys to the bike shed")
    page = watched(people.page(carol, java_script_enabled=javascript), consoles, "carol")

    page.goto(f"/chats/{chat}")
    arrived(page, javascript)
    mention = page.locator("#messages a.mention")
    expect(mention).to_have_text(f"@{alice.username}")
    mention.click()
    expect(page).to_have_url(re.compile(rf"/people/{alice.username}$"))
    expect(page.locator("h1")).to_have_text("Alice Keys")
    expect(page.locator("main")).to_contain_text(f"@{alice.username}")

    page.get_by_role("button", name="Send a message").click()
    expect(page).to_have_url(re.compile(r"/chats/\d+$"))
    direct = int(page.url.rsplit("/", 1)[1])
    assert direct != chat
    arrived(page, javascript)
    expect(page.locator("h1")).to_have_text("Alice Keys")  # a direct chat: the other's name
    # The composer is there, and what is said reaches alice's own chat with carol.
    page.locator("#body").fill("Can I borrow them?")
    page.locator("form.composer button[type=submit]").click()
    expect(page.locator("#messages li.message").last).to_contain_text("Can I borrow them?")
    assert_clean_consoles(consoles)


@JAVASCRIPT
def test_show_in_context_opens_the_chat_at_the_message_in_view_and_marked(
    people, consoles, javascript
):
    alice, bob = people("alice", "Alice"), people("bob", "Bob")
    chat = alice.create_chat(unique("Long chat"), bob)
    for n in range(1, 61):
        body = f"@{alice.username} number {n}, the one to find" if n == 8 else f"Filler {n}"
        (bob if n % 2 else alice).say(chat, body)
    bob.say(chat, f"@{alice.username} and the newest one")
    page = watched(people.page(alice, java_script_enabled=javascript), consoles, "alice")

    page.goto("/mentions")
    arrived(page, javascript)
    items = page.locator(".mention-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("the newest one")  # newest first
    expect(items.nth(1)).to_contain_text("the one to find")

    items.nth(1).get_by_role("link", name="Show in context").click()
    target = f"msg-{chat}-8"
    expect(page).to_have_url(re.compile(rf"/chats/{chat}\?around=8#{target}$"))
    arrived(page, javascript)
    message = page.locator(f"#{target}")
    expect(message).to_contain_text("the one to find")
    assert (
        page.evaluate("document.querySelector(':target') && document.querySelector(':target').id")
        == target
    )
    # Marked: the :target rule's outline, and in view (not merely on the page).
    expect(message).to_have_css("outline-style", "solid")
    page.wait_for_function(
        "id => { const r = document.getElementById(id).getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight }",
        arg=target,
    )
    assert in_view(page, f"#{target}")
    # The chat is shown around it, not at its newest: the newest message is not there.
    expect(page.locator(f"#msg-{chat}-61")).to_have_count(0)
    assert_clean_consoles(consoles)
