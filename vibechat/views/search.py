"""Search (SPEC §11): the messages of the reader's chats that match what they typed."""

from __future__ import annotations

from quart import Blueprint, abort, g, render_template, request, url_for

from vibechat import forms, queries, search
from vibechat.i18n import _, ngettext
from vibechat.sessions import require_user
from vibechat.web import db, is_htmx

bp = Blueprint("search", __name__)


@bp.get("/search")
@require_user
async def results():
    """GET /search?q=…&chat=<id>&from=<username>&page=<n>. A query that cannot be read
    or matches nothing is a 200 page that says so; a chat the reader is not in is 404,
    as everywhere."""
    typed = request.args.get("q", "")
    chat_id = forms.non_negative_int(request.args.get("chat"), "chat")
    page = forms.non_negative_int(request.args.get("page"), "page") or 1
    query = search.parse(typed)
    author_name = request.args.get("from") or query.author
    hits: list[queries.SearchHit] = []
    total, problem = 0, None
    async with db().read() as session:
        chats = await queries.chats_of(
            session, g.user.id, await queries.chat_ids_of(session, g.user.id)
        )
        names = await queries.chat_names(session, chats, g.user)
        if chat_id is not None and chat_id not in names:
            abort(404)
        chat_ids = [chat_id] if chat_id is not None else None
        author = None
        if query.chat_name:
            chat_ids = _chats_called(query.chat_name, names, chat_ids)
            if not chat_ids:
                problem = "no-chat"
        if author_name and problem is None:
            author = await queries.person_known_to(session, g.user, author_name)
            if author is None:
                problem = "no-person"
        if query.too_long:
            problem = "too-long"
        searched = problem is None and bool(query.terms or author or chat_id is not None)
        if searched:
            hits, total = await queries.search_messages(
                session,
                g.user.id,
                query,
                chat_ids=chat_ids,
                author_id=author.id if author else None,
                page=page,
            )
    if problem is None and not searched and typed.strip():
        problem = "unreadable"

    def page_url(number: int, **changes) -> str:
        """This search's page `number` (changes: other parameters, None drops one)."""
        wanted = {"q": typed or None, "chat": chat_id, "from": request.args.get("from")}
        return url_for("search.results", **{**wanted, **changes, "page": number})

    fragment = is_htmx()
    return await render_template(
        "search/_results.html" if fragment else "search/results.html",
        is_fragment=fragment,
        title=f"{typed} · {_('Search')}" if typed else _("Search"),
        typed=typed,
        query=query,
        hits=hits,
        page=page,
        more=total > page * queries.SEARCH_PAGE,
        problem=problem,
        searched=searched,
        status=_status(problem, typed, query, author_name, total) if searched or problem else "",
        chat_id=chat_id,
        chat_names=names,
        snippet=search.snippet,
        page_url=page_url,
        max_query_chars=search.MAX_QUERY_CHARS,
    )


def _status(problem: str | None, typed: str, query, author_name: str | None, total: int) -> str:
    """What the search came to, in a sentence: the results' heading, or why there are none."""
    if problem == "too-long":
        return _("That search is too long: at most %(max)d characters.", max=search.MAX_QUERY_CHARS)
    if problem == "no-chat":
        return _("You are in no chat called “%(name)s”.", name=query.chat_name)
    if problem == "no-person":
        return _("Nobody called @%(username)s shares a chat with you.", username=author_name)
    if problem == "unreadable":
        return _(
            'There is nothing to look for in “%(query)s”: type a word, a "phrase",'
            " from:username or in:chat name.",
            query=typed,
        )
    if total > queries.SEARCH_COUNT_CAP:
        return _(
            "More than %(count)d results for “%(query)s”",
            count=queries.SEARCH_COUNT_CAP,
            query=typed,
        )
    if total == 0:
        return _("Nothing matched “%(query)s”", query=typed)
    return ngettext(
        "%(num)d result for “%(query)s”", "%(num)d results for “%(query)s”", total, query=typed
    )


def _chats_called(name: str, names: dict[int, str], within: list[int] | None) -> list[int]:
    """The reader's chats called by that name (in:), by the whole name if any chat has
    it, else by its beginning; regardless of case."""
    wanted = search.fold(name)
    chats = [chat for chat in names if within is None or chat in within]
    whole = [chat for chat in chats if search.fold(names[chat]) == wanted]
    return whole or [chat for chat in chats if search.fold(names[chat]).startswith(wanted)]
