"""Server-to-browser frames: HTML whose every top-level element has an explicit
data-hx-swap-oob, rendered once per event from templates (the same partials the pages use,
and templates/live/ for what only a frame says). No HTML is written here. On its way
through the broker a frame travels in an envelope (vibechat.live.envelope).
"""

from __future__ import annotations

from dataclasses import dataclass

from quart import render_template

from vibechat.i18n import LANGUAGES, speaking
from vibechat.models import Chat, Membership, Message, User
from vibechat.timezones import zone_free


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


# A frame in every language, in the order of i18n.LANGUAGES: rendered once per language
# (not per recipient), and each socket sends the one its page speaks. Its times are in
# UTC: the page's script shows them in the reader's zone (vibechat.timezones).
Frame = tuple[str, ...]


async def _frame(template: str, **context) -> Frame:
    rendered = []
    for language in LANGUAGES:
        with speaking(language), zone_free():
            rendered.append(await render_template(template, oob=True, **context))
    return tuple(rendered)


def joined(frames: list[Frame]) -> Frame:
    """Several frames as one, language by language."""
    return tuple("".join(parts) for parts in zip(*frames, strict=True))


async def message_frame(message: Message, preview: Preview | None) -> Frame:
    """A new, edited or deleted message, and the chat list's preview when it changed
    (preview None: it did not)."""
    return await _frame("live/message.html", message=message, preview=preview)


async def typing_frame(chat_id: int, typers: list[tuple[int, str]]) -> Frame:
    return await _frame("chats/_typing.html", chat_id=chat_id, typers=typers)


async def presence_frame(user_id: int, online: bool) -> Frame:
    return await _frame("chats/_presence.html", user_id=user_id, online=online)


async def chat_item_frame(chat: Chat, name: str) -> Frame:
    """A chat just joined, for the chat list (under the name this person sees)."""
    return await _frame("chats/_item.html", summary=NewChatItem(chat, name))


async def members_added_frame(
    chat_id: int, people: list[User], count: int, online: set[int]
) -> Frame:
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
) -> Frame:
    return await _frame(
        "live/member_left.html",
        chat_id=chat_id,
        user_id=user_id,
        count=count,
        owner=owner,
        online=online,
    )


async def chat_gone_frame(chat_id: int, reason: str) -> Frame:
    return await _frame("live/chat_gone.html", chat_id=chat_id, status=reason)


async def renamed_frame(chat: Chat) -> Frame:
    return await _frame("live/renamed.html", chat=chat)


async def unread_frame(chat_id: int, unread: int) -> Frame:
    return await _frame("chats/_unread.html", chat_id=chat_id, unread=unread)
