"""Broadcasts, called explicitly by the views after they commit.

Each function decides who hears of an event and publishes one frame (rendered once,
by vibechat.live.frames) to their topics: `chat:<id>` reaches every open socket of
every member of a chat, `user:<id>` every open socket of one person. The same bytes go
to every recipient of a topic.
"""

from __future__ import annotations

import functools
import logging

from quart import current_app

from vibechat.i18n import lazy_gettext
from vibechat.live import frames
from vibechat.live.envelope import chat_topic, seal, user_topic
from vibechat.live.frames import Owner, Preview, joined
from vibechat.models import Chat, Membership, Message, User

log = logging.getLogger(__name__)

__all__ = ["DELETED", "LEFT", "REMOVED", "Preview"]  # Preview: what views hand in

# Said on the page of whoever is gone, in its language (rendered per language).
REMOVED = lazy_gettext("You were removed from this chat.")
LEFT = lazy_gettext("You left this chat.")
DELETED = lazy_gettext("This chat was deleted by its owner.")


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


async def _publish(topic: str, frame: frames.Frame | str, **control) -> None:
    await _live().broker.publish(topic, seal(frame, **control))


@broadcast
async def message_changed(message: Message, preview: Preview | None = None) -> None:
    """A message was posted, edited or deleted (a tombstone). preview: the chat list's
    new preview when this change gave it one (a new message always does), else None."""
    await _publish(chat_topic(message.chat_id), await frames.message_frame(message, preview))


@broadcast
async def typing_stopped(chat_id: int, user_id: int) -> None:
    """Their message was posted: whatever they were typing has been sent."""
    await _live().typing.stop(chat_id, user_id)


@broadcast
async def typing_changed(chat_id: int) -> None:
    """Who is typing in a chat changed (a notice, an expiry, a post)."""
    frame = await frames.typing_frame(chat_id, _live().typing.current(chat_id))
    await _publish(chat_topic(chat_id), frame)


@broadcast
async def presence_batch(news: dict[int, dict[int, bool]]) -> None:
    """One frame per chat for everyone who came or went (chat -> person -> online)."""
    rendered: dict[tuple[int, bool], frames.Frame] = {}
    for chat_id, people in news.items():
        for change in people.items():
            if change not in rendered:
                rendered[change] = await frames.presence_frame(*change)
        await _publish(chat_topic(chat_id), joined([rendered[change] for change in people.items()]))


@broadcast
async def chats_joined(chat: Chat, names: dict[int, str]) -> None:
    """People were added to a chat (or it was created with them): their open pages
    subscribe to it and their chat lists show it. names: user id -> the chat's name
    as that person sees it (the same for a group, the other person for a direct chat).
    """
    rendered: dict[str, frames.Frame] = {}
    for user_id, name in names.items():
        if name not in rendered:
            rendered[name] = await frames.chat_item_frame(chat, name)
        await _publish(user_topic(user_id), rendered[name], join=chat.id)


@broadcast
async def members_added(chat: Chat, people: list[User], count: int) -> None:
    """New members appear in the member list of everyone who has the chat open, and the
    header's count (count: the chat's members now) follows."""
    online = await _live().presence.online(person.id for person in people)
    frame = await frames.members_added_frame(chat.id, people, count, online)
    await _publish(chat_topic(chat.id), frame)
    await chats_joined(chat, {person.id: chat.title or "" for person in people})


@broadcast
async def member_left(
    chat_id: int,
    user_id: int,
    *,
    reason: str,
    owner: tuple[Membership, User] | None,
    count: int,
) -> None:
    """Someone left or was removed: they stop receiving at once and their page says so;
    the others see them go, the header's count (count: the members now) follow, and
    the new owner's badge, if ownership moved."""
    await _gone(chat_id, [user_id], reason)
    online = await _live().presence.online([owner[1].id]) if owner else set()
    owner_now = Owner.of(owner) if owner else None
    frame = await frames.member_left_frame(chat_id, user_id, count, owner_now, online)
    await _publish(chat_topic(chat_id), frame)


@broadcast
async def chat_deleted(chat_id: int, member_ids: list[int]) -> None:
    await _gone(chat_id, member_ids, DELETED)


async def _gone(chat_id: int, user_ids: list[int], reason: str) -> None:
    """The chat is no longer these people's: unsubscribe their sockets, say so."""
    frame = await frames.chat_gone_frame(chat_id, reason)
    for user_id in user_ids:
        await _publish(user_topic(user_id), frame, leave=chat_id)


@broadcast
async def chat_renamed(chat: Chat) -> None:
    await _publish(chat_topic(chat.id), await frames.renamed_frame(chat))


@broadcast
async def session_ended(user_id: int, session_hash: str) -> None:
    """A browser logged out: its open sockets close (they hold no other check)."""
    await _publish(user_topic(user_id), "", revoke=session_hash)


@broadcast
async def read_marked(user_id: int, chat_id: int, unread: int) -> None:
    """The reader's tabs (all of them: the one that read as well) update the chat's
    unread count."""
    await _publish(user_topic(user_id), await frames.unread_frame(chat_id, unread))
