"""Moves bytes from publishers to subscribers. Knows nothing of Quart or SQLAlchemy.

A subscriber is a plain callable that must not block: it is called once per message,
in publish order. The WebSocket layer passes a callback that puts the bytes on the
connection's own bounded queue, so a slow client can never slow a publisher down.
The Redis broker (scale-out) implements the same interface.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Protocol

Subscriber = Callable[[bytes], None]


class Broker(Protocol):
    async def publish(self, topic: str, data: bytes) -> None: ...

    def subscribe(self, topic: str, subscriber: Subscriber) -> None: ...

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None: ...

    async def close(self) -> None: ...


class LocalBroker:
    """In-process fan-out: enough for one worker process."""

    def __init__(self) -> None:
        self._subscribers: defaultdict[str, set[Subscriber]] = defaultdict(set)

    async def publish(self, topic: str, data: bytes) -> None:
        # Copy: a subscriber may unsubscribe (or subscribe another) while we deliver.
        for subscriber in tuple(self._subscribers.get(topic, ())):
            subscriber(data)

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


class RecordingBroker(LocalBroker):
    """A LocalBroker that also keeps everything published, for tests."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, bytes]] = []

    async def publish(self, topic: str, data: bytes) -> None:
        self.published.append((topic, data))
        await super().publish(topic, data)
