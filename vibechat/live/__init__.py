"""Live updates: a broker, presence and typing, the /ws endpoint, broadcast frames."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging

from quart import Quart, current_app
from redis.exceptions import RedisError

from vibechat.live import presence
from vibechat.live.broker import Broker, LocalBroker
from vibechat.live.presence import Presence, Typing
from vibechat.live.redis_broker import RedisBroker
from vibechat.live.redis_presence import HEARTBEAT, SWEEP, RedisPresence

log = logging.getLogger(__name__)

RECONNECT = 1012  # "Service Restart": pages reconnect and catch up


class Live:
    """What the socket handlers and the broadcasts share in one process."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        shared = isinstance(broker, RedisBroker)
        self.presence = RedisPresence(broker.client) if shared else Presence()
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

    def keep_presence_fresh(self, app: Quart) -> None:
        """With shared presence: renew our claims, and announce people whose process
        stopped renewing theirs (it crashed)."""
        task = asyncio.ensure_future(self._presence_upkeep(app))
        self._tasks.add(task)

    async def _presence_upkeep(self, app: Quart) -> None:
        from vibechat import queries
        from vibechat.live import events

        beat_every = round(HEARTBEAT / SWEEP)
        for tick in itertools.count():
            await asyncio.sleep(SWEEP)
            try:
                if tick % beat_every == 0:
                    await self.presence.heartbeat()
                gone = await self.presence.sweep()
            except (RedisError, OSError) as error:
                log.warning("presence upkeep skipped (%s)", error)
                continue
            for user_id in gone:
                async with app.app_context():
                    async with app.extensions["db"].read() as session:
                        chat_ids = await queries.chat_ids_of(session, user_id)
                    await events.presence_changed(user_id, chat_ids, online=False)

    async def close(self) -> None:
        await self.presence.close()
        for handle in self._expiring.values():
            handle.cancel()
        self._expiring.clear()
        for task in tuple(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
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
            live.keep_presence_fresh(app)

    @app.after_serving
    async def stop_live() -> None:
        await app.extensions["live"].close()
