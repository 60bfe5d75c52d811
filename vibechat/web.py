"""Small helpers the web side shares: the database, the settings, redirects after POST,
the htmx check."""

from __future__ import annotations

from quart import current_app, has_request_context, redirect, request
from werkzeug.routing import IntegerConverter

from vibechat.config import Settings
from vibechat.db import Database
from vibechat.models import MAX_ID


class IdConverter(IntegerConverter):
    """`<id:name>` in a route: a whole number from 1 to MAX_ID, else the route does not match."""

    # ASCII digits without leading zeros: one URL per id (werkzeug's \\d would also take
    # "01" or Arabic-Indic digits for the same chat).
    regex = r"[1-9][0-9]*"

    def __init__(self, url_map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def see_other(location: str):
    """Redirect after POST: the browser follows with a GET."""
    return redirect(location, 303)


def is_htmx() -> bool:
    """The one place that decides whether a request came from htmx (wants a fragment).

    A WebSocket handshake is never an htmx request (and has no `request`)."""
    if not has_request_context():
        return False
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )


def db() -> Database:
    """The app's database (opened when serving starts): the one way code that runs in a
    request or a socket reaches it."""
    return current_app.extensions["db"]


def settings() -> Settings:
    """The app's settings (typed, frozen, checked when the app was made): the one way
    code that runs in a request or a socket reads a VIBECHAT_* value."""
    return current_app.extensions["settings"]
