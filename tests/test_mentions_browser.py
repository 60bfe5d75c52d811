"""Typing @ offers member names (issue 17, item 2), in real Chromium.

With JavaScript (static/js/mentions.js): the word at the caret, "@" and the start of a
username or display name, lists the chat's members that match (the page's member list,
which frames keep current; never anyone else) in a listbox the message box controls,
as the APG combobox does for a text field; arrows move, Enter or Tab puts "@username "
in place of the word without sending, Escape closes, a click inserts, and a polite
status says how many are offered, in the reader's language. The box stays a multi-line
textbox, on which ARIA allows no aria-expanded (axe's aria-allowed-attr), so it says
aria-haspopup instead. Without JavaScript the member list shows each member's @username.
axe-core finds nothing on the chat with the list open, at 360 and 1280 px, light and dark.

Needs /usr/bin/chromium (`apt-get install chromium`) and axe-core (`npm ci --prefix
tools`); skipped without them outside CI and failed in CI. One hypercorn process serves
the module; every test makes its own people.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.axe import assert_axe_clean, axe_script
from tests.support.browser import connection_state, serve
from tests.support.browser_people import People, Person
from tests.support.remote import unique
from tests.support.servers import RestartableServer

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("mentions-instance"))


@pytest.fixture
def people(browser, server) -> Iterator[People]:
    made = People(browser, server.url, viewport=DESKTOP, locale="en-US")
    yield made
    made.close()


@pytest.fixture(scope="module")
def axe_source() -> str:
    return axe_script()


def composer_box(page: Page) -> Locator:
    """The message box, in any language."""
    return page.locator("form.composer textarea[name=body]")


def suggestions(page: Page) -> Locator:
    """The list, shown or not (the script makes it; it is hidden until an @)."""
    return page.get_by_role("listbox", include_hidden=True)


def options(page: Page) -> Locator:
    return suggestions(page).get_by_role("option")


def status(page: Page) -> Locator:
    return page.locator(".mentions-status")


def chat_of(people: People) -> tuple[Person, Person, Person, int]:
    """Alice's chat with Bob and Carol ("Bonnie"), and Boris, who is in none of hers."""
    alice, bob = people("alice", "Alice"), people("bob", "Bob Marley")
    carol, _boris = people("carol", "Bonnie"), people("bo", "Boris")
    return alice, bob, carol, alice.create_chat(unique("Watercooler"), bob, carol)


def open_chat(people: People, person: Person, chat: int, **args) -> Page:
    page = people.page(person, **args)
    page.goto(f"/chats/{chat}")
    # Live, in any language: the socket is open, the script has started.
    expect(connection_state(page)).to_have_attribute("data-live", "true")
    return page


def type_in(page: Page, text: str) -> None:
    box = composer_box(page)
    box.click()
    box.press_sequentially(text)


def test_typing_at_offers_a_member_and_enter_inserts_the_name_without_sending(people):
    alice, bob, _carol, chat = chat_of(people)
    page = open_chat(people, alice, chat)
    box = composer_box(page)
    # The suggestions are a module the page imports on the box's first focus.
    expect(box).not_to_have_attribute("aria-autocomplete", "list")
    box.focus()
    listbox = suggestions(page)
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-autocomplete", "list")
    expect(box).to_have_attribute("aria-haspopup", "listbox")
    expect(box).to_have_attribute("aria-controls", listbox.get_attribute("id"))
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile(r"."))

    type_in(page, "Hi @bob_")
    expect(listbox).to_be_visible()
    expect(listbox).to_have_accessible_name("Members")
    expect(options(page)).to_have_text([f"Bob Marley @{bob.username}"])
    expect(status(page)).to_have_text("1 suggestion")
    expect(status(page)).to_have_attribute("aria-live", "polite")
    first = options(page).first
    expect(first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", first.get_attribute("id"))
    # Focus never leaves the box: the option is its active descendant.
    expect(box).to_be_focused()

    box.press("ArrowDown")  # one option: it stays chosen
    expect(first).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(box).to_have_value(f"Hi @{bob.username} ")
    expect(listbox).to_be_hidden()
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile(r"."))

    # Had that Enter sent "Hi @bob_", it would be in the log before this one.
    box.press_sequentially("there")
    box.press("Enter")
    expect(box).to_have_value("")
    sent = page.locator("#messages li.message")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text(f"Hi @{bob.username} there")
    mention = sent.locator("a.mention")
    expect(mention).to_have_text(f"@{bob.username}")
    expect(mention).to_have_attribute("href", f"/people/{bob.username}")


def test_arrows_move_tab_or_a_click_inserts_escape_closes_and_strangers_are_never_offered(
    people,
):
    alice, bob, carol, chat = chat_of(people)
    page = open_chat(people, alice, chat)
    box = composer_box(page)
    listbox = suggestions(page)

    # "bo": Bob by his username, Bonnie by her display name; never Boris, who is in
    # none of Alice's chats, nor Alice herself.
    type_in(page, "@bo")
    expect(options(page)).to_have_text([f"Bob Marley @{bob.username}", f"Bonnie @{carol.username}"])
    expect(status(page)).to_have_text("2 suggestions")
    second = options(page).nth(1)
    box.press("ArrowDown")
    expect(second).to_have_attribute("aria-selected", "true")
    expect(options(page).first).to_have_attribute("aria-selected", "false")
    expect(box).to_have_attribute("aria-activedescendant", second.get_attribute("id"))
    box.press("ArrowDown")  # round to the first
    expect(options(page).first).to_have_attribute("aria-selected", "true")
    box.press("ArrowUp")  # round to the last
    expect(second).to_have_attribute("aria-selected", "true")
    box.press("Tab")
    expect(box).to_have_value(f"@{carol.username} ")
    expect(box).to_be_focused()

    # Case does not matter; Escape closes and leaves the text as typed.
    box.press_sequentially("and @BONN")
    expect(options(page)).to_have_text([f"Bonnie @{carol.username}"])
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile(r"."))
    expect(box).to_have_value(f"@{carol.username} and @BONN")

    # No member starts so: nothing offered, and the status says so.
    box.fill("")
    type_in(page, "@zz")
    expect(listbox).to_be_hidden()
    expect(status(page)).to_have_text("0 suggestions")

    # An @ inside a word (an e-mail address) is not a mention.
    box.fill("")
    type_in(page, "mail bob@bo")
    expect(listbox).to_be_hidden()

    # A click on an option inserts it in place of the word at the caret.
    box.fill("")
    type_in(page, "ping @b")
    expect(options(page)).to_have_count(2)
    options(page).nth(0).click()
    expect(box).to_have_value(f"ping @{bob.username} ")
    expect(box).to_be_focused()
    expect(listbox).to_be_hidden()
    expect(page.locator("#messages li.message")).to_have_count(0)


def test_a_member_added_while_the_page_is_open_is_offered(people):
    alice, _bob, _carol, chat = chat_of(people)
    page = open_chat(people, alice, chat)
    dave = people("dave", "Dave")
    type_in(page, "@da")
    expect(suggestions(page)).to_be_hidden()
    alice.post(f"/chats/{chat}/members", {"members": dave.username})
    # The "members added" frame puts Dave in the page's member list.
    expect(page.locator(".chat-members")).to_contain_text(f"@{dave.username}")
    composer_box(page).press_sequentially("v")
    expect(options(page)).to_have_text([f"Dave @{dave.username}"])


def test_the_status_counts_in_russian(people):
    alice, _bob, _carol, chat = chat_of(people)
    page = open_chat(people, alice, chat, locale="ru-RU")
    type_in(page, "@bo")
    expect(status(page)).to_have_text("2 варианта")
    expect(suggestions(page)).to_have_accessible_name("Участники")
    composer_box(page).press_sequentially("b")
    expect(status(page)).to_have_text("1 вариант")
    composer_box(page).press_sequentially("zz")
    expect(status(page)).to_have_text("0 вариантов")


def test_without_javascript_the_member_list_shows_each_members_username(people):
    alice, bob, carol, chat = chat_of(people)
    page = people.page(alice, java_script_enabled=False)
    page.goto(f"/chats/{chat}")
    members = page.locator(".chat-members .member")
    expect(members).to_have_count(3)
    for person in (alice, bob, carol):
        expect(
            members.filter(has_text=person.display_name).locator(".member-username")
        ).to_have_text(f"@{person.username}")
    # Nothing of the script's list without it.
    expect(suggestions(page)).to_have_count(0)
    expect(composer_box(page)).not_to_have_attribute("aria-controls", re.compile(r"."))


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [360, 1280])
def test_axe_finds_nothing_with_the_list_open_and_it_stays_on_the_screen(
    people, axe_source, width, scheme
):
    alice, _bob, _carol, chat = chat_of(people)
    look = PHONE if width == 360 else {"viewport": DESKTOP}
    page = open_chat(people, alice, chat, color_scheme=scheme, **look)
    type_in(page, "@b")
    expect(options(page)).to_have_count(2)
    composer_box(page).press("ArrowDown")
    expect(options(page).nth(1)).to_have_attribute("aria-selected", "true")
    assert_axe_clean(page, axe_source, f"chat with the mention list open at {width} {scheme}")
    # Above the message box and wholly on the screen; nothing scrolls sideways.
    box = suggestions(page).bounding_box()
    field = composer_box(page).bounding_box()
    viewport = page.viewport_size
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], box
    assert box["y"] >= 0 and box["y"] + box["height"] <= field["y"], (box, field)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    # The active option stands out from the others.
    colours = options(page).evaluate_all(
        "items => items.map(item => getComputedStyle(item).backgroundColor)"
    )
    assert colours[0] != colours[1], colours
