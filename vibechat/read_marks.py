"""Moving a reader's read mark: from the pages that show a chat (vibechat.views) and
from the socket's read notices (vibechat.live.socket) alike.

A mark only moves forward and never past the chat's last message; it is one short
write, done only when it moves, and then the reader's tabs hear the chat's new unread
count (vibechat.live.events.read_marked).
"""

from __future__ import annotations

from vibechat import queries
from vibechat.live import events
from vibechat.models import Membership, User
from vibechat.web import db


async def mark_read_up_to(membership: Membership, seq: int) -> None:
    """Move the reader's mark to seq (at most the chat's last seq; the caller sees to
    it); a short write, and only when it moves."""
    if seq <= membership.last_read_seq:
        return
    async with db().write() as session:
        await queries.mark_read(session, membership.chat_id, membership.user_id, seq)
        unread = await queries.unread_count(session, membership.chat_id, membership.user_id)
        await session.commit()
    await events.read_marked(membership.user_id, membership.chat_id, unread)


async def mark_read(reader: User, chat_id: int, seq: int) -> None:
    """A read notice: move the reader's mark in a chat toward seq, clamped to the
    chat's last message. Nothing happens for a chat they are no longer in."""
    async with db().read() as session:
        membership = await queries.membership_in(session, chat_id, reader)
    if membership is not None:
        await mark_read_up_to(membership, min(seq, membership.chat.last_seq))
