"""The chat page itself, shown by the chat view and sent back (with the composer's
error) by the message view when a post is refused; and what the composer needs, which
the newer-messages page shows too."""

from __future__ import annotations

import secrets

from quart import g, render_template

from vibechat import queries
from vibechat.views.base import mark_read_up_to, member_or_404, online_among
from vibechat.web import db

# The chat list beside the conversation (on wide screens) holds the most recently active
# chats: every chat page carries it, phones too (hidden there), so it is kept short.
SIDE_LIST_CHATS = 20


def composer(values=None, errors=None) -> dict:
    """What templates/chats/_composer.html needs: the text kept, its error, and a new
    client_token (one per form shown: a form sent twice stores one message)."""
    return {
        "values": values or {},
        "errors": errors or {},
        "client_token": secrets.token_urlsafe(16),
    }


async def render_chat_page(chat_id: int, values=None, errors=None, status: int = 200):
    async with db().read() as session:
        membership = await member_or_404(session, chat_id)
        messages = await queries.latest_messages(session, chat_id)
        members = await queries.members_of(session, chat_id)
        names = await queries.chat_names(session, [membership.chat], g.user)
        summaries = await queries.chat_summaries(session, g.user, limit=SIDE_LIST_CHATS + 1)
        side = summaries[:SIDE_LIST_CHATS]
        if chat_id not in {summary.chat.id for summary in side}:
            # The open chat is always there, marked: last, as the quietest of them.
            side += await queries.chat_summaries(session, g.user, only=chat_id)
    if messages and status == 200:
        # Read when shown as asked; a form sent back with an error is not a visit.
        await mark_read_up_to(membership, messages[-1].seq)
    # The reader is online: they are looking at the page (without JavaScript no socket
    # says so, and "offline" beside their own name would be false).
    online = await online_among(members) | {g.user.id}
    body = await render_template(
        "chats/show.html",
        chat=membership.chat,
        chat_name=names[chat_id],
        membership=membership,
        members=members,
        messages=messages,
        online=online,
        summaries=side,
        more_chats=len(summaries) > SIDE_LIST_CHATS,
        recent=SIDE_LIST_CHATS,
        **composer(values, errors),
    )
    return body, status
