"""Wire the live channel into the app: the /ws route, the protocol limits, and the
process's live state, created when serving starts and closed when it stops."""

from __future__ import annotations

from quart import Quart

from vibechat import shutdown
from vibechat.live import protocol
from vibechat.live.broker import Broker, LocalBroker
from vibechat.live.hub import SOCKETS_CLOSE_WITHIN, Live
from vibechat.live.redis_broker import RedisBroker
from vibechat.live.socket import bp


def init_live(app: Quart, broker: Broker | None = None) -> None:
    """Register the socket and create the shared state when serving starts."""
    app.register_blueprint(bp)
    protocol.configure(app.config["VIBECHAT_WS_COMPRESSION"])

    @app.before_serving
    async def start_live() -> None:
        chosen = broker or app.config.get("LIVE_BROKER")
        redis_url = app.config.get("VIBECHAT_REDIS_URL")
        if chosen is None and redis_url:
            chosen = RedisBroker(redis_url)
        live = app.extensions["live"] = Live(
            chosen or LocalBroker(),
            max_per_session=app.config["VIBECHAT_WS_PER_SESSION"],
            max_per_person=app.config["VIBECHAT_WS_PER_PERSON"],
        )
        live.check_sessions_regularly(app)
        if isinstance(live.broker, RedisBroker):
            live.broker.on_resubscribed = live.reconnect_everyone
            await live.broker.start()
            live.keep_presence_fresh(app)
        shutdown.on_stopping(live.stop)

    @app.after_serving
    async def stop_live() -> None:
        live = app.extensions["live"]
        shutdown.forget(live.stop)
        # Already done when hypercorn told us it was stopping; not when the app runs
        # in hypercorn's main process (--workers 0) or under a test client.
        live.stop()
        await live.sockets_closed(within=SOCKETS_CLOSE_WITHIN)
        await live.close()
