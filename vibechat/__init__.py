"""vibechat: a server-rendered group chat. create_app() builds the Quart application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from brotli_asgi import BrotliMiddleware
from quart import Quart, request
from quart_auth import QuartAuth

from vibechat import auth, chats, messages, ops, security
from vibechat.config import PROJECT_ROOT, database_url, load_settings, secret_key
from vibechat.db import Database
from vibechat.errors import register_error_handlers
from vibechat.live import init_live
from vibechat.templating import register_template_helpers
from vibechat.web import IdConverter

SESSION_COOKIE = "vibechat_session"
COMPRESSION_QUALITY = 5  # brotli 0-11: 5 is fast on every request and near the best
SESSION_DAYS = 30


def create_app(config: Mapping[str, Any] | None = None) -> Quart:
    """Defaults, then VIBECHAT_* from the environment, then the caller's mapping."""
    settings = load_settings()
    settings.update(config or {})
    app = Quart(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=settings["VIBECHAT_INSTANCE_PATH"],
    )
    app.config.update(settings)
    app.secret_key = secret_key(settings)
    app.config.update(
        MAX_CONTENT_LENGTH=settings["VIBECHAT_MAX_BODY_BYTES"],
        MAX_FORM_MEMORY_SIZE=settings["VIBECHAT_MAX_BODY_BYTES"],
        QUART_AUTH_COOKIE_NAME=SESSION_COOKIE,
        QUART_AUTH_COOKIE_SECURE=settings["VIBECHAT_SECURE_COOKIES"],
        QUART_AUTH_COOKIE_SAMESITE="Lax",
        QUART_AUTH_DURATION=SESSION_DAYS * 24 * 60 * 60,
        QUART_AUTH_SALT="vibechat session",
    )
    ops.configure_logging(settings["VIBECHAT_LOG_FORMAT"])
    QuartAuth(app)
    app.extensions["password_hasher"] = security.password_hasher(
        cheap=app.config.get("TESTING", False)
    )

    @app.before_serving
    async def open_database() -> None:
        app.extensions["db"] = Database(database_url(app.config))
        # Checked against for unknown usernames, so a miss costs what a hit costs.
        app.extensions["dummy_password_hash"] = app.extensions["password_hasher"].hash(
            "not a real password"
        )

    @app.after_serving
    async def close_database() -> None:
        await app.extensions["db"].dispose()

    app.before_request(auth.load_current_user)
    app.before_websocket(auth.load_current_user)
    app.before_request(security.check_csrf)
    app.after_request(security.remember_csrf_cookie)
    app.after_request(_no_cache_for_pages)

    app.url_map.converters["id"] = IdConverter
    for blueprint in (auth.bp, chats.bp, messages.bp, ops.bp):
        app.register_blueprint(blueprint)
    init_live(app)
    register_error_handlers(app)
    register_template_helpers(app)
    # Brotli when the browser accepts it, else gzip, for pages, CSS and JS alike
    # (a maintained ASGI middleware: Quart compresses nothing by itself).
    app.asgi_app = BrotliMiddleware(
        app.asgi_app, quality=COMPRESSION_QUALITY, minimum_size=256, gzip_fallback=True
    )
    return app


async def _no_cache_for_pages(response):
    # Pages carry per-person content and CSRF tokens: never from a shared cache.
    if response.mimetype == "text/html" and request.path != "/favicon.ico":
        response.headers.setdefault("Cache-Control", "no-cache, private")
    return response
