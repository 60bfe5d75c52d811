"""People: a person's page (who they are, and the way to write to them) and the
messages that mention the reader."""

from __future__ import annotations

from quart import Blueprint, abort, g, render_template, request

from vibechat import forms, queries
from vibechat.sessions import require_user
from vibechat.web import db

bp = Blueprint("people", __name__)


@bp.get("/people/<username>")
@require_user
async def person(username: str):
    """Someone's display name and username, and a button to message them."""
    async with db().read() as session:
        # Scoped like a chat: someone who shares no chat with the reader is "Not found",
        # exactly as a username nobody has, so the page tells no one who has an account.
        someone = await queries.person_known_to(session, g.user, username)
    if someone is None:
        abort(404)
    return await render_template("people/person.html", person=someone)


@bp.get("/mentions")
@require_user
async def mentions():
    """The messages that mention the reader, newest first, a page at a time
    (?before=<message id>: the page after the message with that id)."""
    before = forms.non_negative_int(request.args.get("before"), "before")
    async with db().read() as session:
        # One more than a page: whether there are earlier ones, without counting them.
        found = await queries.mentions_of(
            session, g.user.id, before=before, limit=queries.MENTIONS_PAGE + 1
        )
        shown = found[: queries.MENTIONS_PAGE]
        chats = await queries.chats_of(session, g.user.id, {m.chat_id for m in shown})
        names = await queries.chat_names(session, chats, g.user)
    return await render_template(
        "people/mentions.html",
        mentions=shown,
        chat_names=names,
        earlier=shown[-1].id if len(found) > len(shown) else None,
        first_page=before is None,
    )
