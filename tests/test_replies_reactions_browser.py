"""Replies, reactions, a chat opened around one message and "New messages", in real
Chromium with JavaScript on and off (SPEC §10).

With JavaScript (static/js/composer.js, static/js/reading.js): a Reply link fills the
composer's quote box and Cancel empties it, without a page load, and the reply is sent
with the message; a reaction button toggles in the background and the message changes
when its live frame comes; a chat opens at the message a link points at, or at "New
messages". Without it: the same by plain links and forms (?reply_to=, the page's #react
form, the React page), each answered with 303 back to the message.

Needs /usr/bin/chromium (`apt-get install chromium`); skipped without it outside CI and
failed in CI. One hypercorn process serves the module; every test makes its own people.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.support.browser import (
    Console,
    assert_clean_consoles,
    composer_box,
    expect_live,
    in_view,
    serve,
)
from tests.support.browser_people import People, Person
from tests.support.pages import csrf_in
from tests.support.remote import unique
from tests.support.servers import RestartableServer

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 640}
QUOTE_CHARS = 140  # vibechat.message_parts.QUOTE_CHARS
# Longer than a quote: the quote is its first 140 characters and "…".
LUNCH = (
    "Where shall we have lunch today? The noodle place on the corner has a new menu, the "
    "pizzeria by the station is quiet at one, and the canteen has soup again on Fridays."
)
LUNCH_QUOTE = LUNCH[:QUOTE_CHARS].rstrip() + "…"


@pytest.fixture(scope="module")
def server(chromium_executable, tmp_path_factory) -> Iterator[RestartableServer]:
    yield from serve(tmp_path_factory.mktemp("replies-reactions-instance"))


@pytest.fixture
def consoles() -> Iterator[list[Console]]:
    watched: list[Console] = []
    yield watched
    assert_clean_consoles(watched)


@pytest.fixture
def people(browser, server) -> Iterator[People]:
    made = People(browser, server.url, viewport=DESKTOP, locale="en-US")
    yield made
    made.close()


# -- people's steps over HTTP, and pages -----------------------------------------------------


def post(person: Person, path: str, form: dict) -> None:
    person.post(path, form)


def say_many(person: Person, chat: int, bodies: list[str]) -> None:
    """Messages posted one after another with one token (Person.say asks for one each)."""
    token = csrf_in(person.first.request.get("/chats").text())
    for body in bodies:
        form = {"body": body, "client_token": uuid.uuid4().hex, "csrf_token": token}
        answer = person.first.request.post(f"/chats/{chat}/messages", form=form, max_redirects=0)
        assert answer.status == 303, answer.text()[:300]


def reply(person: Person, chat: int, seq: int, body: str) -> None:
    post(
        person,
        f"/chats/{chat}/messages",
        {"body": body, "client_token": uuid.uuid4().hex, "reply_to": str(seq)},
    )


def react(person: Person, chat: int, seq: int, emoji: str) -> None:
    post(person, f"/chats/{chat}/messages/{seq}/reactions", {"emoji": emoji})


def two_in_a_chat(people: People) -> tuple[Person, Person, int]:
    alice, bob = people("alice", "Alice"), people("bob", "Bob")
    return alice, bob, alice.create_chat(unique("Watercooler"), bob)


def open_chat(
    people: People, consoles: list[Console], person: Person, chat: int, query: str = "", **args
) -> Page:
    """The chat as `person` sees it (live, with JavaScript unless args turn it off),
    its console watched."""
    page = people.page(person, **args)
    console = Console(person.username)
    page.on("console", console.on_console)
    page.on("pageerror", console.on_page_error)
    consoles.append(console)
    page.goto(f"/chats/{chat}{query}")
    if args.get("java_script_enabled", True):
        expect_live(page)
    return page


def message(page: Page, chat: int, seq: int) -> Locator:
    return page.locator(f"#msg-{chat}-{seq}")


def mark_page(page: Page) -> None:
    """A mark on this document: still there later means no page was loaded meanwhile."""
    page.evaluate("window.stillThisPage = true")


def same_page(page: Page) -> bool:
    return page.evaluate("window.stillThisPage === true")


def replying_box(page: Page) -> Locator:
    return page.locator("form.composer .replying")


def reply_to_field(page: Page) -> Locator:
    return page.locator("form.composer input[name=reply_to]")


def expect_quote(page: Page, chat: int, seq: int, original: int, author: str, text: str):
    quote = message(page, chat, seq).locator("a.quote")
    expect(quote).to_have_attribute(
        "href", f"/chats/{chat}?around={original}#msg-{chat}-{original}"
    )
    expect(quote.locator("b")).to_have_text(author)
    expect(quote.locator("b + span")).to_have_text(text)


def newest_seq(page: Page) -> int:
    return int(page.locator("#messages > li.message").last.get_attribute("data-seq"))


# -- replies with JavaScript -----------------------------------------------------------------


def test_reply_fills_the_box_without_a_page_load_and_the_reply_quotes_live_on_both_pages(
    people, consoles
):
    alice, bob, chat = two_in_a_chat(people)
    bob.say(chat, LUNCH)
    alices = open_chat(people, consoles, alice, chat)
    bobs = open_chat(people, consoles, bob, chat)
    mark_page(alices)

    message(alices, chat, 1).get_by_role("link", name="Reply", exact=True).click()
    box = replying_box(alices)
    expect(box).to_be_visible()
    expect(box.locator("b")).to_have_text("Bob")
    expect(box.locator("b + span")).to_have_text(LUNCH_QUOTE)
    expect(reply_to_field(alices)).to_have_value("1")
    expect(composer_box(alices)).to_be_focused()
    assert same_page(alices) and "reply_to" not in alices.url
    # However long the quote, Cancel is on the line, not cut off with the words.
    line, cancel = box.bounding_box(), box.locator("a").bounding_box()
    assert cancel["x"] + cancel["width"] <= line["x"] + line["width"], (cancel, line)

    alices.keyboard.type("The noodle place!")
    alices.keyboard.press("Enter")
    # Queued: the box is emptied and hidden for the next message.
    expect(composer_box(alices)).to_have_value("")
    expect(box).to_be_hidden()
    expect(reply_to_field(alices)).to_have_value("")
    for page in (alices, bobs):
        expect(message(page, chat, 2).locator(".message-body")).to_have_text("The noodle place!")
        expect_quote(page, chat, 2, 1, "Bob", LUNCH_QUOTE)
    assert same_page(alices)
    # The next message is not a reply.
    alices.keyboard.type("See you there")
    alices.keyboard.press("Enter")
    expect(message(bobs, chat, 3).locator(".message-body")).to_have_text("See you there")
    expect(message(bobs, chat, 3).locator(".quote")).to_have_count(0)


def test_cancel_empties_the_reply_box_without_a_page_load(people, consoles):
    alice, bob, chat = two_in_a_chat(people)
    bob.say(chat, "Anyone for coffee?")
    page = open_chat(people, consoles, alice, chat)
    mark_page(page)
    message(page, chat, 1).get_by_role("link", name="Reply", exact=True).click()
    expect(replying_box(page)).to_be_visible()
    expect(replying_box(page).locator("b + span")).to_have_text("Anyone for coffee?")

    replying_box(page).get_by_role("link", name="Cancel reply", exact=True).click()
    expect(replying_box(page)).to_be_hidden()
    expect(reply_to_field(page)).to_have_value("")
    expect(composer_box(page)).to_be_focused()
    assert same_page(page)
    page.keyboard.type("Not an answer")
    page.keyboard.press("Enter")
    expect(message(page, chat, 2).locator(".message-body")).to_have_text("Not an answer")
    expect(message(page, chat, 2).locator(".quote")).to_have_count(0)


def test_an_edited_original_changes_the_quote_live_and_a_deleted_one_says_so(people, consoles):
    alice, bob, chat = two_in_a_chat(people)
    bob.say(chat, "Lunch at noon?")
    reply(alice, chat, 1, "Yes please")
    page = open_chat(people, consoles, alice, chat)
    expect_quote(page, chat, 2, 1, "Bob", "Lunch at noon?")

    post(bob, f"/chats/{chat}/messages/1/edit", {"body": "Lunch at one?"})
    expect_quote(page, chat, 2, 1, "Bob", "Lunch at one?")

    post(bob, f"/chats/{chat}/messages/1/delete", {})
    quote = message(page, chat, 2).locator("a.quote")
    expect(quote).to_have_text("Reply to Message deleted")
    expect(quote.locator("i")).to_have_text("Message deleted")
    expect(message(page, chat, 2).locator(".message-body")).to_have_text("Yes please")


def test_a_reply_to_a_message_deleted_meanwhile_shows_the_servers_error(people, consoles):
    alice, bob, chat = two_in_a_chat(people)
    bob.say(chat, "Soon gone")
    page = open_chat(people, consoles, alice, chat)
    message(page, chat, 1).get_by_role("link", name="Reply", exact=True).click()
    expect(reply_to_field(page)).to_have_value("1")
    # Gone without a trace: a seq the chat never had is what the server refuses.
    page.locator("form.composer input[name=reply_to]").evaluate("input => { input.value = 99 }")
    page.keyboard.type("Too late")
    page.keyboard.press("Enter")
    expect(page.locator("#body-error")).to_have_text(
        "The message you are replying to was not found in this chat."
    )
    expect(composer_box(page)).to_have_value("Too late")
    # Chromium notes the refusal on the console; nothing else may be there.
    for console in consoles:
        console.errors = [e for e in console.errors if "status of 422" not in e]


def test_saved_outbox_items_with_and_without_reply_to_are_sent_after_a_reload(people, consoles):
    """The outbox is kept in localStorage: an item saved before replies existed has no
    reply_to and is sent as a plain message; one with it is sent as a reply."""
    alice, bob, chat = two_in_a_chat(people)
    bob.say(chat, "Lunch at noon?")
    page = open_chat(people, consoles, alice, chat)
    me = page.locator("body").get_attribute("data-me")
    page.evaluate(
        """([key, old, reply]) => localStorage.setItem(key, JSON.stringify({d: '', q: [
             {body: 'Saved before replies', token: old},
             {body: 'Saved as a reply', token: reply, reply_to: '1'}]}))""",
        [f"vibechat-outbox-{me}-{chat}", uuid.uuid4().hex, uuid.uuid4().hex],
    )
    page.reload()
    expect(message(page, chat, 2).locator(".message-body")).to_have_text("Saved before replies")
    expect(message(page, chat, 2).locator(".quote")).to_have_count(0)
    expect(message(page, chat, 3).locator(".message-body")).to_have_text("Saved as a reply")
    expect_quote(page, chat, 3, 1, "Bob", "Lunch at noon?")
    expect(page.locator(".outbox")).to_be_hidden()


# -- replies and reactions without JavaScript ------------------------------------------------


def test_without_javascript_reply_opens_the_page_with_the_box_and_sends_the_reply(people, consoles):
    alice, bob, chat = two_in_a_chat(people)
    bob.say(chat, LUNCH)
    page = open_chat(people, consoles, alice, chat, java_script_enabled=False)
    expect(replying_box(page)).to_be_hidden()
    message(page, chat, 1).get_by_role("link", name="Reply", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/chats/{chat}\?reply_to=1#composer$"))
    expect(replying_box(page)).to_be_visible()
    expect(replying_box(page).locator("b")).to_have_text("Bob")
    expect(replying_box(page).locator("b + span")).to_have_text(LUNCH_QUOTE)
    expect(reply_to_field(page)).to_have_value("1")

    composer_box(page).fill("The noodle place!")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send", exact=True).click()
    assert navigation.value.request.redirected_from.method == "POST"
    expect(page).to_have_url(re.compile(rf"/chats/{chat}#msg-{chat}-2$"))
    expect_quote(page, chat, 2, 1, "Bob", LUNCH_QUOTE)
    expect(replying_box(page)).to_be_hidden()


def reaction_button(page: Page, chat: int, seq: int, emoji: str) -> Locator:
    return message(page, chat, seq).locator(f'.reactions button[data-emoji="{emoji}"]')


def expect_reaction(page: Page, chat: int, seq: int, emoji: str, names: list[str]) -> None:
    """The button of `emoji`: its count and who reacted, for eyes, hover and screen readers."""
    button = reaction_button(page, chat, seq, emoji)
    said = " and ".join(names) if len(names) < 3 else ", ".join(names[:-1]) + " and " + names[-1]
    expect(button).to_have_attribute("data-count", str(len(names)))
    expect(button).to_have_attribute("title", said)
    expect(button).to_have_text(f"{emoji} {len(names)}: {said}")
    expect(button.locator(".visually-hidden")).to_have_text(f": {said}")
    # (Chromium puts a space before the visually hidden part: it is taken out of the flow.)
    expect(button).to_have_accessible_name(
        re.compile(rf"^{re.escape(emoji)} {len(names)} ?: {re.escape(said)}$")
    )


def test_without_javascript_a_reaction_button_toggles_and_comes_back(people, consoles):
    alice, bob, chat = two_in_a_chat(people)
    alice.say(chat, "Cake in the kitchen")
    react(bob, chat, 1, "👍")
    page = open_chat(people, consoles, alice, chat, java_script_enabled=False)
    expect_reaction(page, chat, 1, "👍", ["Bob"])

    with page.expect_navigation() as navigation:
        reaction_button(page, chat, 1, "👍").click()
    assert navigation.value.request.redirected_from.method == "POST"
    expect(page).to_have_url(re.compile(rf"/chats/{chat}#msg-{chat}-1$"))
    expect_reaction(page, chat, 1, "👍", ["Bob", "Alice"])

    with page.expect_navigation():
        reaction_button(page, chat, 1, "👍").click()
    expect_reaction(page, chat, 1, "👍", ["Bob"])


def test_without_javascript_the_react_page_takes_a_quick_reaction_and_a_typed_emoji(
    people, consoles
):
    alice, bob, chat = two_in_a_chat(people)
    bob.say(chat, "We shipped it")
    page = open_chat(people, consoles, alice, chat, java_script_enabled=False)

    message(page, chat, 1).get_by_role("link", name="React", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/chats/{chat}/messages/1/reactions$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("React to a message")
    with page.expect_navigation():
        page.locator(".quick-reactions").get_by_role("button", name="🎉", exact=True).click()
    expect(page).to_have_url(re.compile(rf"/chats/{chat}#msg-{chat}-1$"))
    expect_reaction(page, chat, 1, "🎉", ["Alice"])

    page.goto(f"/chats/{chat}/messages/1/reactions")
    page.get_by_label("Or type any emoji", exact=True).fill("🚀")
    with page.expect_navigation():
        page.get_by_role("button", name="Add reaction", exact=True).click()
    expect_reaction(page, chat, 1, "🎉", ["Alice"])
    expect_reaction(page, chat, 1, "🚀", ["Alice"])

    # What is so far is listed on the page, each a button that takes yours back.
    page.goto(f"/chats/{chat}/messages/1/reactions")
    expect(page.locator(".reaction-list li")).to_have_count(2)
    with page.expect_navigation():
        page.locator(".reaction-list").get_by_role("button", name="🚀 1", exact=True).click()
    expect(reaction_button(page, chat, 1, "🚀")).to_have_count(0)

    page.goto(f"/chats/{chat}/messages/1/reactions")
    field = page.get_by_label("Or type any emoji", exact=True)
    field.fill("hello")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Add reaction", exact=True).click()
    assert navigation.value.status == 422
    expect(page).to_have_title(re.compile(r"^Error: "))
    expect(page.locator("#emoji-error")).to_have_text("A reaction is a single emoji, such as 👍.")
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\bemoji-error\b"))
    expect(field).to_have_value("hello")
    # Chromium notes the refusal on the console; nothing else may be there.
    for console in consoles:
        console.errors = [e for e in console.errors if "status of 422" not in e]


# -- reactions with JavaScript ---------------------------------------------------------------


def test_a_reaction_button_toggles_without_a_page_load_and_the_other_page_shows_it_live(
    people, consoles
):
    alice, bob, chat = two_in_a_chat(people)
    alice.say(chat, "Cake in the kitchen")
    react(bob, chat, 1, "👍")
    alices = open_chat(people, consoles, alice, chat)
    bobs = open_chat(people, consoles, bob, chat)
    mark_page(alices)
    expect_reaction(alices, chat, 1, "👍", ["Bob"])

    with alices.expect_request(f"**/chats/{chat}/messages/1/reactions") as sent:
        reaction_button(alices, chat, 1, "👍").click()
    assert sent.value.method == "POST" and sent.value.post_data == "emoji=%F0%9F%91%8D"
    assert sent.value.headers["hx-request"] == "true"
    assert sent.value.response().status == 204
    for page in (alices, bobs):
        expect_reaction(page, chat, 1, "👍", ["Bob", "Alice"])
        expect(reaction_button(page, chat, 1, "👍")).to_have_attribute("data-emoji", "👍")

    reaction_button(alices, chat, 1, "👍").click()
    for page in (alices, bobs):
        expect_reaction(page, chat, 1, "👍", ["Bob"])
    assert same_page(alices) and alices.url.endswith(f"/chats/{chat}")


# -- a chat opened around a message ----------------------------------------------------------


def numbered_chat(people: People, count: int) -> tuple[Person, Person, int]:
    alice, bob, chat = two_in_a_chat(people)
    say_many(alice, chat, [f"Numbered message {n}" for n in range(1, count + 1)])
    return alice, bob, chat


def shown_seqs(page: Page) -> list[int]:
    return page.locator("ol.messages > li.message").evaluate_all(
        "items => items.map(item => Number(item.dataset.seq))"
    )


def is_target(page: Page, chat: int, seq: int) -> bool:
    return page.evaluate(f"document.querySelector('#msg-{chat}-{seq}').matches(':target')")


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_around_a_message_it_is_in_view_and_marked_and_the_links_go_both_ways(
    people, consoles, javascript
):
    alice, _bob, chat = numbered_chat(people, 100)
    page = open_chat(
        people, consoles, alice, chat, f"?around=40#msg-{chat}-40", java_script_enabled=javascript
    )
    assert shown_seqs(page) == list(range(15, 66))
    assert is_target(page, chat, 40)
    assert in_view(page, f"#msg-{chat}-40")
    expect(page.locator(".jump-newest")).to_be_hidden()

    if javascript:
        # Earlier messages come in above, without a page load.
        mark_page(page)
        page.locator(".older").get_by_role("link", name="Earlier messages").click()
        expect(page.locator("#messages > li.message")).to_have_count(51 + 14)
        assert shown_seqs(page) == list(range(1, 66)) and same_page(page)
    else:
        page.locator(".older").get_by_role("link", name="Earlier messages").click()
        expect(page).to_have_url(re.compile(rf"/chats/{chat}/messages\?before=15$"))
        assert shown_seqs(page) == list(range(1, 15))
        page.go_back()

    page.locator(".later").get_by_role("link", name="Newer messages").click()
    expect(page).to_have_url(re.compile(rf"/chats/{chat}\?around=91#msg-{chat}-66$"))
    if javascript:
        expect_live(page)
    assert shown_seqs(page) == list(range(66, 101))
    assert is_target(page, chat, 66)
    assert in_view(page, f"#msg-{chat}-66")
    # The newest is shown: no more "Newer messages".
    expect(page.locator(".later")).to_have_count(0)


def test_around_a_message_a_new_one_is_not_put_after_the_gap(people, consoles):
    alice, bob, chat = numbered_chat(people, 100)
    page = open_chat(people, consoles, alice, chat, f"?around=40#msg-{chat}-40")
    bob.say(chat, "Sent meanwhile")
    # The frame came (the chat list beside the chat shows it) but the log keeps its stretch.
    expect(page.locator(f"#chat-preview-{chat}")).to_contain_text("Sent meanwhile")
    assert shown_seqs(page) == list(range(15, 66))
    expect(page.locator(f"#msg-{chat}-101")).to_have_count(0)
    assert in_view(page, f"#msg-{chat}-40")
    # "Go to the newest" has it.
    page.locator(".later").get_by_role("link", name="Go to the newest").click()
    expect(message(page, chat, 101).locator(".message-body")).to_have_text("Sent meanwhile")


# -- "New messages" ----------------------------------------------------------------------------


def log_outline(page: Page) -> list[str]:
    """The log's items: 'day', 'new' (the divider), else the message's seq, with '+'
    when it is grouped with the one above (its author's name not shown again)."""
    return page.locator("#messages").evaluate(
        """log => [...log.children].map(item => item.matches('.day') ? 'day'
          : item.matches('.unread-divider') ? 'new'
          : item.dataset.seq + (item.matches('.message-continued') ? '+' : ''))"""
    )


def ends_in_view(page: Page, selector: str) -> bool:
    """The element's end is in the conversation's box (the newest message is as tall as
    the box on a phone: it may not be wholly in view)."""
    return page.evaluate(
        """selector => {
          const element = document.querySelector(selector)
          const box = element.closest('.conversation').getBoundingClientRect()
          const end = element.getBoundingClientRect().bottom
          return end > box.top && end <= Math.min(box.bottom, innerHeight) + 0.5
        }""",
        selector,
    )


LONG = " ".join(["This one is long enough to take many lines on a phone."] * 14)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_a_chat_opens_at_new_messages_above_the_first_unseen(people, consoles, javascript):
    alice, bob, chat = two_in_a_chat(people)
    say_many(alice, chat, [f"{n}. {LONG}" for n in range(1, 4)])
    page = open_chat(
        people, consoles, bob, chat, viewport=PHONE, has_touch=True, java_script_enabled=javascript
    )
    divider = page.locator("#messages > li.unread-divider")
    expect(divider).to_have_count(1)
    expect(divider.get_by_role("heading", level=3)).to_have_text("New messages")
    # One day, one heading: above "New messages", not again below it.
    if javascript:
        expect(page.locator("#messages > li.message.message-continued")).to_have_count(2)
        assert log_outline(page) == ["day", "new", "1", "2+", "3+"]
        # Opened there, not at the newest (three long messages down).
        assert in_view(page, "#unread-divider")
        assert not ends_in_view(page, f"#msg-{chat}-3")
        jump = page.locator(".jump-newest")
        expect(jump).to_be_visible()
        jump.get_by_role("link").click()
        expect(jump).to_be_hidden()
        assert ends_in_view(page, f"#msg-{chat}-3")
    else:
        assert log_outline(page) == ["day", "new", "1", "2", "3"]


def test_new_messages_break_a_run_of_one_persons_messages(people, consoles):
    alice, bob, chat = two_in_a_chat(people)
    alice.say(chat, "Seen already")
    open_chat(people, consoles, bob, chat, java_script_enabled=False).close()
    say_many(alice, chat, ["Not seen yet", "Nor this"])
    page = open_chat(people, consoles, bob, chat)
    expect(page.locator("#messages > li.message.message-continued")).to_have_count(1)
    assert log_outline(page) == ["day", "1", "new", "2", "3+"]


def test_around_a_message_below_new_messages_it_opens_at_the_message(people, consoles):
    _alice, bob, chat = numbered_chat(people, 100)
    page = open_chat(people, consoles, bob, chat, f"?around=60#msg-{chat}-60")
    expect(page.locator("#unread-divider")).to_have_count(1)
    assert log_outline(page)[:3] == ["day", "new", "35"]
    assert is_target(page, chat, 60)
    assert in_view(page, f"#msg-{chat}-60")
