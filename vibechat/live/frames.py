"""Server-to-browser frames: HTML whose every top-level element has an explicit
data-hx-swap-oob, rendered once per event from templates (the same partials the pages use,
and templates/live/ for what only a frame says). No HTML is written here. On its way
through the broker a frame travels in an envelope (vibechat.live.envelope).
"""

from __future__ import annotations

from dataclasses import dataclass

from quart import render_template

from vibechat.models import Chat, Membership, Message, User


@dataclass(frozen=True)
class Preview:
    """The chat list's preview of a chat after a change: its latest message that still
    exists, or None when none is left ("No messages yet.")."""

    message: Message | None


@dataclass(frozen=True)
class NewChatItem:
    """What the chat list partial needs for a chat that has just been joined."""

    chat: Chat
    name: str
    unread: int = 0
    last_message: Message | None = None


@dataclass(frozen=True)
class Owner:
    """A chat's owner as the member list shows them."""

    person: User
    role: str

    @classmethod
    def of(cls, pair: tuple[Membership, User]) -> Owner:
        membership, person = pair
        return cls(person, membership.role)


async def _frame(template: str, **context) -> str:
    return await render_template(template, oob=True, **context)


async def message_frame(message: Message, preview: Preview | None) -> str:
    """A new, edited or deleted message, and the chat list's preview when it changed
    (preview None: it did not)."""
    return await _frame("live/message.html", message=message, preview=preview)


async def typing_frame(chat_id: int, typers: list[tuple[int, str]]) -> str:
    return await _frame("chats/_typing.html", chat_id=chat_id, typers=typers)


async def presence_frame(user_id: int, online: bool) -> str:
    return await _frame("chats/_presence.html", user_id=user_id, online=online)


async def chat_item_frame(chat: Chat, name: str) -> str:
    """A chat just joined, for the chat list (under the name this person sees)."""
    return await _frame("chats/_item.html", summary=NewChatItem(chat, name))


async def members_added_frame(
    chat_id: int, people: list[User], count: int, online: set[int]
) -> str:
    """New members for the member list, and the chat's member count now (the header)."""
    return await _frame(
        "live/members_added.html",
        chat_id=chat_id,
        people=people,
        role="member",
        count=count,
        online=online,
    )


async def member_left_frame(
    chat_id: int, user_id: int, count: int, owner: Owner | None, online: set[int]
) -> str:
    return await _frame(
        "live/member_left.html",
        chat_id=chat_id,
        user_id=user_id,
        count=count,
        owner=owner,
        online=online,
    )


async def chat_gone_frame(chat_id: int, reason: str) -> str:
    return await _frame("live/chat_gone.html", chat_id=chat_id, status=reason)


async def renamed_frame(chat: Chat) -> str:
    return await _frame("live/renamed.html", chat=chat)


async def unread_frame(chat_id: int, unread: int) -> str:
    return await _frame("chats/_unread.html", chat_id=chat_id, unread=unread)
