"""Register, log in, log out. Sessions themselves live in vibechat.sessions."""

from __future__ import annotations

from quart import Blueprint, g, redirect, render_template, request, url_for
from quart_auth import logout_user
from werkzeug.exceptions import TooManyRequests

from vibechat import forms, queries
from vibechat.i18n import lazy_gettext
from vibechat.live import events
from vibechat.rate_limits import client_address, rate_limits, retry_after
from vibechat.security import hash_password, safe_next, verify_password
from vibechat.sessions import require_user, start_session
from vibechat.web import db, see_other

bp = Blueprint("auth", __name__)

LOGIN_FAILED = lazy_gettext("That username and password do not match an account.")


@bp.get("/")
async def index():
    """Signed in: the chat list; otherwise the login page."""
    return redirect(url_for("chats.index") if g.user else url_for("auth.login"))


@bp.get("/register")
async def register_form():
    """The sign-up form."""
    if g.user:
        return redirect(url_for("chats.index"))
    return await render_template("auth/register.html", values={}, errors={})


@bp.post("/register")
async def register():
    """Create an account and sign in."""
    form = await request.form
    values = forms.require(form, "username", "password")
    values["display_name"] = form.get("display_name", "")
    limits = rate_limits()
    await limits.require("register_address", client_address())
    await limits.require("register_username", values["username"].strip().lower())
    try:
        username, display_name, password = forms.new_account(
            values["username"], values["display_name"], values["password"]
        )
    except forms.FormErrors as invalid:
        return await _register_again(values, invalid.errors)

    password_hash = await hash_password(password)
    async with db().write() as session:
        user = await queries.create_user(session, username, display_name, password_hash)
        if user is None:
            return await _register_again(values, {"username": forms.USERNAME_TAKEN})
        await session.flush()
        await start_session(session, user.id)
        await session.commit()
    return see_other(url_for("chats.index"))


async def _register_again(values: dict[str, str], errors: dict[str, str]):
    values = {key: value for key, value in values.items() if key != "password"}
    return await render_template("auth/register.html", values=values, errors=errors), 422


@bp.get("/login")
async def login_form():
    """The sign-in form."""
    next_path = safe_next(request.args.get("next"))
    if g.user:
        return redirect(next_path)
    return await render_template(
        "auth/login.html", values={"next": next_path}, errors={}, failure=None
    )


@bp.post("/login")
async def login():
    """Check the password and start a session; one generic message on failure."""
    form = await request.form
    values = forms.require(form, "username", "password")
    next_path = safe_next(form.get("next"))
    username_key = values["username"].strip().lower()
    shown = {"username": values["username"], "next": next_path}
    # Refused before the password is checked: a guesser learns nothing more, and
    # spends none of our CPU on Argon2.
    limits = rate_limits()
    try:
        await limits.require_unspent("login_username", username_key)
        await limits.require_unspent("login_address", client_address())
    except TooManyRequests as refusal:
        return await _login_again(shown, refusal.description, 429, retry_after(refusal))
    database = db()
    async with database.read() as session:
        user = await queries.user_by_username(session, username_key)
    # Verify outside any transaction: hashing is slow and must not hold SQLite's write lock.
    matches = await verify_password(user.password_hash if user else None, values["password"])
    # A deactivated account fails exactly like a wrong password, after the same Argon2
    # work: the answer must not tell a guesser which accounts exist or were closed.
    if matches and user.deactivated_at is None:
        async with database.write() as session:
            await start_session(session, user.id)
            await session.commit()
        return see_other(next_path)
    await limits.hit("login_username", username_key)
    await limits.hit("login_address", client_address())
    return await _login_again(shown, LOGIN_FAILED, 401)


async def _login_again(values: dict[str, str], failure: str, status: int, headers=None):
    body = await render_template("auth/login.html", values=values, errors={}, failure=failure)
    return body, status, headers or {}


@bp.get("/session")
@require_user
async def session_alive():
    """204 while this browser is signed in (a page asks when its socket closes with 1008)."""
    return "", 204


@bp.post("/logout")
async def logout():
    """End this session on the server, not only in this browser."""
    if g.session_token_hash:
        async with db().write() as session:
            await queries.delete_session(session, g.session_token_hash)
            await session.commit()
        await events.session_ended(g.user.id, g.session_token_hash)
    logout_user()
    return see_other(url_for("auth.login"))
