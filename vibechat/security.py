"""Passwords and session tokens in a request, CSRF tokens and the same-origin check.

Quart has no maintained CSRF extension, so this is a small one of our own: a token in
every form (and the X-CSRF-Token header for htmx) that is an HMAC of the secret key and
the browser's session, plus a check of Origin / Sec-Fetch-Site on every unsafe request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from quart import Request, Websocket, current_app, g, request
from werkzeug.exceptions import Forbidden

from vibechat.i18n import _
from vibechat.web import settings

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_COOKIE = "vibechat_csrf"


# -- passwords (the hasher itself is vibechat.passwords: the command line uses it too) --


async def hash_password(password: str) -> str:
    # Hashing takes tens of milliseconds of CPU: keep it off the event loop.
    return await asyncio.to_thread(current_app.extensions["password_hasher"].hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """True when password matches; checks a dummy hash for unknown users (same timing)."""
    hasher: PasswordHasher = current_app.extensions["password_hasher"]
    stored = password_hash or current_app.extensions["dummy_password_hash"]
    try:
        await asyncio.to_thread(hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


def new_session_token() -> tuple[str, str]:
    """A random token for the cookie, and the hash that the database keeps."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# -- CSRF --------------------------------------------------------------------------------


def _csrf_binding() -> str:
    """What a token is bound to: the server-side session, or an anonymous cookie."""
    session_hash = getattr(g, "session_token_hash", None)
    if session_hash:
        return "session:" + session_hash
    anonymous = request.cookies.get(CSRF_COOKIE) or getattr(g, "new_csrf_cookie", None)
    if not anonymous:
        anonymous = g.new_csrf_cookie = secrets.token_urlsafe(24)
    return "anonymous:" + anonymous


def _sign(binding: str) -> str:
    key = current_app.secret_key
    key = key.encode() if isinstance(key, str) else key
    return hmac.new(key, b"csrf|" + binding.encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token for forms on this page (a Jinja global)."""
    return _sign(_csrf_binding())


# A WebSocket's Origin names the page's scheme, not the socket's.
PAGE_SCHEMES = {"ws": "http", "wss": "https"}


def own_origins(req: Request | Websocket) -> set[str]:
    configured = settings().public_origins
    if configured:
        return set(configured)
    scheme = PAGE_SCHEMES.get(req.scheme, req.scheme)
    return {f"{scheme}://{req.host}"}


def is_same_origin(req: Request | Websocket) -> bool:
    """Origin must be ours when sent; otherwise Sec-Fetch-Site must not say cross-site.

    Clients that send neither (curl, old browsers) still need a valid token.
    """
    origin = req.headers.get("Origin")
    if origin is not None:
        return origin.rstrip("/") in own_origins(req)
    fetch_site = req.headers.get("Sec-Fetch-Site")
    return fetch_site in (None, "same-origin", "none")


async def check_csrf() -> None:
    """Refuse an unsafe request from another site or without this session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    if not is_same_origin(request):
        raise Forbidden(_("This request came from another site and was refused."))
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form
        sent = form.get(CSRF_FIELD, "")
    binding = _csrf_binding()
    # Compare bytes: compare_digest refuses str with non-ASCII characters.
    expected = _sign(binding).encode()
    if not (sent and hmac.compare_digest(sent.encode("utf-8", "replace"), expected)):
        raise Forbidden(_("The form has expired or was not sent from this page. Please try again."))


def cookies_secure() -> bool:
    """Whether cookies get `Secure`: as configured, or (auto) when this came over HTTPS."""
    configured = settings().secure_cookies
    return request.is_secure if configured is None else configured


def remember_csrf_cookie(response):
    """Send the anonymous CSRF cookie when this request created one."""
    value = getattr(g, "new_csrf_cookie", None)
    if value and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            value,
            httponly=True,
            samesite="Lax",
            secure=cookies_secure(),
            path="/",
        )
    return response


def safe_next(target: str | None, default: str = "/chats") -> str:
    """Only a path on this site: no scheme, no host, no protocol-relative //evil."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return default
    if target.startswith("//") or not all("!" <= c <= "~" for c in target) or "\\" in target:
        # Only printable ASCII: it goes into a Location header as it is.
        return default
    return target
