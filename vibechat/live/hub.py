"""The live state of one process: its open sockets and their caps, and stopping them.

Presence (vibechat.live.presence), typing (vibechat.live.typing_notices) and the
session check (vibechat.live.session_check) keep their own state and timers; the hub
holds them so that the socket handlers and the broadcasts find them in one place, and
closes them when the process stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter

from vibechat.live.broker import Broker
from vibechat.live.jobs import Jobs
from vibechat.live.presence import Presence, PresenceNews
from vibechat.live.typing_notices import Typing

RECONNECT = 1012  # "Service Restart": pages reconnect and catch up
SESSION_ENDED = 1008  # "Policy Violation": logged out; the page must not reconnect
# A private code (4000-4999, RFC 6455 7.4.2) mirroring HTTP 429: this session or person
# has too many sockets open here. The page says so and does not reconnect by itself.
TOO_MANY_SOCKETS = 4429
# Another private code, mirroring HTTP 408: the page sent nothing for three heartbeats
# (vibechat.live.heartbeat). It rarely hears it (its network is gone); if it does, it
# reconnects.
SILENT = 4408
SOCKETS_CLOSE_WITHIN = 3.0  # seconds a stopping process waits for close frames to go out


class Live:
    """What the socket handlers and the broadcasts share in one process."""

    def __init__(
        self,
        broker: Broker,
        *,
        presence: Presence,
        presence_news: PresenceNews,
        typing: Typing,
        upkeep: Jobs,
        max_per_session: int = 20,
        max_per_person: int = 50,
    ) -> None:
        self.broker = broker
        self.presence = presence  # who is online
        self.presence_news = presence_news  # who came or went, announced in batches
        self.typing = typing
        self.upkeep = upkeep  # the loops that run while serving (session check, heartbeat)
        self.max_per_session = max_per_session
        self.max_per_person = max_per_person
        # Sockets admitted and not yet gone, opening ones included: counted before the
        # first await of the handshake, so a burst of opens cannot slip past the caps.
        self._per_session: Counter[str] = Counter()
        self._per_person: Counter[int] = Counter()
        self.connections: set = set()  # every open socket in this process
        self.stopping = False  # the process is shutting down: sockets close as they open
        self._none_open = asyncio.Event()

    async def reconnect_everyone(self) -> None:
        """Close every socket here so that each page reconnects and catches up."""
        self.close_sockets()

    def close_sockets(self) -> None:
        for connection in tuple(self.connections):
            connection.close(RECONNECT)

    def stop(self) -> None:
        """The process is stopping: every socket, open or opening, closes with 1012, so
        its page reconnects (to another process, or to this one once it is back)."""
        self.stopping = True
        self.close_sockets()

    async def sockets_closed(self, within: float) -> None:
        """Wait until every socket has sent its close frame, for at most `within` s."""
        if self.connections:
            self._none_open.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._none_open.wait(), within)

    def admit(self, connection) -> str | None:
        """Count a socket that is about to open, or say which cap it would pass:
        "session" or "person" (and then it is not counted)."""
        if self._per_session[connection.session_hash] >= self.max_per_session:
            return "session"
        if self._per_person[connection.user.id] >= self.max_per_person:
            return "person"
        self._per_session[connection.session_hash] += 1
        self._per_person[connection.user.id] += 1
        return None

    def disconnected(self, connection) -> None:
        """An admitted socket is gone (whether or not it was ever accepted)."""
        self.connections.discard(connection)
        for counts, key in (
            (self._per_session, connection.session_hash),
            (self._per_person, connection.user.id),
        ):
            counts[key] -= 1
            if counts[key] <= 0:
                del counts[key]
        if not self.connections:
            self._none_open.set()

    async def close(self) -> None:
        """Once the sockets are closed: stop the timers and loops, give back shared
        presence, close the broker."""
        await self.upkeep.close()
        await self.typing.close()
        await self.presence_news.close()
        await self.presence.close()
        await self.broker.close()
