"""Moves bytes from publishers to subscribers. Knows nothing of Quart or SQLAlchemy.

A subscriber is a plain callable that must not block: it is called once per message,
in publish order. The WebSocket layer passes a callback that puts the bytes on the
connection's own bounded queue, so a slow client can never slow a publisher down.
The Redis broker (scale-out) implements the same interface.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

from vibechat.metrics import FANOUT_SECONDS

Subscriber = Callable[[bytes], None]


class Broker(Protocol):
    async def publish(self, topic: str, data: bytes) -> None: ...

    def subscribe(self, topic: str, subscriber: Subscriber) -> None: ...

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None: ...

    async def close(self) -> None: ...


# A publish to a crowd hands the event loop back after this many subscribers. Each
# delivery wakes that socket's sender; woken all at once, a town hall of 1,000 would
# hold the loop for one long turn (tens of ms) in which nothing else runs.
YIELD_EVERY = 64


class LocalBroker:
    """In-process fan-out: enough for one worker process."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[Subscriber]] = defaultdict(set)
        # Publishes take turns, so that every subscriber still sees publish order
        # although a long one pauses in the middle.
        self._in_order = asyncio.Lock()

    async def publish(self, topic: str, data: bytes) -> None:
        async with self._in_order:
            started = time.perf_counter()
            # Copy: a subscriber may unsubscribe (or subscribe another) while we deliver.
            subscribers = tuple(self._subscribers.get(topic, ()))
            for n, subscriber in enumerate(subscribers):
                if n and n % YIELD_EVERY == 0:
                    await asyncio.sleep(0)
                subscriber(data)
            if subscribers:
                FANOUT_SECONDS.observe(time.perf_counter() - started)

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        self._subscribers[topic].add(subscriber)

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._subscribers[topic]

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    async def close(self) -> None:
        self._subscribers.clear()
