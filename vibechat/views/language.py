"""POST /language: the switch between English and Russian, for everyone, without
JavaScript. Signed in, the choice is saved on the account (it follows the person to
every browser); signed out, in a cookie for a year."""

from __future__ import annotations

from quart import Blueprint, g, render_template, request

from vibechat import i18n, queries
from vibechat.i18n import _
from vibechat.security import cookies_secure, safe_next
from vibechat.web import db, see_other

bp = Blueprint("language", __name__)

YEAR = 365 * 24 * 3600


@bp.post("/language")
async def switch():
    form = await request.form
    language = i18n.known(form.get("language"))
    back = safe_next(form.get("next"), default="/")
    if language is None:
        errors = {"language": _("Choose English or Russian.")}
        page = await render_template("language.html", errors=errors, next=back)
        return page, 422
    if g.user is not None:
        async with db().write() as session:
            await queries.set_language(session, g.user.id, language)
            await session.commit()
    response = see_other(back)
    if g.user is None:
        response.set_cookie(
            i18n.COOKIE,
            language,
            max_age=YEAR,
            path="/",
            samesite="Lax",
            httponly=True,
            secure=cookies_secure(),
        )
    return response
