"""Jinja helpers: CSRF token, element ids, times, the reader, and the one "my messages"
CSS rule."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

from quart import Quart, Response, g, request, url_for

from vibechat.dom import dom_id
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


class Assets:
    """Static files under content-hashed URLs: /static/app.css?v=<hash>.

    A changed file gets a new URL, so browsers may keep every version for a year;
    the hash is computed once per file and process."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._versions: dict[str, str] = {}

    def url(self, filename: str) -> str:
        version = self._versions.get(filename)
        if version is None:
            digest = hashlib.sha256((self.folder / filename).read_bytes()).hexdigest()
            version = self._versions[filename] = digest[:12]
        return url_for("static", filename=filename, v=version)


async def cache_static_files(response: Response) -> Response:
    """Versioned static URLs never change: cache them for a year. Others revalidate."""
    if request.path.startswith("/static/") and response.status_code == 200:
        if request.args.get("v"):
            response.headers["Cache-Control"] = IMMUTABLE
        else:
            response.headers["Cache-Control"] = "no-cache"
    return response


def register_template_helpers(app: Quart) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["dom_id"] = dom_id
    app.jinja_env.globals["asset_url"] = Assets(Path(app.static_folder)).url
    app.after_request(cache_static_files)
    app.jinja_env.filters["iso_time"] = iso_time
    app.jinja_env.filters["shown_time"] = shown_time
    app.add_url_rule("/style/mine-<id:user_id>.css", "mine_stylesheet", mine_stylesheet)

    @app.context_processor
    def reader() -> dict:
        return {"me": g.get("user")}
