"""Live updates: a broker, presence and typing, the /ws endpoint, broadcast frames."""

from __future__ import annotations

import asyncio

from quart import Quart, current_app

from vibechat.live import presence
from vibechat.live.broker import Broker, LocalBroker
from vibechat.live.presence import Presence, Typing
from vibechat.live.redis_broker import RedisBroker

RECONNECT = 1012  # "Service Restart": pages reconnect and catch up


class Live:
    """What the socket handlers and the broadcasts share in one process."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.presence = Presence()
        self.typing = Typing()
        self._expiring: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()  # keep running expiry tasks referenced
        self.connections: set = set()  # every open socket in this process

    async def reconnect_everyone(self) -> None:
        """Close every socket here so that each page reconnects and catches up."""
        for connection in tuple(self.connections):
            connection.close(RECONNECT)

    def expire_typing_later(self, chat_id: int) -> None:
        """Publish the typing line again once notices have had time to expire."""
        if chat_id in self._expiring:
            return
        app = current_app._get_current_object()
        loop = asyncio.get_running_loop()
        self._expiring[chat_id] = loop.call_later(
            presence.TYPING_SECONDS + 0.1,
            lambda: self._tasks.add(asyncio.ensure_future(self._expire(app, chat_id))),
        )

    async def _expire(self, app: Quart, chat_id: int) -> None:
        from vibechat.live import events

        try:
            del self._expiring[chat_id]
            # A timer runs outside any request: rendering the frame needs the app.
            async with app.app_context():
                if self.typing.expire(chat_id):
                    await events.typing_changed(chat_id)
                if self.typing.current(chat_id):
                    self.expire_typing_later(chat_id)
        finally:
            self._tasks.discard(asyncio.current_task())

    async def close(self) -> None:
        for handle in self._expiring.values():
            handle.cancel()
        self._expiring.clear()
        for task in self._tasks:
            task.cancel()
        await self.broker.close()


def init_live(app: Quart, broker: Broker | None = None) -> None:
    """Register the socket and create the shared state when serving starts."""
    from vibechat.live.socket import bp

    app.register_blueprint(bp)

    @app.before_serving
    async def start_live() -> None:
        chosen = broker or app.config.get("LIVE_BROKER")
        redis_url = app.config.get("VIBECHAT_REDIS_URL")
        if chosen is None and redis_url:
            chosen = RedisBroker(redis_url)
        live = app.extensions["live"] = Live(chosen or LocalBroker())
        if isinstance(live.broker, RedisBroker):
            live.broker.on_resubscribed = live.reconnect_everyone
            await live.broker.start()

    @app.after_serving
    async def stop_live() -> None:
        await app.extensions["live"].close()
