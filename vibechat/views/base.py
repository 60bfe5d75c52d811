"""What every chat view asks first: is the reader a member (or the owner), who of the
members is online, and moving the reader's read mark. Views import these from here,
never from each other."""

from __future__ import annotations

from quart import abort, current_app, g

from vibechat import queries
from vibechat.live import events
from vibechat.models import Membership
from vibechat.web import db


async def member_or_404(session, chat_id: int, *, lock: bool = False) -> Membership:
    """The reader's membership; 404 alike for a missing chat and someone else's."""
    membership = await queries.membership_in(session, chat_id, g.user, lock=lock)
    if membership is None:
        abort(404)
    return membership


def owner_or_403(membership: Membership) -> None:
    if membership.chat.kind == "direct":
        abort(403, "A direct chat always has the same two people.")
    if membership.role != "owner":
        abort(403, "Only the chat's owner can do that.")


async def online_among(members) -> set[int]:
    """The ids of the people in (membership, user) pairs who have a socket open."""
    return await current_app.extensions["live"].presence.online(person.id for _, person in members)


async def mark_read_up_to(membership: Membership, seq: int) -> None:
    """Move the reader's mark to seq; a short write, and only when it moves."""
    if seq <= membership.last_read_seq:
        return
    async with db().write() as session:
        await queries.mark_read(session, membership.chat_id, membership.user_id, seq)
        unread = await queries.unread_count(session, membership.chat_id, membership.user_id)
        await session.commit()
    await events.read_marked(membership.user_id, membership.chat_id, unread)
