"""Errors rendered in one place: a page for a browser, a fragment for htmx."""

from __future__ import annotations

import logging

from quart import Quart, has_websocket_context, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from vibechat.web import is_htmx

log = logging.getLogger(__name__)

TITLES = {
    400: "That request could not be understood",
    401: "Please sign in",
    403: "You can't do that here",
    404: "Not found",
    405: "That method is not allowed here",
    413: "That was too large",
    422: "Please check what you entered",
    429: "Too many attempts",
    500: "Something went wrong on our side",
}


async def render_error(error: HTTPException):
    status = error.code or 500
    if has_websocket_context():
        # A refused socket handshake: the browser shows no page, only the status.
        return TITLES.get(status, error.name), status
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    body = await render_template(
        template,
        status=status,
        title=TITLES.get(status, error.name),
        description=error.description,
    )
    response_headers = error.get_headers() if status in (405, 429) else []
    headers = {k: v for k, v in response_headers if k.lower() in ("allow", "retry-after")}
    return body, status, headers


def register_error_handlers(app: Quart) -> None:
    app.register_error_handler(HTTPException, render_error)

    @app.errorhandler(Exception)
    async def unexpected(error: Exception):
        log.exception("unhandled error", exc_info=error)
        return await render_error(
            InternalServerError("We have been told. Please try again in a moment.")
        )
