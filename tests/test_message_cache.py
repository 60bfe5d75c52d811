"""vibechat/message_cache.py: each version of a message is rendered once per process."""

from __future__ import annotations

from markupsafe import Markup
from quart import template_rendered

from tests.support.html import html
from tests.support.people import send
from vibechat.i18n import LANGUAGES
from vibechat.message_cache import RenderedMessages


class PartialRenders:
    """Counts renders of the message partial while it is in use."""

    def __init__(self, app) -> None:
        self.app = app
        self.count = 0

    def __enter__(self) -> PartialRenders:
        template_rendered.connect(self._note, self.app)
        return self

    def __exit__(self, *_exc) -> None:
        template_rendered.disconnect(self._note, self.app)

    async def _note(self, _sender, template, context, **_extra) -> None:
        if template.name == "messages/_message.html":
            self.count += 1


async def test_a_chat_page_renders_each_message_once_and_then_reuses_it(app, alice, watercooler):
    for n in range(3):
        await send(alice, watercooler, f"message {n}")
    with PartialRenders(app) as renders:
        first = await alice.get(f"/chats/{watercooler}")
        assert renders.count == 3
        again = await alice.get(f"/chats/{watercooler}")
        older = await alice.get(f"/chats/{watercooler}/messages?after=0")
        assert renders.count == 3, "the second page and the catch-up page reuse them"
    assert first.status_code == again.status_code == older.status_code == 200
    page = await again.get_data(as_text=True)
    for n in range(3):
        assert f"message {n}" in page


async def test_an_edit_or_a_deletion_is_a_new_version(alice, bob, watercooler):
    await send(alice, watercooler, "before the edit")
    assert "before the edit" in await (await bob.get(f"/chats/{watercooler}")).get_data(
        as_text=True
    )
    edited = await alice.post(f"/chats/{watercooler}/messages/1/edit", {"body": "after the edit"})
    assert edited.status_code == 303
    page = await (await bob.get(f"/chats/{watercooler}")).get_data(as_text=True)
    assert "after the edit" in page and "before the edit" not in page
    deleted = await alice.post(f"/chats/{watercooler}/messages/1/delete")
    assert deleted.status_code == 303
    page = await (await bob.get(f"/chats/{watercooler}")).get_data(as_text=True)
    assert "Message deleted" in page and "after the edit" not in page


def test_the_cache_keeps_the_most_recently_used_versions():
    cache = RenderedMessages(capacity=2)
    cache.put((1, 1, "A"), Markup("<li>1</li>"))
    cache.put((2, 2, "A"), Markup("<li>2</li>"))
    assert cache.get((1, 1, "A")) == Markup("<li>1</li>")  # now the most recent
    cache.put((3, 3, "A"), Markup("<li>3</li>"))
    assert cache.get((2, 2, "A")) is None
    assert cache.get((1, 1, "A")) is not None and cache.get((3, 3, "A")) is not None
    assert len(cache) == 2


async def test_catch_up_fragments_keep_hx_swap_oob_after_the_page_cached_its_messages(
    alice, watercooler
):
    """The page renders messages without data-hx-swap-oob, a catch-up fragment with it (htmx
    swaps each by id): one must not be served the other's cached HTML."""
    for n in range(3):
        await send(alice, watercooler, f"message {n}")
    page = html(await (await alice.get(f"/chats/{watercooler}")).get_data(as_text=True))
    assert [li.attributes.get("data-hx-swap-oob") for li in page.css("li.message")] == [None] * 3
    fragment = await alice.get(
        f"/chats/{watercooler}/messages?since=0", headers={"HX-Request": "true"}
    )
    items = html(await fragment.get_data(as_text=True)).css("li.message")
    assert [li.attributes.get("data-hx-swap-oob") for li in items] == ["true"] * 3
    again = html(await (await alice.get(f"/chats/{watercooler}")).get_data(as_text=True))
    assert [li.attributes.get("data-hx-swap-oob") for li in again.css("li.message")] == [None] * 3


async def test_a_live_frame_renders_its_message_through_the_cache_and_catch_up_reuses_it(
    app, alice, watercooler
):
    """The broadcast of a new message and a catch-up fragment show the same version with
    data-hx-swap-oob: one rendering serves both. The frame is rendered once per language
    (English and Russian), never once per recipient; a catch-up in either reuses it."""
    with PartialRenders(app) as renders:
        await send(alice, watercooler, "live and caught up")
        assert renders.count == len(LANGUAGES) == 2, "the frame rendered it once per language"
        fragment = await alice.get(
            f"/chats/{watercooler}/messages?since=0", headers={"HX-Request": "true"}
        )
        russian = await alice.get(
            f"/chats/{watercooler}/messages?since=0",
            headers={"HX-Request": "true", "Accept-Language": "ru"},
        )
        assert renders.count == 2, "the catch-ups reused the frame's renderings"
    assert "live and caught up" in await russian.get_data(as_text=True)
    assert "live and caught up" in await fragment.get_data(as_text=True)
