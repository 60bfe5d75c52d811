"""Chat list, chat page, creating chats, members, renaming and deleting."""

from __future__ import annotations

from quart import Blueprint, abort, g, render_template, request, url_for
from werkzeug.exceptions import BadRequest

from vibechat import forms, queries
from vibechat.i18n import _, ngettext
from vibechat.live import events
from vibechat.sessions import require_user
from vibechat.views.base import member_or_404, online_among, owner_or_403
from vibechat.views.chat_page import render_chat_page
from vibechat.web import db, is_htmx, see_other, settings

bp = Blueprint("chats", __name__)


# -- the list ----------------------------------------------------------------------------


@bp.get("/chats")
@require_user
async def index():
    """The reader's chats, newest activity first, and forms to start one."""
    return await render_chat_list()


async def render_chat_list(values=None, errors=None, status: int = 200):
    # ?recent=N: the N most recently active only, as the chat page's side list holds them.
    recent = forms.non_negative_int(request.args.get("recent"), "recent")
    if recent == 0:
        raise BadRequest(_("recent must be a whole number from 1 up."))
    async with db().read() as session:
        summaries = await queries.chat_summaries(session, g.user, limit=recent)
    if is_htmx():
        return await render_template(
            "chats/_list.html", summaries=summaries, reader=g.user, recent=recent
        ), status
    body = await render_template(
        "chats/index.html", summaries=summaries, values=values or {}, errors=errors or {}
    )
    return body, status


@bp.post("/chats")
@require_user
async def create():
    """Start a group chat; the creator owns it."""
    form = await request.form
    values = forms.require(form, "title")
    values["members"] = form.get("members", "")
    errors: dict[str, str] = {}
    try:
        title = forms.title(values["title"])
    except forms.Invalid as error:
        errors["title"] = str(error)
    try:
        usernames = forms.usernames(values["members"])
    except forms.Invalid as error:
        errors["members"] = str(error)
        usernames = []
    async with db().write() as session:
        members = await queries.users_to_add(session, usernames)
        unknown = _unknown(usernames, members)
        if unknown and "members" not in errors:
            errors["members"] = _no_such_people(unknown)
        if "members" not in errors and len({g.user.id, *(m.id for m in members)}) > max_members():
            errors["members"] = too_many_members()
        if errors:
            return await render_chat_list(values, errors, 422)
        chat = await queries.create_group_chat(session, g.user, title, members)
        await session.commit()
    everyone = {g.user.id, *(member.id for member in members)}
    await events.chats_joined(chat, dict.fromkeys(everyone, title))
    return see_other(url_for("chats.show", chat_id=chat.id))


@bp.post("/chats/direct")
@require_user
async def direct():
    """Open the direct chat with someone, creating it the first time."""
    form = await request.form
    values = forms.require(form, "username")
    name = values["username"].strip().removeprefix("@")
    async with db().write() as session:
        other = await queries.user_by_username(session, name) if name else None
        error = None
        if not name:
            error = _("Enter the username of the person to write to.")
        elif other is None or other.deactivated_at is not None:
            error = _no_such_people([name])
        elif other.id == g.user.id:
            error = _("That is you. Start a group chat to keep notes for yourself.")
        if error:
            return await render_chat_list(
                {"username": values["username"]}, {"username": error}, 422
            )
        chat, created = await queries.find_or_create_direct_chat(session, g.user, other)
        await session.commit()
    if created:
        names = {g.user.id: other.display_name, other.id: g.user.display_name}
        await events.chats_joined(chat, names)
    return see_other(url_for("chats.show", chat_id=chat.id))


def max_members() -> int:
    return settings().max_members


def too_many_members() -> str:
    # The same English for any number (never 1), three forms in Russian.
    most = max_members()
    return ngettext(
        "A chat can have at most %(num)d people.", "A chat can have at most %(num)d people.", most
    )


def _unknown(usernames: list[str], users) -> list[str]:
    found = {user.username_key for user in users}
    return [name for name in usernames if name.lower() not in found]


def _no_such_people(names: list[str]) -> str:
    shown = ", ".join(names[:5])
    return (
        _("No account with the username %(username)s.", username=shown)
        if len(names) == 1
        else _("No accounts for: %(usernames)s.", usernames=shown)
    )


# -- one chat ----------------------------------------------------------------------------


@bp.get("/chats/<id:chat_id>")
@require_user
async def show(chat_id: int):
    """The chat: latest messages (or, with ?around=<seq>, those around one), members and
    the composer (with ?reply_to=<seq>, replying to that message). Opening it marks it
    read."""
    around = forms.non_negative_int(request.args.get("around"), "around")
    reply_to = forms.non_negative_int(request.args.get("reply_to"), "reply_to")
    return await render_chat_page(chat_id, around=around, reply_to=reply_to)


@bp.get("/chats/<id:chat_id>/members")
@require_user
async def members(chat_id: int):
    """Who is in the chat, and (for its owner) the forms to change that."""
    return await render_members_page(chat_id)


async def render_members_page(chat_id: int, values=None, errors=None, status: int = 200):
    async with db().read() as session:
        membership = await member_or_404(session, chat_id)
        members = await queries.members_of(session, chat_id)
        names = await queries.chat_names(session, [membership.chat], g.user)
    if is_htmx():
        # The chat page's member list, with who is online, and the header's count (a page
        # refreshes them after an outage, when frames may have been missed).
        online = await online_among(members)
        body = await render_template(
            "chats/_member_list.html", chat=membership.chat, members=members, online=online
        ) + await render_template(
            "chats/_member_count.html", chat_id=chat_id, count=len(members), oob=True
        )
        return body, status
    body = await render_template(
        "chats/members.html",
        chat=membership.chat,
        chat_name=names[chat_id],
        membership=membership,
        members=members,
        values=values or {},
        errors=errors or {},
    )
    return body, status


@bp.post("/chats/<id:chat_id>/members")
@require_user
async def add_members(chat_id: int):
    """The owner adds people by username."""
    form = await request.form
    values = forms.require(form, "members")
    async with db().write() as session:
        membership = await member_or_404(session, chat_id, lock=True)
        owner_or_403(membership)
        try:
            usernames = forms.usernames(values["members"])
            if not usernames:
                raise forms.Invalid(_("Enter at least one username."))
            users = await queries.users_to_add(session, usernames)
            if unknown := _unknown(usernames, users):
                raise forms.Invalid(_no_such_people(unknown))
            # Counted under the owner's row lock: two adds cannot both squeeze in.
            existing = set(await queries.member_ids_of(session, chat_id))
            if len(existing | {user.id for user in users}) > max_members():
                raise forms.Invalid(too_many_members())
        except forms.Invalid as error:
            return await render_members_page(chat_id, values, {"members": str(error)}, 422)
        added = await queries.add_members(session, membership.chat, users)
        await session.commit()
    if added:
        await events.members_added(membership.chat, added, count=len(existing) + len(added))
    return see_other(url_for("chats.members", chat_id=chat_id))


@bp.post("/chats/<id:chat_id>/members/<username>/remove")
@require_user
async def remove_member(chat_id: int, username: str):
    """The owner removes someone."""
    async with db().write() as session:
        membership = await member_or_404(session, chat_id, lock=True)
        owner_or_403(membership)
        user = await queries.user_by_username(session, username)
        if user is None or not await queries.remove_member(session, membership.chat, user.id):
            abort(404, _("That person is not in this chat."))
        owner = await queries.owner_of(session, chat_id)
        count = len(await queries.member_ids_of(session, chat_id))
        await session.commit()
    reason = events.LEFT if user.id == g.user.id else events.REMOVED
    await events.member_left(chat_id, user.id, reason=reason, owner=owner, count=count)
    if user.id == g.user.id:
        return see_other(url_for("chats.index"))
    return see_other(url_for("chats.members", chat_id=chat_id))


@bp.get("/chats/<id:chat_id>/leave")
@require_user
async def leave_form(chat_id: int):
    """Ask before leaving: say who takes over, or that the chat goes with its last member."""
    async with db().read() as session:
        membership = await member_or_404(session, chat_id)
        if membership.chat.kind == "direct":
            abort(403, _("A direct chat always has the same two people."))
        members = await queries.members_of(session, chat_id)
        names = await queries.chat_names(session, [membership.chat], g.user)
    others = [(member, person) for member, person in members if person.id != g.user.id]
    heir = None
    if others and membership.role == "owner" and all(m.role != "owner" for m, _ in others):
        # queries.remove_member's rule: the longest-standing member takes over.
        heir = min(others, key=lambda pair: (pair[0].joined_at, pair[1].id))[1]
    return await render_template(
        "chats/leave.html",
        chat=membership.chat,
        chat_name=names[chat_id],
        others=len(others),
        heir=heir,
    )


@bp.post("/chats/<id:chat_id>/leave")
@require_user
async def leave(chat_id: int):
    """Anyone leaves a group chat; its last owner hands over to the next member."""
    async with db().write() as session:
        membership = await member_or_404(session, chat_id, lock=True)
        if membership.chat.kind == "direct":
            abort(403, _("A direct chat always has the same two people."))
        await queries.remove_member(session, membership.chat, g.user.id)
        owner = await queries.owner_of(session, chat_id)
        count = len(await queries.member_ids_of(session, chat_id))
        await session.commit()
    await events.member_left(chat_id, g.user.id, reason=events.LEFT, owner=owner, count=count)
    return see_other(url_for("chats.index"))


@bp.post("/chats/<id:chat_id>/rename")
@require_user
async def rename(chat_id: int):
    """The owner gives the chat a new title."""
    form = await request.form
    values = forms.require(form, "title")
    async with db().write() as session:
        membership = await member_or_404(session, chat_id, lock=True)
        owner_or_403(membership)
        try:
            title = forms.title(values["title"])
        except forms.Invalid as error:
            return await render_members_page(chat_id, values, {"title": str(error)}, 422)
        await queries.rename_chat(session, membership.chat, title)
        await session.commit()
    await events.chat_renamed(membership.chat)
    return see_other(url_for("chats.members", chat_id=chat_id))


@bp.get("/chats/<id:chat_id>/delete")
@require_user
async def delete_form(chat_id: int):
    """Ask the owner before the chat is deleted for everyone."""
    async with db().read() as session:
        membership = await member_or_404(session, chat_id)
        owner_or_403(membership)
        member_ids = await queries.member_ids_of(session, chat_id)
        names = await queries.chat_names(session, [membership.chat], g.user)
    return await render_template(
        "chats/delete.html",
        chat=membership.chat,
        chat_name=names[chat_id],
        others=len(member_ids) - 1,
    )


@bp.post("/chats/<id:chat_id>/delete")
@require_user
async def delete(chat_id: int):
    """The owner deletes the chat for everyone."""
    async with db().write() as session:
        membership = await member_or_404(session, chat_id, lock=True)
        owner_or_403(membership)
        member_ids = await queries.member_ids_of(session, chat_id)
        await queries.delete_chat(session, membership.chat)
        await session.commit()
    await events.chat_deleted(chat_id, member_ids)
    return see_other(url_for("chats.index"))
