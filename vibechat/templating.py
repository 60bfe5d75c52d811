"""Jinja helpers: CSRF token, times, the reader, and the one "my messages" CSS rule."""

from __future__ import annotations

from datetime import UTC, datetime

from quart import Quart, Response, g

from vibechat.security import csrf_token

# A year: the URL names the user id, so its content never changes.
IMMUTABLE = "public, max-age=31536000, immutable"


def iso_time(value: datetime) -> str:
    """For <time datetime>: UTC, to the second."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def shown_time(value: datetime) -> str:
    """What a reader without JavaScript sees: the UTC date and time."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


async def mine_stylesheet(user_id: int) -> Response:
    """The one rule that marks a reader's own messages (the message partial never
    depends on who reads it, so "mine" lives here). An external sheet, not an inline
    <style>, so that a strict Content-Security-Policy needs no exception."""
    css = (
        f'.message[data-author="{user_id}"]{{--mine:1;background:var(--mine-bg)}}'
        f'.message[data-author="{user_id}"] .message-actions{{display:inline}}'
        f'.typing [data-user="{user_id}"]{{display:none}}\n'
    )
    return Response(css, mimetype="text/css", headers={"Cache-Control": IMMUTABLE})


def register_template_helpers(app: Quart) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.filters["iso_time"] = iso_time
    app.jinja_env.filters["shown_time"] = shown_time
    app.add_url_rule("/style/mine-<id:user_id>.css", "mine_stylesheet", mine_stylesheet)

    @app.context_processor
    def reader() -> dict:
        return {"me": g.get("user")}
