"""Server-side sessions: the cookie, the current user, idle and absolute lifetimes.

quart-auth signs the cookie. What it carries is a random token whose hash is a row in
`sessions`; the row is the session. Deleting it (logout, password change, expiry,
`vibechat reset-password` or `deactivate-user`) ends the session wherever its cookie
was copied to. A session ends when it has not been used for VIBECHAT_SESSION_IDLE,
and VIBECHAT_SESSION_LIFETIME after sign-in however much it is used.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlencode

from quart import Quart, g, has_request_context, request, url_for
from quart_auth import AuthUser, QuartAuth, current_user, login_user, logout_user

from vibechat import queries
from vibechat.config import Settings
from vibechat.models import Session, utcnow
from vibechat.security import hash_token, new_session_token
from vibechat.web import db, see_other, settings

SESSION_COOKIE = "vibechat_session"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often


class SessionCookies(QuartAuth):
    """quart-auth, with `Secure` decided per request when VIBECHAT_SECURE_COOKIES is auto."""

    @property
    def cookie_secure(self) -> bool | None:
        configured = getattr(self, "_cookie_secure", None)
        if configured is None and has_request_context():
            return request.is_secure
        return configured

    @cookie_secure.setter
    def cookie_secure(self, value: bool | None) -> None:
        self._cookie_secure = value


def init_sessions(app: Quart, settings: Settings) -> None:
    # quart-auth reads its own options from app.config.
    app.config.update(
        QUART_AUTH_COOKIE_NAME=SESSION_COOKIE,
        QUART_AUTH_COOKIE_SECURE=settings.secure_cookies,
        QUART_AUTH_COOKIE_SAMESITE="Lax",
        QUART_AUTH_DURATION=settings.session_lifetime,
        QUART_AUTH_SALT="vibechat session",
    )
    SessionCookies(app)
    app.before_request(load_current_user)
    app.before_websocket(load_current_user)


def _lifetimes() -> tuple[timedelta, timedelta]:
    return (
        timedelta(seconds=settings().session_idle),
        timedelta(seconds=settings().session_lifetime),
    )


def ends_at(row: Session) -> datetime:
    """When the session runs out if nobody uses it again."""
    idle, lifetime = _lifetimes()
    return min(row.last_seen_at + idle, row.created_at + lifetime)


async def load_current_user() -> None:
    """Resolve the cookie to a live session (before every request and socket)."""
    g.user = None
    g.session_token_hash = None
    g.session_expires_at = None
    token = current_user.auth_id
    if not token:
        return
    token_hash = hash_token(token)
    database = db()
    async with database.read() as session:
        row = await queries.session_by_token_hash(session, token_hash)
    now = utcnow()
    # Deactivating someone deletes their sessions; one that a sign-in racing the
    # deactivation created meanwhile ends here, on its first use.
    if row is not None and (ends_at(row) <= now or row.user.deactivated_at is not None):
        async with database.write() as session:
            await queries.delete_session(session, token_hash)
            await session.commit()
        row = None
    if row is None:
        # Revoked, expired or unknown: forget the cookie too (a socket cannot set one).
        if has_request_context():
            logout_user()
        return
    if now - row.last_seen_at >= min(TOUCH_EVERY, _lifetimes()[0] / 10):
        async with database.write() as session:
            await queries.touch_session(session, row.id, now)
            await session.commit()
    g.user = row.user
    g.session_token_hash = token_hash
    g.session_expires_at = row.created_at + _lifetimes()[1]


async def start_session(session, user_id: int) -> str:
    """A new session for user_id, its cookie set on this response; returns its hash."""
    idle, lifetime = _lifetimes()
    now = utcnow()
    await queries.delete_stale_sessions(session, user_id, now - idle, now - lifetime)
    token, token_hash = new_session_token()
    await queries.create_session(session, user_id, token_hash)
    login_user(AuthUser(token), remember=True)
    return token_hash


def login_url(next_path: str | None = None) -> str:
    url = url_for("auth.login")
    if next_path and next_path != "/chats":
        url += "?" + urlencode({"next": next_path})
    return url


def require_user(view):
    """Send anonymous visitors to the login page, keeping where they were going."""

    @wraps(view)
    async def wrapper(*args, **kwargs):
        if g.user is None:
            target = request.full_path.rstrip("?") if request.method == "GET" else None
            return see_other(login_url(target))
        return await view(*args, **kwargs)

    return wrapper
