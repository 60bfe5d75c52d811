"""Post, edit and delete messages; older pages, newer pages, catch-up; read marks."""

from __future__ import annotations

from quart import Blueprint, abort, g, render_template, request, url_for
from werkzeug.exceptions import BadRequest, TooManyRequests

from vibechat import forms, message_parts, metrics, queries
from vibechat.dom import dom_id
from vibechat.i18n import _
from vibechat.live import events
from vibechat.models import Chat, Message
from vibechat.rate_limits import rate_limits, retry_after
from vibechat.sessions import require_user
from vibechat.views.base import mark_read_up_to, member_or_404
from vibechat.views.chat_page import composer, render_chat_page
from vibechat.web import db, is_htmx, see_other

bp = Blueprint("messages", __name__)


def message_anchor(chat_id: int, seq: int) -> str:
    return url_for("chats.show", chat_id=chat_id, _anchor=dom_id("msg", chat_id, seq))


@bp.get("/chats/<id:chat_id>/messages")
@require_user
async def index(chat_id: int):
    """Messages before a seq, after a seq, or changed since a rev: page or fragment."""
    before = forms.non_negative_int(request.args.get("before"), "before")
    after = forms.non_negative_int(request.args.get("after"), "after")
    since = forms.non_negative_int(request.args.get("since"), "since")
    if sum(value is not None for value in (before, after, since)) != 1:
        if not request.args:
            return see_other(url_for("chats.show", chat_id=chat_id))
        raise BadRequest(_("Ask for exactly one of before, after or since."))
    limit = queries.CATCH_UP_LIMIT
    async with db().read() as session:
        membership = await member_or_404(session, chat_id)
        if before is not None:
            messages = await queries.messages_before(session, chat_id, before)
        elif after is not None:
            messages = await queries.messages_after(session, chat_id, after, limit)
        else:
            messages = await queries.messages_since(session, chat_id, since, limit)
        names = await queries.chat_names(session, [membership.chat], g.user)
    if before is None and messages:
        await mark_read_up_to(membership, max(message.seq for message in messages))
    if is_htmx():
        return await _fragment(membership.chat, messages, before, since, limit)
    return await render_template(
        "messages/page.html",
        chat=membership.chat,
        chat_name=names[chat_id],
        messages=messages,
        direction="older" if before is not None else "newer",
        more=len(messages) >= limit,
        **composer(),
    )


@bp.post("/chats/<id:chat_id>/messages")
@require_user
async def create(chat_id: int):
    """Store a message (once per client_token) and go back to the chat."""
    form = await request.form
    values = forms.require(form, "body")
    values["client_token"] = form.get("client_token", "")
    values["reply_to"] = form.get("reply_to", "")
    try:
        body = forms.body(values["body"])
        client_token = forms.client_token(values["client_token"])
        reply_to = forms.reply_to(values["reply_to"])
    except forms.Invalid as error:
        return await render_chat_page(chat_id, values, {"body": str(error)}, 422)
    try:
        await rate_limits().require("messages", str(g.user.id))
    except TooManyRequests as refusal:
        # The composer comes back with the text kept; app.js waits Retry-After and resends.
        page, status = await render_chat_page(chat_id, values, {"body": refusal.description}, 429)
        return page, status, retry_after(refusal)
    async with db().write() as session:
        membership = await member_or_404(session, chat_id, lock=True)
        # A reply quotes a message of this chat (a tombstone too: it says "deleted").
        if reply_to is None or await queries.message_at(session, chat_id, reply_to):
            message, created = await queries.post_message(
                session, membership.chat, g.user, body, client_token, reply_to
            )
            await session.commit()
        else:
            message = None
    if message is None:
        error = _("The message you are replying to was not found in this chat.")
        return await render_chat_page(chat_id, values, {"body": error}, 422)
    if created:
        metrics.MESSAGES_POSTED.inc()
        await events.message_changed(message, events.Preview(message))
        # Explicitly, not as a side effect of the frame: what they typed has been sent.
        await events.typing_stopped(chat_id, g.user.id)
    if is_htmx():
        return "", 204
    return see_other(message_anchor(chat_id, message.seq))


async def _fragment(chat, messages, before, since, limit):
    """For htmx: older messages go above the list (and the link to earlier ones
    replaces itself); newer ones and catch-up are upserts by id, like live frames.
    For catch-up, X-Vibechat-Rev says up to which rev the answer holds every change,
    and X-Vibechat-More that there is more to ask for."""
    if before is not None:
        first_seq = messages[0].seq if messages else 1
        return await render_template(
            "messages/_older_page.html", chat=chat, messages=messages, first_seq=first_seq
        )
    body = await render_template("messages/_list.html", messages=messages, oob=True)
    headers = {}
    if since is not None and chat.kind == "group":
        # A page that was offline may have missed a rename too (ids are upserts).
        body += await render_template("live/renamed.html", chat=chat)
    if since is not None:
        truncated = len(messages) >= limit
        complete = max(message.rev for message in messages) if truncated else chat.last_rev
        headers["X-Vibechat-Rev"] = str(max(complete, since))
        if truncated:
            headers["X-Vibechat-More"] = "1"
    return body, 200, headers


async def _preview_after_change(session, message: Message) -> events.Preview | None:
    """The chat list's new preview when this edit or deletion changed it, else None."""
    latest = await queries.latest_visible_message(session, message.chat_id)
    if latest is None or latest.seq <= message.seq:
        return events.Preview(latest)
    return None


async def _own_message(
    session, chat_id: int, seq: int, *, lock: bool = False
) -> tuple[Chat, Message]:
    """The reader's own, not yet deleted message at seq (and its chat): 404 or 403 otherwise."""
    membership = await member_or_404(session, chat_id, lock=lock)
    message = await queries.message_at(session, chat_id, seq)
    if message is None:
        abort(404)
    if message.author_id != g.user.id:
        abort(403, _("Only the author can change a message."))
    if message.deleted_at is not None:
        abort(403, _("This message was deleted."))
    return membership.chat, message


@bp.get("/chats/<id:chat_id>/messages/<id:seq>/edit")
@require_user
async def edit_form(chat_id: int, seq: int):
    """The form to change or delete one of your messages."""
    async with db().read() as session:
        _chat, message = await _own_message(session, chat_id, seq)
    return await render_template(
        "messages/edit.html", message=message, values={"body": message.body}, errors={}
    )


@bp.post("/chats/<id:chat_id>/messages/<id:seq>/edit")
@require_user
async def edit(chat_id: int, seq: int):
    """Change the text of your message."""
    form = await request.form
    values = forms.require(form, "body")
    await rate_limits().require("messages", str(g.user.id))
    async with db().write() as session:
        chat, message = await _own_message(session, chat_id, seq, lock=True)
        try:
            body = forms.body(values["body"])
        except forms.Invalid as error:
            page = await render_template(
                "messages/edit.html", message=message, values=values, errors={"body": str(error)}
            )
            return page, 422
        if body == message.body:
            return see_other(message_anchor(chat_id, seq))
        replies = await queries.edit_message(session, chat, message, body)
        preview = await _preview_after_change(session, message)
        await session.commit()
    await _announce(message, preview, replies)
    return see_other(message_anchor(chat_id, seq))


async def _announce(message: Message, preview, replies: list[Message]) -> None:
    """The changed message, then each reply whose quote of it changed with it."""
    await events.message_changed(message, preview)
    for reply in replies:
        await events.message_changed(reply)


@bp.get("/chats/<id:chat_id>/messages/<id:seq>/delete")
@require_user
async def delete_form(chat_id: int, seq: int):
    """Ask before deleting one of your messages (Delete is not a tap away from Save)."""
    async with db().read() as session:
        _chat, message = await _own_message(session, chat_id, seq)
    return await render_template("messages/delete.html", message=message)


@bp.post("/chats/<id:chat_id>/messages/<id:seq>/delete")
@require_user
async def delete(chat_id: int, seq: int):
    """Delete your message; a tombstone stays so that everyone learns of it."""
    async with db().write() as session:
        chat, message = await _own_message(session, chat_id, seq, lock=True)
        replies = await queries.delete_message(session, chat, message)
        preview = await _preview_after_change(session, message)
        await session.commit()
    await _announce(message, preview, replies)
    return see_other(message_anchor(chat_id, seq))


async def _reactable(session, chat_id: int, seq: int, *, lock: bool = False):
    """A message of the reader's chat that can take reactions: 404 or 403 otherwise."""
    membership = await member_or_404(session, chat_id, lock=lock)
    message = await queries.message_at(session, chat_id, seq)
    if message is None:
        abort(404)
    if message.deleted_at is not None:
        abort(403, _("This message was deleted."))
    return membership.chat, message


async def _reactions_page(message: Message, values=None, errors=None, status: int = 200):
    page = await render_template(
        "messages/reactions.html",
        message=message,
        quick=message_parts.QUICK_REACTIONS,
        values=values or {},
        errors=errors or {},
    )
    return page, status


@bp.get("/chats/<id:chat_id>/messages/<id:seq>/reactions")
@require_user
async def reactions(chat_id: int, seq: int):
    """React to a message: the quick reactions, any emoji typed, and the reactions it
    has (each a button that adds yours or takes it back). The chat page's Reaction link."""
    async with db().read() as session:
        _chat, message = await _reactable(session, chat_id, seq)
    return await _reactions_page(message)


@bp.post("/chats/<id:chat_id>/messages/<id:seq>/reactions")
@require_user
async def react(chat_id: int, seq: int):
    """Add the reader's reaction (field `emoji`: one emoji) or, when it is there, take
    it back."""
    form = await request.form
    values = forms.require(form, "emoji")
    await rate_limits().require("messages", str(g.user.id))
    async with db().write() as session:
        chat, message = await _reactable(session, chat_id, seq, lock=True)
        try:
            emoji = forms.emoji(values["emoji"])
            await queries.toggle_reaction(session, chat, message, g.user.id, emoji)
        except forms.Invalid as error:
            return await _reactions_page(message, values, {"emoji": str(error)}, 422)
        except queries.TooManyReactions:
            error = _(
                "A message can have at most %(most)d different reactions: "
                "add yours to one of them.",
                most=queries.REACTIONS_MAX,
            )
            return await _reactions_page(message, values, {"emoji": error}, 422)
        await session.commit()
    await events.message_changed(message)
    if is_htmx():
        return "", 204
    return see_other(message_anchor(chat_id, seq))


@bp.post("/chats/<id:chat_id>/read")
@require_user
async def read(chat_id: int):
    """Mark the chat read up to seq (never past its last message)."""
    form = await request.form
    seq = forms.non_negative_int(forms.require(form, "seq")["seq"], "seq")
    async with db().read() as session:
        membership = await member_or_404(session, chat_id)
    await mark_read_up_to(membership, min(seq, membership.chat.last_seq))
    if is_htmx():
        return "", 204
    return see_other(url_for("chats.show", chat_id=chat_id))
