"""Wire the live channel into the app: the /ws route, the protocol limits, and the
process's live state, created when serving starts and closed when it stops.

The parts meet here and only here: presence batches and typing expiry are handed the
broadcasts they call (vibechat.live.events) as callbacks, so that neither imports it.
"""

from __future__ import annotations

from quart import Quart

from vibechat import shutdown
from vibechat.config import Settings
from vibechat.live import events, protocol
from vibechat.live.broker import Broker, LocalBroker
from vibechat.live.envelope import SESSION_CHECK
from vibechat.live.heartbeat import beat_regularly
from vibechat.live.hub import SOCKETS_CLOSE_WITHIN, Live
from vibechat.live.jobs import Jobs
from vibechat.live.presence import Presence, PresenceNews
from vibechat.live.redis_broker import RedisBroker
from vibechat.live.redis_presence import RedisPresence
from vibechat.live.session_check import check_sessions_regularly
from vibechat.live.socket import bp
from vibechat.live.typing_notices import Typing


def init_live(
    app: Quart,
    settings: Settings,
    broker: Broker | None = None,
    session_check: float = SESSION_CHECK,
) -> None:
    """Register the socket and create the shared state when serving starts. Publish
    through `broker` when given (tests), else Redis when configured, else in-process."""
    app.register_blueprint(bp)
    protocol.configure(settings.ws_compression)
    # The page reads the heartbeat's interval from <body data-beat> (base.html).
    app.jinja_env.globals["heartbeat_seconds"] = settings.ws_heartbeat

    @app.before_serving
    async def start_live() -> None:
        chosen = broker
        if chosen is None and settings.redis_url:
            chosen = RedisBroker(settings.redis_url)
        chosen = chosen or LocalBroker()
        shared = isinstance(chosen, RedisBroker)
        presence = RedisPresence(chosen.client) if shared else Presence()
        live = app.extensions["live"] = Live(
            chosen,
            presence=presence,
            presence_news=PresenceNews(presence, events.presence_batch, Jobs(app.app_context)),
            typing=Typing(events.typing_changed, Jobs(app.app_context)),
            upkeep=Jobs(app.app_context),
            max_per_session=settings.ws_per_session,
            max_per_person=settings.ws_per_person,
        )
        live.upkeep.start(lambda: check_sessions_regularly(live, session_check))
        live.upkeep.start(lambda: beat_regularly(live, settings.ws_heartbeat))
        if shared:
            chosen.on_resubscribed = live.reconnect_everyone
            await chosen.start()
            live.upkeep.start(lambda: presence.keep_fresh(live.presence_news.announce_gone))
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
