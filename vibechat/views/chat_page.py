"""The chat page itself, shown by the chat view and sent back (with the composer's
error) by the message view when a post is refused; and what the composer needs, which
the newer-messages page shows too."""

from __future__ import annotations

import contextlib
import secrets

from quart import abort, g, render_template

from vibechat import forms, queries
from vibechat.views.base import mark_read_up_to, member_or_404, online_among
from vibechat.web import db

# The chat list beside the conversation (on wide screens) holds the most recently active
# chats: every chat page carries it, phones too (hidden there), so it is kept short.
SIDE_LIST_CHATS = 20


def composer(values=None, errors=None, replying=None) -> dict:
    """What templates/chats/_composer.html needs: the text kept, its error, a new
    client_token (one per form shown: a form sent twice stores one message), and the
    message being replied to, if any."""
    return {
        "values": values or {},
        "errors": errors or {},
        "client_token": secrets.token_urlsafe(16),
        "replying": replying,
    }


async def render_chat_page(
    chat_id: int,
    values=None,
    errors=None,
    status: int = 200,
    *,
    around: int | None = None,
    reply_to: int | None = None,
):
    """The chat at its newest messages, or (around) centred on one; reply_to: the seq
    of the message the composer replies to (a Reply link's, or a form sent back)."""
    values = values or {}
    if reply_to is None:
        with contextlib.suppress(forms.Invalid):  # a form sent back: its reply, if sound
            reply_to = forms.reply_to(values.get("reply_to", ""))
    async with db().read() as session:
        membership = await member_or_404(session, chat_id)
        if around is not None:
            if not 0 < around <= membership.chat.last_seq:
                abort(404)
            messages = await queries.messages_around(session, chat_id, around)
        else:
            messages = await queries.latest_messages(session, chat_id)
        replying = None
        if reply_to is not None:
            replying = await queries.message_at(session, chat_id, reply_to)
            if replying is not None and replying.deleted_at is not None:
                replying = None
        members = await queries.members_of(session, chat_id)
        names = await queries.chat_names(session, [membership.chat], g.user)
        summaries = await queries.chat_summaries(session, g.user, limit=SIDE_LIST_CHATS + 1)
        side = summaries[:SIDE_LIST_CHATS]
        if chat_id not in {summary.chat.id for summary in side}:
            # The open chat is always there, marked: last, as the quietest of them.
            side += await queries.chat_summaries(session, g.user, only=chat_id)
    # "New messages" goes above the first one the reader has not seen: read as of now.
    unread_after = membership.last_read_seq
    if messages and status == 200:
        # Read when shown as asked; a form sent back with an error is not a visit.
        await mark_read_up_to(membership, messages[-1].seq)
    # The reader is online: they are looking at the page (without JavaScript no socket
    # says so, and "offline" beside their own name would be false).
    online = await online_among(members) | {g.user.id}
    newest_shown = not messages or messages[-1].seq >= membership.chat.last_seq
    body = await render_template(
        "chats/show.html",
        chat=membership.chat,
        chat_name=names[chat_id],
        membership=membership,
        members=members,
        messages=messages,
        newest_shown=newest_shown,
        unread_after=unread_after,
        online=online,
        summaries=side,
        more_chats=len(summaries) > SIDE_LIST_CHATS,
        recent=SIDE_LIST_CHATS,
        **composer(values, errors, replying),
    )
    return body, status
