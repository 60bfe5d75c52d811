"""Jinja helpers: CSRF token, element ids, the instant of a <time>, the reader, and the
one "my messages" CSS rule."""

from __future__ import annotations

import functools
import hashlib
from datetime import UTC, datetime
from pathlib import Path

import brotli
import rcssmin
import rjsmin
from quart import (
    Quart,
    Response,
    current_app,
    g,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from werkzeug.security import safe_join

from vibechat import formatting, i18n, paths
from vibechat.dom import dom_id
from vibechat.security import csrf_token

# The chat list's preview of a message, in characters: one line shows fewer, and it
# rides in every message's live frame (64 keeps the Russian frame under 1 KB).
PREVIEW_CHARS = 64

# A year: the URL names the user id, so its content never changes.
IMMUTABLE = "public, max-age=31536000, immutable"


def iso_time(value: datetime) -> str:
    """For <time datetime>: UTC, to the second."""
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


async def mine_stylesheet(user_id: int) -> Response:
    """The rules that mark a reader's own messages (the message partial never depends
    on who reads it, so "mine" lives here), from templates/mine.css. An external sheet,
    not an inline <style>, so that a strict Content-Security-Policy needs no exception.
    Its few words ("(you)", "You:") are in the language its URL names (?lang=, else
    English), never the requester's: a cache keeps it by URL."""
    language = i18n.known(request.args.get("lang")) or i18n.DEFAULT
    with i18n.speaking(language):
        css = await render_template("mine.css", user_id=user_id)
    return Response(css, mimetype="text/css", headers={"Cache-Control": IMMUTABLE})


@functools.cache
def _mine_version(language: str) -> str:
    digest = hashlib.sha256((paths.TEMPLATES / "mine.css").read_bytes())
    if language != i18n.DEFAULT:
        digest.update(i18n.catalog(language).read_bytes())
    return digest.hexdigest()[:8]


def mine_stylesheet_url(user_id: int) -> str:
    """The sheet is kept for a year: its URL changes whenever templates/mine.css does,
    or the catalog of its language. It names the reader's language (English: none)."""
    language = i18n.current()
    named = None if language == i18n.DEFAULT else language  # url_for leaves None out
    return url_for("mine_stylesheet", user_id=user_id, v=_mine_version(language), lang=named)


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


class Script:
    """Our own script: the entry module static/app.js and the modules it imports from
    static/js/, under one versioned folder: /static/v-<hash>/app.js, .../js/place.js.

    A module imports another by a relative URL, which keeps the folder (a ?v= query
    would not carry over to it), so every module is versioned with no build step. The
    hash covers them all, computed once per process. ON_DEMAND modules are imported
    when first needed (app.js says when), so a page does not preload them: what reading
    a chat never uses stays out of the first visit's 40 KB (SPEC §7)."""

    ON_DEMAND = frozenset({"js/mentions.js"})  # on the message box's first focus

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        modules = sorted(path.name for path in (folder / "js").glob("*.js"))
        self.files = ["app.js", *(f"js/{name}" for name in modules)]
        digest = hashlib.sha256()
        for name in self.files:
            digest.update(name.encode() + b"\0" + (folder / name).read_bytes())
        self.version = digest.hexdigest()[:12]

    def urls(self) -> list[str]:
        """The entry's URL, then its modules' (for <link rel="modulepreload">), but for
        those imported on demand."""
        return [
            url_for("script", version=self.version, filename=name)
            for name in self.files
            if name not in self.ON_DEMAND
        ]

    async def serve(self, version: str, filename: str) -> Response:
        response = await send_from_directory(self.folder, filename)
        if version == self.version and filename in self.files:
            versioned(response, self.folder / filename)
        else:
            # A page from before a deploy asks: it gets today's file, not to be kept.
            response.headers["Cache-Control"] = "no-cache"
        return response


MINIFIERS = {".js": rjsmin.jsmin, ".css": rcssmin.cssmin}


@functools.lru_cache(maxsize=32)
def shipped(path: Path) -> bytes:
    """A versioned file as it travels: our own script and stylesheet without comments
    and indentation (rjsmin, rcssmin: a third smaller after brotli), a file minified
    already (*.min.js, the vendored ones) as it came. The file on disk stays readable;
    its unversioned URL serves it as is."""
    minify = MINIFIERS.get(path.suffix)
    if minify is None or ".min." in path.name:
        return path.read_bytes()
    return minify(path.read_text(encoding="utf-8")).encode()


@functools.lru_cache(maxsize=32)
def best_brotli(path: Path) -> bytes:
    return brotli.compress(shipped(path), quality=11)


def versioned(response: Response, path: Path) -> None:
    """A file under a versioned URL: kept for a year and never asked again (so neither
    validators nor Expires, about 130 bytes), minified, and compressed once per process
    at brotli's best, about a tenth smaller than the on-the-fly quality that suits pages."""
    response.headers["Cache-Control"] = IMMUTABLE
    for name in ("ETag", "Last-Modified", "Expires"):
        response.headers.pop(name, None)
    response.vary.add("Accept-Encoding")
    # By quality, not by substring: "gzip, br;q=0" refuses brotli.
    if request.accept_encodings["br"] > 0:
        response.set_data(best_brotli(path))
        response.headers["Content-Encoding"] = "br"
    else:
        response.set_data(shipped(path))


async def cache_static_files(response: Response) -> Response:
    """Versioned static URLs never change: cache them for a year. Others revalidate."""
    if request.endpoint == "static" and response.status_code == 200:
        if request.args.get("v"):
            path = safe_join(current_app.static_folder, request.view_args["filename"])
            versioned(response, Path(path))
        else:
            response.headers["Cache-Control"] = "no-cache"
    return response


def register_template_helpers(app: Quart) -> None:
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["dom_id"] = dom_id
    app.jinja_env.globals["preview_chars"] = PREVIEW_CHARS
    app.jinja_env.globals["mine_stylesheet_url"] = mine_stylesheet_url
    app.jinja_env.globals["asset_url"] = Assets(Path(app.static_folder)).url
    script = Script(Path(app.static_folder))
    app.jinja_env.globals["script_urls"] = script.urls
    app.add_url_rule("/static/v-<version>/<path:filename>", "script", script.serve)
    app.after_request(cache_static_files)
    app.jinja_env.filters["iso_time"] = iso_time
    app.jinja_env.globals["formatted"] = formatting.formatted
    app.jinja_env.filters["plain_text"] = formatting.plain
    app.add_url_rule("/style/mine-<id:user_id>.css", "mine_stylesheet", mine_stylesheet)

    @app.context_processor
    def reader() -> dict:
        return {"me": g.get("user")}
