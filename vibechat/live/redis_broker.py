"""Fan-out between processes through Redis pub/sub, behind the LocalBroker interface.

Each process holds ONE pattern subscription (`vibechat:live:*`) for its whole life and
hands what arrives to its own subscribers, exactly as LocalBroker does. Subscribing a
socket is then a local, synchronous step with no round trip, so "subscribe before
accept" still guarantees that nothing published after the page's catch-up request
starts can be missed. The price is that every process receives every frame, which is
what fan-out to sockets spread over all processes needs anyway for chats of any size.

Redis going away loses nothing: the message is already in the database. While Redis
is down, publish delivers to this process's own sockets and logs; the listener
reconnects with backoff. Once it is subscribed again, `on_resubscribed` runs (the app
closes its sockets with 1012) so every page reconnects and catches up with ?since.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError

from vibechat.live.broker import LocalBroker
from vibechat.metrics import BROKER_LAG_SECONDS

log = logging.getLogger(__name__)

PREFIX = "vibechat:live:"
BACKOFF_START = 0.1  # seconds
BACKOFF_MAX = 5.0
FIRST_CONNECT_WAIT = 2.0  # at start-up; after that the listener keeps trying alone
# Each message on Redis starts with its publish time (a big-endian double, Unix
# seconds), for the broker-lag metric.
STAMP = struct.Struct(">d")


async def publish_on(client: redis.Redis, topic: str, data: bytes) -> None:
    """Publish to every process's RedisBroker: the one place that writes the wire format."""
    await client.publish(PREFIX + topic, STAMP.pack(time.time()) + data)


class RedisBroker(LocalBroker):
    def __init__(
        self,
        url: str,
        on_resubscribed: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        super().__init__()
        self.url = url
        self.on_resubscribed = on_resubscribed
        # A pooled connection may have died with a Redis restart: retry on a new one.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=2,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
            retry_on_error=[RedisConnectionError, TimeoutError],
        )
        self.connected = asyncio.Event()
        self._listener: asyncio.Task | None = None

    async def start(self) -> None:
        """Start listening; wait (briefly) for the first subscription."""
        self._listener = asyncio.create_task(self._listen(), name="vibechat redis listener")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connected.wait(), FIRST_CONNECT_WAIT)
        if not self.connected.is_set():
            log.warning("Redis at %s is not answering; live updates stay in this process", self.url)

    async def publish(self, topic: str, data: bytes) -> None:
        if self.connected.is_set():
            try:
                await publish_on(self.client, topic, data)
                return
            except (RedisError, OSError) as error:
                log.warning("Redis publish failed (%s); delivering in this process only", error)
        # Redis is away: this process's sockets still hear it; the others catch up
        # from the database when the broker is back.
        await super().publish(topic, data)

    async def _listen(self) -> None:
        backoff = BACKOFF_START
        failures = 0
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(PREFIX + "*")
                self.connected.set()
                backoff = BACKOFF_START
                if failures and self.on_resubscribed is not None:
                    # Frames from other processes were lost meanwhile: have every page
                    # here reconnect and catch up from the database.
                    log.info("subscribed to Redis again")
                    await self.on_resubscribed()
                async for message in pubsub.listen():
                    if message["type"] == "pmessage":
                        topic = message["channel"].decode()[len(PREFIX) :]
                        stamped = message["data"]
                        (sent,) = STAMP.unpack_from(stamped)
                        BROKER_LAG_SECONDS.observe(max(0.0, time.time() - sent))
                        await LocalBroker.publish(self, topic, stamped[STAMP.size :])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if self.connected.is_set():
                    log.warning("lost Redis (%s); reconnecting", error)
                self.connected.clear()
                failures += 1
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        await self.client.aclose()
        await super().close()
