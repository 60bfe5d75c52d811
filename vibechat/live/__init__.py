"""Live updates: a broker, presence and typing, the /ws endpoint, broadcast frames."""

from __future__ import annotations

import asyncio

from quart import Quart

from vibechat.live.broker import Broker, LocalBroker
from vibechat.live.presence import TYPING_SECONDS, Presence, Typing


class Live:
    """What the socket handlers and the broadcasts share in one process."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        self.presence = Presence()
        self.typing = Typing()
        self._expiring: dict[int, asyncio.TimerHandle] = {}

    def expire_typing_later(self, chat_id: int) -> None:
        """Publish the typing line again once notices have had time to expire."""
        if chat_id in self._expiring:
            return
        loop = asyncio.get_running_loop()
        self._expiring[chat_id] = loop.call_later(
            TYPING_SECONDS + 0.1, lambda: asyncio.ensure_future(self._expire(chat_id))
        )

    async def _expire(self, chat_id: int) -> None:
        from vibechat.live import events

        del self._expiring[chat_id]
        if self.typing.expire(chat_id):
            await events.typing_changed(chat_id)
        if self.typing.current(chat_id):
            self.expire_typing_later(chat_id)

    async def close(self) -> None:
        for handle in self._expiring.values():
            handle.cancel()
        self._expiring.clear()
        await self.broker.close()


def init_live(app: Quart, broker: Broker | None = None) -> None:
    """Register the socket and create the shared state when serving starts."""
    from vibechat.live.socket import bp

    app.register_blueprint(bp)

    @app.before_serving
    async def start_live() -> None:
        app.extensions["live"] = Live(broker or app.config.get("LIVE_BROKER") or LocalBroker())

    @app.after_serving
    async def stop_live() -> None:
        await app.extensions["live"].close()
