"""In real Chromium, with JavaScript off and on: deleting a chat, leaving one and deleting
a message each take two steps, and Cancel changes nothing (tests/test_confirm.py has
the pages over HTTP)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.support.browser import TIMEOUT
from tests.support.people import PASSWORD
from tests.support.remote import unique
from tests.support.servers import ServerFailed, live_server

pytestmark = pytest.mark.browser

NO_JS = pytest.mark.browser_context_args(java_script_enabled=False)


@pytest.fixture(scope="module")
def browser_context_args(playwright, device, base_url) -> dict:
    args = dict(playwright.devices[device]) if device else {}
    args["base_url"] = base_url
    return args


@pytest.fixture(scope="module")
def base_url(chromium_executable, tmp_path_factory) -> Iterator[str]:
    try:
        with live_server(tmp_path_factory.mktemp("confirm-browser")) as url:
            yield url
    except ServerFailed as error:
        pytest.fail(str(error), pytrace=False)


def signed_up(new_context) -> Page:
    context: BrowserContext = new_context()
    context.set_default_timeout(TIMEOUT)
    context.set_default_navigation_timeout(TIMEOUT)
    page = context.new_page()
    page.goto("/register")
    page.get_by_label("Username", exact=True).fill(unique("alice"))
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Create account", exact=True).click()
    expect(page).to_have_url(re.compile(r"/chats$"))
    return page


def new_chat(page: Page, title: str) -> int:
    page.goto("/chats")
    page.get_by_label("Title", exact=True).fill(title)
    page.get_by_role("button", name="Create chat", exact=True).click()
    expect(page).to_have_url(re.compile(r"/chats/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def heading(page: Page):
    return page.get_by_role("heading", level=1)


def link(page: Page, name: str):
    return page.get_by_role("link", name=name, exact=True)


def button(page: Page, name: str):
    return page.get_by_role("button", name=name, exact=True)


def deleting_a_chat_takes_two_steps(page: Page, javascript: bool) -> None:
    chat_id = new_chat(page, "Doomed")
    if javascript:  # the chat page's scripts ran: these are links, not htmx requests
        page.wait_for_function("typeof window.htmx === 'object'")
    else:
        assert page.evaluate("typeof window.htmx") == "undefined"
    page.goto(f"/chats/{chat_id}/members")
    # Step one only asks; Cancel goes back with the chat untouched.
    link(page, "Delete this chat for everyone…").click()
    expect(page).to_have_url(re.compile(rf"/chats/{chat_id}/delete$"))
    expect(heading(page)).to_have_text("Delete Doomed for everyone?")
    expect(page.get_by_text("This cannot be undone.")).to_be_visible()
    link(page, "Cancel, keep the chat").click()
    expect(heading(page)).to_have_text("Members of Doomed")
    page.goto(f"/chats/{chat_id}")
    expect(heading(page)).to_have_text("Doomed")
    # Step two deletes it.
    page.goto(f"/chats/{chat_id}/members")
    link(page, "Delete this chat for everyone…").click()
    button(page, "Delete the chat for everyone").click()
    expect(page).to_have_url(re.compile(r"/chats$"))
    expect(page.get_by_role("link", name="Doomed")).to_have_count(0)
    assert page.goto(f"/chats/{chat_id}").status == 404


def the_last_member_is_told_before_leaving(page: Page) -> None:
    chat_id = new_chat(page, "Alone")
    page.goto(f"/chats/{chat_id}/members")
    link(page, "Leave this chat…").click()
    expect(heading(page)).to_have_text("Leave Alone?")
    expect(page.get_by_text("You are the last member.")).to_be_visible()
    button(page, "Leave and delete the chat").click()
    expect(page).to_have_url(re.compile(r"/chats$"))
    assert page.goto(f"/chats/{chat_id}").status == 404


def deleting_a_message_takes_two_steps(page: Page) -> None:
    chat_id = new_chat(page, "Notes")
    page.goto(f"/chats/{chat_id}")
    composer = page.get_by_label("Message", exact=True)
    composer.fill("Keep or not")
    button(page, "Send").click()
    message = page.locator(f"#msg-{chat_id}-1")
    expect(message).to_contain_text("Keep or not")
    page.goto(f"/chats/{chat_id}/messages/1/edit")
    expect(button(page, "Delete message")).to_have_count(0)  # not beside Save
    link(page, "Delete this message…").click()
    expect(heading(page)).to_have_text("Delete your message?")
    button(page, "Delete message").click()
    expect(page).to_have_url(re.compile(rf"/chats/{chat_id}#msg-{chat_id}-1$"))
    expect(message.locator(".message-body")).to_have_text("Message deleted")


@NO_JS
def test_without_javascript_deleting_a_chat_takes_two_steps(new_context):
    deleting_a_chat_takes_two_steps(signed_up(new_context), javascript=False)


def test_with_javascript_deleting_a_chat_takes_two_steps(new_context):
    deleting_a_chat_takes_two_steps(signed_up(new_context), javascript=True)


@NO_JS
def test_without_javascript_the_last_member_is_told_before_leaving(new_context):
    the_last_member_is_told_before_leaving(signed_up(new_context))


def test_with_javascript_the_last_member_is_told_before_leaving(new_context):
    the_last_member_is_told_before_leaving(signed_up(new_context))


@NO_JS
def test_without_javascript_deleting_a_message_takes_two_steps(new_context):
    deleting_a_message_takes_two_steps(signed_up(new_context))


def test_with_javascript_deleting_a_message_takes_two_steps(new_context):
    deleting_a_message_takes_two_steps(signed_up(new_context))
