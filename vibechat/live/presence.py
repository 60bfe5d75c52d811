"""Who is online (has at least one socket open), and telling their chats in batches.

Several tabs of one person count once: presence changes only on the first socket
opened and the last one closed. `Presence` counts this process's sockets;
`vibechat.live.redis_presence.RedisPresence` shares the count between processes (and
keeps it fresh with its own heartbeat). `PresenceNews` gathers who came and went and
hands one batch at a time to whoever publishes it (vibechat.live.events).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Iterable

from vibechat import queries
from vibechat.live.jobs import Jobs
from vibechat.web import db

# People who arrive or leave within this many seconds are announced together: one
# frame per chat, not one per person (a town hall of 1,000 opening the page at 10:00
# would otherwise send each of them every arrival after theirs: half a million frames).
PRESENCE_BATCH = 0.2

News = dict[int, dict[int, bool]]  # chat -> person -> online


class Presence:
    """The sockets of this process. Async like RedisPresence, which shares the count."""

    def __init__(self) -> None:
        self._sockets: Counter[int] = Counter()

    def _count_in(self, user_id: int) -> bool:
        """Count a socket here; True when it is this person's first one here."""
        self._sockets[user_id] += 1
        return self._sockets[user_id] == 1

    def _count_out(self, user_id: int) -> bool:
        """Uncount a socket here; True when it was this person's last one here."""
        self._sockets[user_id] -= 1
        if self._sockets[user_id] <= 0:
            del self._sockets[user_id]
            return True
        return False

    def local_users(self) -> list[int]:
        return list(self._sockets)

    async def connect(self, user_id: int) -> bool:
        """Count a socket; True when this person just came online."""
        return self._count_in(user_id)

    async def disconnect(self, user_id: int) -> bool:
        """Uncount a socket; True when this person just went offline."""
        return self._count_out(user_id)

    async def online(self, user_ids) -> set[int]:
        return {user_id for user_id in user_ids if self._sockets.get(user_id)}

    async def close(self) -> None:
        """Nothing to give back in one process."""


class PresenceNews:
    """Arrivals and departures not yet announced, and the timer that announces them."""

    def __init__(
        self, presence: Presence, publish: Callable[[News], Awaitable[None]], jobs: Jobs
    ) -> None:
        self._presence = presence
        self._publish = publish
        self._jobs = jobs
        self._news: News = {}
        self._due = False  # a batch is scheduled

    def announce(self, user_id: int, chat_ids: Iterable[int], online: bool) -> None:
        """Tell these chats that someone came online or went offline, in the next batch."""
        for chat_id in chat_ids:
            self._news.setdefault(chat_id, {})[user_id] = online
        if not self._due and self._news:
            self._due = True
            self._jobs.later(PRESENCE_BATCH, self._announce)

    async def announce_gone(self, user_ids: Iterable[int]) -> None:
        """These people's last socket anywhere is gone (their process stopped renewing
        its claims): every chat of theirs hears it."""
        for user_id in user_ids:
            async with db().read() as session:
                chat_ids = await queries.chat_ids_of(session, user_id)
            self.announce(user_id, chat_ids, online=False)

    async def _announce(self) -> None:
        self._due = False
        news, self._news = self._news, {}
        # Announce what is true now rather than what was queued: with Redis, another
        # process may have announced the same person meanwhile (a page reloaded onto
        # another worker within the batch), and the last word must be the truth.
        people = {user_id for changes in news.values() for user_id in changes}
        online = await self._presence.online(people)
        truth = {chat: {user: user in online for user in changes} for chat, changes in news.items()}
        await self._publish(truth)

    async def close(self) -> None:
        await self._jobs.close()
