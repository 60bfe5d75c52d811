"""Errors rendered in one place: a page for a browser, a fragment for htmx."""

from __future__ import annotations

import logging

from quart import Quart, has_websocket_context, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

from vibechat.i18n import _, lazy_gettext
from vibechat.web import is_htmx

log = logging.getLogger(__name__)

TITLES = {
    400: lazy_gettext("That request could not be understood"),
    401: lazy_gettext("Please sign in"),
    403: lazy_gettext("You can't do that here"),
    404: lazy_gettext("Not found"),
    405: lazy_gettext("That method is not allowed here"),
    413: lazy_gettext("That was too large"),
    422: lazy_gettext("Please check what you entered"),
    429: lazy_gettext("Too many attempts"),
    500: lazy_gettext("Something went wrong on our side"),
}
# Said when the code that refused gave no reason of its own (werkzeug's own English).
DESCRIPTIONS = {
    400: lazy_gettext("The browser sent something this page cannot read."),
    403: lazy_gettext("You do not have access to this."),
    404: lazy_gettext("There is nothing here. The address may be mistyped, or it was deleted."),
    405: lazy_gettext("This address does not take that kind of request."),
    413: lazy_gettext("What was sent is larger than this site accepts."),
}


def description_of(error: HTTPException) -> str:
    if error.description == type(error).description and error.code in DESCRIPTIONS:
        return str(DESCRIPTIONS[error.code])
    return error.description or ""


async def render_error(error: HTTPException):
    status = error.code or 500
    if has_websocket_context():
        # A refused socket handshake: the browser shows no page, only the status.
        return str(TITLES.get(status, error.name)), status
    template = "errors/_error.html" if is_htmx() else "errors/error.html"
    body = await render_template(
        template,
        status=status,
        title=TITLES.get(status, error.name),
        description=description_of(error),
        # The language switch goes back to the start, not to this address: a stranger's
        # chat and a chat that does not exist must answer the very same page.
        next="/",
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
            InternalServerError(_("We have been told. Please try again in a moment."))
        )
