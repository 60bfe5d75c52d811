"""The pages as HTML (issue 15): where links to a chat land, the composer on the
newer-messages page, a form sent back with its first error focused."""

from __future__ import annotations

from tests.support.html import html
from tests.support.people import send


async def test_links_to_a_chat_land_at_the_newest_message_and_the_composer(alice, watercooler):
    page = await alice.page("/chats")
    link = page.css_first(f"#chat-{watercooler} a.chat-link")
    assert link.attributes["href"] == f"/chats/{watercooler}#newest"

    await send(alice, watercooler, "hello")
    chat = await alice.page(f"/chats/{watercooler}")
    # #newest comes right after the composer (CSS puts it at the bottom of the window).
    assert chat.css_first("form#composer + #newest") is not None
    newer = chat.css_first("p.newer a")
    assert newer.attributes["href"] == f"/chats/{watercooler}/messages?after=1#newest"


async def test_the_newer_messages_page_has_a_composer_and_the_older_one_has_none(
    alice, bob, watercooler
):
    for n in range(3):
        await send(bob, watercooler, f"message {n}")
    newer = await alice.page(f"/chats/{watercooler}/messages?after=1")
    form = newer.css_first("form:has(textarea[name=body])")
    assert form.attributes["action"] == f"/chats/{watercooler}/messages"
    assert form.attributes["method"] == "post"
    assert form.css_first("input[name=csrf_token]").attributes["value"]
    assert form.css_first("input[name=client_token]").attributes["value"]
    # A plain form: the page's script, which sends the chat page's composer itself and
    # shows what it sent in that page's list, leaves this one alone.
    assert "composer" not in form.attributes["class"].split()
    assert newer.css_first("form:has(textarea[name=body]) + #newest") is not None
    back = newer.css_first("a[href$='#newest']")
    assert back.attributes["href"] == f"/chats/{watercooler}#newest"

    sent = await send(alice, watercooler, "from the newer page")
    assert sent.status_code == 303

    older = await alice.page(f"/chats/{watercooler}/messages?before=3")
    assert older.css_first("textarea") is None


async def test_a_refused_message_comes_back_with_its_field_focused(alice, watercooler):
    response = await send(alice, watercooler, "   ")
    assert response.status_code == 422
    page = html(await response.get_data())
    assert "autofocus" in page.css_first("#body").attributes
    assert len(page.css("[autofocus]")) == 1


async def test_a_form_with_several_errors_focuses_the_first(alice):
    response = await alice.post("/chats", {"title": " ", "members": "nobody_here"})
    assert response.status_code == 422
    page = html(await response.get_data())
    assert [node.id for node in page.css("[autofocus]")] == ["title"]
    assert page.css_first("#members").attributes.get("aria-invalid") == "true"


async def test_a_page_without_errors_focuses_nothing(alice, watercooler):
    for path in ("/chats", f"/chats/{watercooler}", "/account/password"):
        assert (await alice.page(path)).css("[autofocus]") == [], path
