"""Destructive actions ask first, on a page of their own (works without JavaScript):
leaving a chat, deleting a chat for everyone, deleting a message. The POST routes stay
as SPEC §4 has them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.db import count, snapshot
from tests.support.html import csrf_from, html
from tests.support.people import create_chat, send
from vibechat.models import Chat, Membership, Message, User


async def roles(db, chat_id: int) -> dict[str, str]:
    async with db.read() as session:
        rows = await session.execute(
            select(User.username, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.chat_id == chat_id)
        )
        return dict(rows.all())


def the_form(page, action: str):
    """The one POST form for action on the page, and its submit button's text."""
    forms = page.css(f'form[method="post"][action="{action}"]')
    assert len(forms) == 1, action
    return forms[0], forms[0].css_first('button[type="submit"]').text()


# -- the members page leads to the questions ------------------------------------------------


async def test_the_members_page_links_to_the_questions_instead_of_acting_at_once(
    alice, bob, watercooler
):
    for person, owner in ((alice, True), (bob, False)):
        page = await person.page(f"/chats/{watercooler}/members")
        for action in ("leave", "delete"):
            assert page.css(f'form[action="/chats/{watercooler}/{action}"]') == []
        leave = page.css_first(f'a[href="/chats/{watercooler}/leave"]')
        assert leave is not None and leave.text() == "Leave this chat…"
        delete = page.css_first(f'a[href="/chats/{watercooler}/delete"]')
        assert (delete is not None) is owner
        if owner:
            assert delete.text() == "Delete this chat for everyone…"


# -- leaving --------------------------------------------------------------------------------


async def test_the_leave_page_asks_and_changes_nothing(bob, db, watercooler):
    before = await snapshot(db)
    response = await bob.get(f"/chats/{watercooler}/leave")
    assert response.status_code == 200
    page = html(await response.get_data())
    assert page.css_first("h1").text() == "Leave Watercooler?"
    assert "You will no longer see its messages" in page.css_first("main").text()
    form, button = the_form(page, f"/chats/{watercooler}/leave")
    assert button == "Leave the chat"
    assert form.css_first('input[name="csrf_token"]').attributes["value"] == bob.token
    cancel = page.css_first(f'a[href="/chats/{watercooler}/members"]')
    assert cancel is not None and cancel.text().startswith("Cancel")
    assert await snapshot(db) == before


async def test_leaving_through_the_page_posts_its_form(bob, db, watercooler):
    page = await bob.get(f"/chats/{watercooler}/leave")
    token = csrf_from(await page.get_data())
    response = await bob.post(f"/chats/{watercooler}/leave", {"csrf_token": token}, csrf=False)
    assert response.status_code == 303
    assert response.headers["Location"] == "/chats"
    assert await roles(db, watercooler) == {"alice": "owner"}


async def test_the_last_member_is_told_that_leaving_deletes_the_chat(alice, db):
    chat_id = await create_chat(alice, "Solo")
    await send(alice, chat_id, "notes to self")
    response = await alice.get(f"/chats/{chat_id}/leave")
    assert response.status_code == 200
    page = html(await response.get_data())
    text = page.css_first("main").text()
    assert "You are the last member. Leaving deletes this chat and all its messages" in text
    _form, button = the_form(page, f"/chats/{chat_id}/leave")
    assert button == "Leave and delete the chat"
    assert await count(db, Chat) == 1
    assert (await alice.post(f"/chats/{chat_id}/leave")).status_code == 303
    assert await count(db, Chat) == 0 and await count(db, Message) == 0


async def test_an_owner_leaving_is_told_who_takes_over_and_that_is_who_does(alice, bob, carol, db):
    chat_id = await create_chat(alice, "Plans", "bob")
    await alice.post(f"/chats/{chat_id}/members", {"members": "carol"})
    page = await alice.page(f"/chats/{chat_id}/leave")
    assert "Bob Dylan (@bob) will become its owner" in page.css_first("main").text()
    assert (await alice.post(f"/chats/{chat_id}/leave")).status_code == 303
    assert await roles(db, chat_id) == {"bob": "owner", "carol": "member"}


async def test_a_member_leaving_is_not_told_of_a_new_owner(bob, watercooler):
    page = await bob.page(f"/chats/{watercooler}/leave")
    assert "will become its owner" not in page.css_first("main").text()


async def test_a_direct_chat_has_no_leave_page(alice, bob):
    response = await alice.post("/chats/direct", {"username": "bob"})
    chat_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert (await alice.get(f"/chats/{chat_id}/leave")).status_code == 403


# -- deleting a chat ------------------------------------------------------------------------


async def test_the_delete_page_asks_the_owner_and_changes_nothing(alice, bob, carol, db):
    chat_id = await create_chat(alice, "Plans", "bob carol")
    before = await snapshot(db)
    response = await alice.get(f"/chats/{chat_id}/delete")
    assert response.status_code == 200
    page = html(await response.get_data())
    assert page.css_first("h1").text() == "Delete Plans for everyone?"
    text = page.css_first("main").text()
    assert "all its messages will be deleted for good, also for the 2 other members" in text
    assert "This cannot be undone." in text
    _form, button = the_form(page, f"/chats/{chat_id}/delete")
    assert button == "Delete the chat for everyone"
    cancel = page.css_first(f'a[href="/chats/{chat_id}/members"]')
    assert cancel is not None and cancel.text().startswith("Cancel")
    assert await snapshot(db) == before
    # The page's own form deletes it.
    token = csrf_from(await response.get_data())
    deleted = await alice.post(f"/chats/{chat_id}/delete", {"csrf_token": token}, csrf=False)
    assert deleted.status_code == 303 and deleted.headers["Location"] == "/chats"
    assert await count(db, Chat) == 0


async def test_the_delete_page_names_one_other_member_in_the_singular(alice, watercooler):
    page = await alice.page(f"/chats/{watercooler}/delete")
    assert "also for the other member." in page.css_first("main").text()


@pytest.mark.parametrize("path", ["leave", "delete"])
async def test_a_stranger_gets_404_for_the_questions(carol, watercooler, path):
    assert (await carol.get(f"/chats/{watercooler}/{path}")).status_code == 404


async def test_a_member_who_does_not_own_the_chat_gets_403_for_delete(bob, watercooler):
    assert (await bob.get(f"/chats/{watercooler}/delete")).status_code == 403


@pytest.mark.parametrize("path", ["leave", "delete"])
async def test_a_visitor_is_sent_to_log_in_first(people, watercooler, path):
    response = await people.anonymous().get(f"/chats/{watercooler}/{path}")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


async def test_a_direct_post_still_deletes_without_the_page(alice, db, watercooler):
    response = await alice.post(f"/chats/{watercooler}/delete")
    assert response.status_code == 303
    assert await count(db, Chat) == 0


# -- deleting a message ---------------------------------------------------------------------


async def test_the_edit_page_has_no_delete_button_but_a_link_to_ask(alice, watercooler):
    await send(alice, watercooler, "typo hre")
    page = await alice.page(f"/chats/{watercooler}/messages/1/edit")
    assert page.css(f'form[action="/chats/{watercooler}/messages/1/delete"]') == []
    link = page.css_first(f'a[href="/chats/{watercooler}/messages/1/delete"]')
    assert link is not None and link.text() == "Delete this message…"


async def test_the_message_delete_page_shows_the_message_and_asks(alice, db, watercooler):
    await send(alice, watercooler, "typo hre")
    before = await snapshot(db)
    response = await alice.get(f"/chats/{watercooler}/messages/1/delete")
    assert response.status_code == 200
    page = html(await response.get_data())
    assert page.css_first("h1").text() == "Delete your message?"
    assert page.css_first("blockquote").text() == "typo hre"
    _form, button = the_form(page, f"/chats/{watercooler}/messages/1/delete")
    assert button == "Delete message"
    cancel = page.css_first(f'a[href="/chats/{watercooler}#msg-{watercooler}-1"]')
    assert cancel is not None and cancel.text().startswith("Cancel")
    assert await snapshot(db) == before


async def test_only_the_author_is_asked_about_deleting_a_message(alice, bob, carol, watercooler):
    await send(alice, watercooler, "mine")
    path = f"/chats/{watercooler}/messages/1/delete"
    assert (await bob.get(path)).status_code == 403
    assert (await carol.get(path)).status_code == 404
    assert (await alice.post(path)).status_code == 303
    assert (await alice.get(path)).status_code == 403  # deleted already
