"""Broadcasts, called explicitly by the views after they commit.

Each function renders its frame once and publishes the same bytes to every
recipient's topic: `chat:<id>` reaches every open socket of every member of a chat,
`user:<id>` every open socket of one person.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from quart import current_app

from vibechat.live.envelope import chat_topic, seal, user_topic
from vibechat.live.frames import message_frame, presence_frame, render_partial, typing_frame
from vibechat.models import Chat, Membership, Message, User

log = logging.getLogger(__name__)

REMOVED = "You were removed from this chat."
LEFT = "You left this chat."
DELETED = "This chat was deleted by its owner."


@dataclass(frozen=True)
class NewChatItem:
    """What the chat list partial needs for a chat that has just been joined."""

    chat: Chat
    name: str
    unread: int = 0
    last_message: Message | None = None


def broadcast(function):
    """A broadcast never fails the request that committed: pages catch up from the
    database on their next (re)connect, so a lost frame costs a little delay only."""

    @functools.wraps(function)
    async def wrapper(*args, **kwargs):
        try:
            await function(*args, **kwargs)
        except Exception:
            log.exception("broadcast %s failed", function.__name__)

    return wrapper


def _live():
    return current_app.extensions["live"]


async def _publish(topic: str, frame: str, **control) -> None:
    await _live().broker.publish(topic, seal(frame, **control))


KEEP_PREVIEW = object()


@broadcast
async def message_changed(message: Message, *, created: bool, preview=KEEP_PREVIEW) -> None:
    """A message was posted, edited or deleted (a tombstone). A new message is the chat
    list's new preview; an edit or deletion passes the preview when it changed it (the
    latest message that still exists, or None when there is none)."""
    if created:
        preview = message
    frame = await message_frame(message, preview=preview, with_preview=preview is not KEEP_PREVIEW)
    await _publish(chat_topic(message.chat_id), frame)
    if created and _live().typing.stop(message.chat_id, message.author_id):
        await typing_changed(message.chat_id)


@broadcast
async def typing_changed(chat_id: int) -> None:
    frame = await typing_frame(chat_id, _live().typing.current(chat_id))
    await _publish(chat_topic(chat_id), frame)


async def presence_changed(user_id: int, chat_ids, online: bool) -> None:
    """Someone came online or went offline: every chat they are in hears it within
    PRESENCE_BATCH seconds, together with whoever else came or went meanwhile."""
    _live().announce_presence(user_id, chat_ids, online)


@broadcast
async def presence_batch(news: dict[int, dict[int, bool]]) -> None:
    """One frame per chat for everyone who came or went (chat -> person -> online)."""
    rendered: dict[tuple[int, bool], str] = {}
    for chat_id, people in news.items():
        for change in people.items():
            if change not in rendered:
                rendered[change] = await presence_frame(*change)
        await _publish(chat_topic(chat_id), "".join(rendered[change] for change in people.items()))


@broadcast
async def chats_joined(chat: Chat, names: dict[int, str]) -> None:
    """People were added to a chat (or it was created with them): their open pages
    subscribe to it and their chat lists show it. names: user id -> the chat's name
    as that person sees it (the same for a group, the other person for a direct chat).
    """
    rendered: dict[str, str] = {}
    for user_id, name in names.items():
        if name not in rendered:
            rendered[name] = await render_partial(
                "chats/_item.html", summary=NewChatItem(chat, name)
            )
        await _publish(user_topic(user_id), rendered[name], join=chat.id)


@broadcast
async def members_added(chat: Chat, people: list[User]) -> None:
    """New members appear in the member list of everyone who has the chat open."""
    online = await _live().presence.online(person.id for person in people)
    frames = [
        await render_partial(
            "chats/_member.html", chat_id=chat.id, person=person, role="member", online=online
        )
        for person in people
    ]
    await _publish(chat_topic(chat.id), "".join(frames))
    await chats_joined(chat, {person.id: chat.title or "" for person in people})


@broadcast
async def member_left(
    chat_id: int, user_id: int, *, reason: str, owner: tuple[Membership, User] | None
) -> None:
    """Someone left or was removed: they stop receiving at once and their page says so;
    the others see them go (and the new owner's badge, if ownership moved)."""
    await _gone(chat_id, [user_id], reason)
    frame = f'<li id="member-{chat_id}-{user_id}" hx-swap-oob="delete"></li>'
    if owner is not None:
        membership, person = owner
        online = await _live().presence.online([person.id])
        frame += await render_partial(
            "chats/_member.html",
            chat_id=chat_id,
            person=person,
            role=membership.role,
            online=online,
        )
    await _publish(chat_topic(chat_id), frame)


@broadcast
async def chat_deleted(chat_id: int, member_ids: list[int]) -> None:
    await _gone(chat_id, member_ids, DELETED)


async def _gone(chat_id: int, user_ids: list[int], reason: str) -> None:
    """The chat is no longer these people's: unsubscribe their sockets, say so."""
    status = await render_partial("chats/_status.html", chat_id=chat_id, status=reason)
    frame = status + f'<li id="chat-{chat_id}" hx-swap-oob="delete"></li>'
    for user_id in user_ids:
        await _publish(user_topic(user_id), frame, leave=chat_id)


@broadcast
async def chat_renamed(chat: Chat) -> None:
    frame = await render_partial("live/renamed.html", chat=chat)
    await _publish(chat_topic(chat.id), frame)


@broadcast
async def session_ended(user_id: int, session_hash: str) -> None:
    """A browser logged out: its open sockets close (they hold no other check)."""
    await _publish(user_topic(user_id), "", revoke=session_hash)


@broadcast
async def read_marked(user_id: int, chat_id: int, unread: int) -> None:
    """The reader's other tabs update the chat's unread count."""
    frame = await render_partial("chats/_unread.html", chat_id=chat_id, unread=unread)
    await _publish(user_topic(user_id), frame)
