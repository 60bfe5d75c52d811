"""The signed-in person's own account: the settings page (the time zone), changing the
password."""

from __future__ import annotations

from quart import Blueprint, g, render_template, request, url_for

from vibechat import forms, queries, timezones
from vibechat.i18n import lazy_gettext
from vibechat.live import events
from vibechat.rate_limits import rate_limits
from vibechat.security import hash_password, verify_password
from vibechat.sessions import require_user
from vibechat.web import db, see_other

bp = Blueprint("account", __name__)

WRONG_PASSWORD = lazy_gettext("That is not your current password.")
UNKNOWN_ZONE = lazy_gettext("Choose a time zone from the list.")


async def _settings_page(errors: dict[str, str], saved: bool = False) -> str:
    choices = timezones.choices()
    chosen = g.user.timezone
    if timezones.known(chosen) and chosen not in dict(choices):
        # An old name (America/Atka), saved by a form of our own or another tool's.
        choices = ((chosen, chosen), *choices)
    return await render_template(
        "account/settings.html", errors=errors, saved=saved, zone_choices=choices
    )


@bp.get("/account")
@require_user
async def settings():
    """The settings: the time zone, and the way to the password form."""
    return await _settings_page({}, saved=request.args.get("saved") == "1")


@bp.post("/account/timezone")
@require_user
async def change_timezone():
    """Save the zone that times are shown in (an IANA name), or none: the browser's."""
    name = forms.require(await request.form, "timezone")["timezone"]
    if name and not timezones.known(name):
        return await _settings_page({"timezone": str(UNKNOWN_ZONE)}), 422
    async with db().write() as session:
        await queries.set_timezone(session, g.user.id, name or None)
        await session.commit()
    return see_other(url_for("account.settings", saved=1))


@bp.get("/account/password")
@require_user
async def password_form():
    """The password-change form."""
    changed = request.args.get("changed") == "1"
    return await render_template("account/password.html", values={}, errors={}, changed=changed)


@bp.post("/account/password")
@require_user
async def change_password():
    """Check the current password, store the new one, end every other session."""
    form = await request.form
    values = forms.require(form, "current_password", "new_password")
    # A wrong current password is a failed sign-in: the same limit guards both.
    limits = rate_limits()
    await limits.require_unspent("login_username", g.user.username_key)
    errors: dict[str, str] = {}
    if not await verify_password(g.user.password_hash, values["current_password"]):
        await limits.hit("login_username", g.user.username_key)
        errors["current_password"] = str(WRONG_PASSWORD)
    try:
        new_password = forms.new_password(values["new_password"], for_username=g.user.username)
    except forms.Invalid as error:
        errors["new_password"] = str(error)
    if errors:
        page = await render_template(
            "account/password.html", values={}, errors=errors, changed=False
        )
        return page, 422
    password_hash = await hash_password(new_password)
    async with db().write() as session:
        await queries.set_password(session, g.user.id, password_hash)
        ended = await queries.delete_other_sessions(session, g.user.id, g.session_token_hash)
        await session.commit()
    for token_hash in ended:
        await events.session_ended(g.user.id, token_hash)
    return see_other(url_for("account.password_form", changed=1))
