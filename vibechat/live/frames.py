"""Server-to-browser frames: HTML whose every top-level element has an explicit
hx-swap-oob, rendered once per event from the same partials the pages use.

On its way through the broker a frame travels in an envelope: one line of JSON for
the socket handler (which chats to join or leave), then the frame's bytes, which go
to every recipient unchanged.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from quart import render_template

from vibechat.models import Message

TOPIC_CHAT = "chat:{}"
TOPIC_USER = "user:{}"


def chat_topic(chat_id: int) -> str:
    return TOPIC_CHAT.format(chat_id)


def user_topic(user_id: int) -> str:
    return TOPIC_USER.format(user_id)


def seal(frame: str, **control: Any) -> bytes:
    """Envelope: a JSON line for the socket handler, then the frame itself."""
    return json.dumps(control, separators=(",", ":")).encode() + b"\n" + frame.encode()


NO_CONTROL = b"{}\n"


# A broadcast reaches every subscriber with the same bytes object: open it once, and
# every connection queues the same str (bytes cache their hash, so a hit costs little).
# The control dict is shared between connections: it is read, never changed.
@functools.lru_cache(maxsize=64)
def open_envelope(data: bytes) -> tuple[dict[str, Any], str]:
    if data.startswith(NO_CONTROL):  # almost every frame: skip the JSON parser
        return {}, data[len(NO_CONTROL) :].decode()
    header, _, frame = data.partition(b"\n")
    return json.loads(header), frame.decode()


async def message_frame(message: Message, *, preview: Message | None, with_preview: bool) -> str:
    """A new, edited or deleted message, and the chat list's preview when it changed."""
    return await render_template(
        "live/message.html", message=message, preview=preview, with_preview=with_preview, oob=True
    )


async def typing_frame(chat_id: int, typers: list[tuple[int, str]]) -> str:
    return await render_template("chats/_typing.html", chat_id=chat_id, typers=typers, oob=True)


async def presence_frame(user_id: int, online: bool) -> str:
    return await render_template("chats/_presence.html", user_id=user_id, online=online, oob=True)


async def render_partial(template: str, **context: Any) -> str:
    """Any page partial as a frame (its top-level element carries hx-swap-oob)."""
    return await render_template(template, oob=True, **context)
