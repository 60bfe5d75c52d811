"""Server-to-browser frames: HTML whose every top-level element has an explicit
hx-swap-oob, rendered once per event from the same partials the pages use. On its way
through the broker a frame travels in an envelope (vibechat.live.envelope).
"""

from __future__ import annotations

from typing import Any

from quart import render_template

from vibechat.models import Message


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
