"""create_app() builds the Quart application: settings, hooks, blueprints, middleware."""

from __future__ import annotations

from quart import Quart, request

from vibechat import compression, logs, message_parts, metrics, passwords, paths, security, shutdown
from vibechat.config import Settings, check_workers, database_url, load_settings, secret_key
from vibechat.db import Database
from vibechat.errors import register_error_handlers
from vibechat.headers import add_security_headers
from vibechat.http1 import forgive_empty_lines, refuse_ambiguous_length
from vibechat.i18n import init_i18n
from vibechat.live.broker import Broker
from vibechat.live.envelope import SESSION_CHECK
from vibechat.live.setup import init_live
from vibechat.message_cache import init_message_cache
from vibechat.proxy import behind_proxies
from vibechat.rate_limits import RateLimits
from vibechat.sessions import init_sessions
from vibechat.templating import register_template_helpers
from vibechat.timezones import init_timezones
from vibechat.views import account, auth, chats, language, messages, ops, people, search
from vibechat.warmup import init_warmup
from vibechat.web import IdConverter


def create_app(
    settings: Settings | None = None,
    *,
    testing: bool = False,
    broker: Broker | None = None,
    session_check: float = SESSION_CHECK,
) -> Quart:
    """The app for these settings (default: read from the environment, load_settings()).

    The keywords are for tests and benchmarks. `testing`: Quart's testing mode (an
    error reaches the test client instead of becoming a 500), the cheapest password
    hashes, and no warm-up (hundreds of apps run in one process). `broker`: the live
    broker to publish through (a recording one), instead of Redis when
    VIBECHAT_REDIS_URL is set or the in-process one. `session_check`: seconds between
    checks that the open sockets' sessions still exist.
    """
    settings = load_settings() if settings is None else settings
    check_workers(settings)
    app = Quart(
        __name__,
        template_folder=str(paths.TEMPLATES),
        static_folder=str(paths.STATIC),
        instance_path=settings.instance_path,
    )
    app.testing = testing
    app.extensions["settings"] = settings  # read through vibechat.web.settings()
    app.secret_key = secret_key(settings)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=settings.max_body_bytes,
    )
    logs.configure_logging(settings.log_format)
    shutdown.install()
    app.extensions["rate_limits"] = RateLimits(settings)
    app.extensions["password_hasher"] = passwords.password_hasher(cheap=testing)

    @app.before_serving
    async def open_database() -> None:
        app.extensions["db"] = Database(database_url(settings))
        # Checked against for unknown usernames, so a miss costs what a hit costs.
        app.extensions["dummy_password_hash"] = app.extensions["password_hasher"].hash(
            "not a real password"
        )

    @app.after_serving
    async def close_database() -> None:
        await app.extensions["db"].dispose()
        metrics.process_ended()

    logs.init_request_logging(app)  # first: every later hook's lines carry the request id
    init_sessions(app, settings)
    init_i18n(app)  # after the session (the account's language), before any refusal
    init_timezones(app)  # after the session too (the account's zone)
    app.before_request(security.check_csrf)
    app.after_request(security.remember_csrf_cookie)
    app.after_request(_no_cache_for_pages)
    app.after_request(add_security_headers)

    app.url_map.converters["id"] = IdConverter
    for blueprint in (
        auth.bp,
        account.bp,
        chats.bp,
        messages.bp,
        people.bp,
        search.bp,
        language.bp,
        ops.bp,
    ):
        app.register_blueprint(blueprint)
    init_live(app, settings, broker=broker, session_check=session_check)
    register_error_handlers(app)
    register_template_helpers(app)
    init_message_cache(app)
    message_parts.register(app)
    if not testing:
        init_warmup(app)  # registered last: runs after the other before_serving hooks
    app.asgi_app = compression.compressed(app.asgi_app)
    if settings.proxy_hops:
        # The client's address and scheme as the trusted proxies saw them (hypercorn's
        # middleware): rate limits count people, not the proxy; HTTPS is known.
        app.asgi_app = behind_proxies(app.asgi_app, settings.proxy_hops)
    app.asgi_app = refuse_ambiguous_length(app.asgi_app)  # outermost: before anything reads
    forgive_empty_lines()  # hypercorn's HTTP/1 parser in this worker: w3m's stray CRLF
    return app


async def _no_cache_for_pages(response):
    # Pages carry per-person content and CSRF tokens: never from a shared cache.
    if response.mimetype == "text/html" and request.path != "/favicon.ico":
        response.headers.setdefault("Cache-Control", "no-cache, private")
    return response
