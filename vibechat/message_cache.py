"""Each version of a message rendered once per process, then reused by every page.

The message partial (templates/messages/_message.html) never depends on who reads
it, so the HTML of one version of a message is the same on every chat page, older
page, catch-up and live frame that shows it. Rendering 50 of them was most of a chat
page's cost (docs/performance.md). A version is (message id, rev, author's display
name, with or without data-hx-swap-oob, with or without the edit link, language, and for a
page the reader's time zone: a frame or fragment is zone-free): an edit or a
deletion takes a new rev, and the author's name is the one thing the partial shows
that is not the message's own (its id, dom_id("msg", chat, seq), is fixed for the
message). A live frame and a catch-up
fragment both carry data-hx-swap-oob, so the broadcast of a change renders the version
that every catch-up after it reuses; the chat list's preview beside it in a frame
(templates/live/message.html) is not cached: it is rendered once per frame anyway.

A small LRU by hand: an OrderedDict does it in a dozen lines, and the caching
libraries' async support would cache the coroutine, not its result.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict

from markupsafe import Markup
from quart import Quart, current_app, render_template

from vibechat import i18n, timezones
from vibechat.models import Message

CAPACITY = 10_000  # versions kept per process: about 1 KB each


class RenderedMessages:
    def __init__(self, capacity: int = CAPACITY) -> None:
        self.capacity = capacity
        self._html: OrderedDict[tuple, Markup] = OrderedDict()

    def get(self, key: tuple) -> Markup | None:
        html = self._html.get(key)
        if html is not None:
            self._html.move_to_end(key)
        return html

    def put(self, key: tuple, html: Markup) -> None:
        self._html[key] = html
        self._html.move_to_end(key)
        if len(self._html) > self.capacity:
            self._html.popitem(last=False)

    def __len__(self) -> int:
        return len(self._html)


def version(message: Message, oob: bool, actions: bool) -> tuple:
    author = message.author.display_name if message.author else None
    zone = None if oob else timezones.current()
    return (message.id, message.rev, author, oob, actions, i18n.current(), zone)


async def rendered_message(message: Message, oob: bool = False, mine: bool = False) -> Markup:
    """The partial's HTML for this version of the message (a Jinja global); oob: with
    data-hx-swap-oob, as catch-up fragments carry it so that htmx swaps each by id. A page
    (not oob) shows the edit link only when the message is the reader's (mine); a frame
    or fragment (oob) is the same for every reader and always carries it, hidden by the
    reader's stylesheet but for the author."""
    cache: RenderedMessages = current_app.extensions["rendered_messages"]
    actions = oob or mine
    key = version(message, oob, actions)
    html = cache.get(key)
    if html is None:
        # A fragment (oob) is for the script, which shows its time in the reader's zone.
        with timezones.zone_free() if oob else contextlib.nullcontext():
            rendered = await render_template(
                "messages/_message.html", message=message, oob=oob, actions=actions
            )
        # Not user text: the partial's own output, every value in it escaped there by
        # autoescaping. Markup only stops the list template escaping it a second time.
        html = Markup(rendered)  # noqa: S704  # nosec B704
        cache.put(key, html)
    return html


def init_message_cache(app: Quart) -> None:
    app.extensions["rendered_messages"] = RenderedMessages()
    app.jinja_env.globals["rendered_message"] = rendered_message
