"""The live state of one process: its open sockets and their caps, presence batching,
typing expiry, the shared-presence heartbeat, and shutting them all down."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
from collections import Counter

from quart import Quart, current_app
from redis.exceptions import RedisError

from vibechat.live import presence
from vibechat.live.broker import Broker
from vibechat.live.envelope import SESSION_CHECK
from vibechat.live.presence import Presence, Typing
from vibechat.live.redis_broker import RedisBroker
from vibechat.live.redis_presence import HEARTBEAT, SWEEP, RedisPresence

log = logging.getLogger(__name__)

RECONNECT = 1012  # "Service Restart": pages reconnect and catch up
SESSION_ENDED = 1008  # "Policy Violation": logged out; the page must not reconnect
# A private code (4000-4999, RFC 6455 7.4.2) mirroring HTTP 429: this session or person
# has too many sockets open here. The page says so and does not reconnect by itself.
TOO_MANY_SOCKETS = 4429
# People who arrive or leave within this many seconds are announced together: one
# frame per chat, not one per person (a town hall of 1,000 opening the page at 10:00
# would otherwise send each of them every arrival after theirs: half a million frames).
PRESENCE_BATCH = 0.2
SOCKETS_CLOSE_WITHIN = 3.0  # seconds a stopping process waits for close frames to go out


class Live:
    """What the socket handlers and the broadcasts share in one process."""

    def __init__(self, broker: Broker, max_per_session: int = 20, max_per_person: int = 50) -> None:
        self.broker = broker
        self.max_per_session = max_per_session
        self.max_per_person = max_per_person
        # Sockets admitted and not yet gone, opening ones included: counted before the
        # first await of the handshake, so a burst of opens cannot slip past the caps.
        self._per_session: Counter[str] = Counter()
        self._per_person: Counter[int] = Counter()
        shared = isinstance(broker, RedisBroker)
        self.presence = RedisPresence(broker.client) if shared else Presence()
        self.typing = Typing()
        self._expiring: dict[int, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task] = set()  # keep running expiry tasks referenced
        self._presence_news: dict[int, dict[int, bool]] = {}  # chat -> person -> online
        self._presence_due: asyncio.TimerHandle | None = None
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

    async def close_ended_sessions(self, db) -> None:
        """Close (1008) every socket here whose session row is gone."""
        from vibechat import queries

        # Decide only about the sockets whose sessions were asked about: one accepted
        # while the query runs is not among them, and must not count as "ended".
        asked = tuple(self.connections)
        if not asked:
            return
        async with db.read() as session:
            alive = await queries.existing_session_hashes(
                session, {connection.session_hash for connection in asked}
            )
        for connection in asked:
            if connection.session_hash not in alive:
                connection.close(SESSION_ENDED)

    def check_sessions_regularly(self, app: Quart) -> None:
        task = asyncio.ensure_future(self._session_upkeep(app))
        self._tasks.add(task)

    async def _session_upkeep(self, app: Quart) -> None:
        every = app.config.get("LIVE_SESSION_CHECK", SESSION_CHECK)
        while True:
            await asyncio.sleep(every)
            try:
                await self.close_ended_sessions(app.extensions["db"])
            except Exception:
                log.warning("checking the sockets' sessions failed", exc_info=True)

    def announce_presence(self, user_id: int, chat_ids, online: bool) -> None:
        """Tell these chats that someone came online or went offline, in the next batch."""
        for chat_id in chat_ids:
            self._presence_news.setdefault(chat_id, {})[user_id] = online
        if self._presence_due is None and self._presence_news:
            self._presence_due = self._later(PRESENCE_BATCH, self._announce)

    async def _announce(self) -> None:
        from vibechat.live import events

        self._presence_due = None
        news, self._presence_news = self._presence_news, {}
        # Announce what is true now rather than what was queued: with Redis, another
        # process may have announced the same person meanwhile (a page reloaded onto
        # another worker within the batch), and the last word must be the truth.
        people = {user_id for changes in news.values() for user_id in changes}
        online = await self.presence.online(people)
        truth = {chat: {user: user in online for user in changes} for chat, changes in news.items()}
        await events.presence_batch(truth)

    def _later(self, delay: float, job) -> asyncio.TimerHandle:
        """Run the coroutine function job() in delay seconds, inside the app's context
        (a timer runs outside any request, and rendering a frame needs the app)."""
        app = current_app._get_current_object()

        async def run() -> None:
            try:
                async with app.app_context():
                    await job()
            finally:
                self._tasks.discard(asyncio.current_task())

        loop = asyncio.get_running_loop()
        return loop.call_later(delay, lambda: self._tasks.add(asyncio.ensure_future(run())))

    def expire_typing_later(self, chat_id: int) -> None:
        """Publish the typing line again once notices have had time to expire."""
        if chat_id in self._expiring:
            return
        self._expiring[chat_id] = self._later(
            presence.TYPING_SECONDS + 0.1, lambda: self._expire(chat_id)
        )

    async def _expire(self, chat_id: int) -> None:
        from vibechat.live import events

        del self._expiring[chat_id]
        if self.typing.expire(chat_id):
            await events.typing_changed(chat_id)
        if self.typing.current(chat_id):
            self.expire_typing_later(chat_id)

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
        for handle in [*self._expiring.values(), self._presence_due]:
            if handle is not None:
                handle.cancel()
        self._expiring.clear()
        for task in tuple(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.broker.close()
