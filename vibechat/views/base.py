"""What every chat view asks first: is the reader a member (or the owner), who of the
members is online, and moving the reader's read mark. Views import these from here,
never from each other."""

from __future__ import annotations

from quart import abort, current_app, g

from vibechat import queries
from vibechat.i18n import _
from vibechat.models import Membership

# Read marks move from the socket too (vibechat.live.socket), which must not import a
# view: the logic lives in vibechat.read_marks, and views take it from here.
from vibechat.read_marks import mark_read_up_to as mark_read_up_to


async def member_or_404(session, chat_id: int, *, lock: bool = False) -> Membership:
    """The reader's membership; 404 alike for a missing chat and someone else's."""
    membership = await queries.membership_in(session, chat_id, g.user, lock=lock)
    if membership is None:
        abort(404)
    return membership


def owner_or_403(membership: Membership) -> None:
    if membership.chat.kind == "direct":
        abort(403, _("A direct chat always has the same two people."))
    if membership.role != "owner":
        abort(403, _("Only the chat's owner can do that."))


async def online_among(members) -> set[int]:
    """The ids of the people in (membership, user) pairs who have a socket open."""
    return await current_app.extensions["live"].presence.online(person.id for _, person in members)
