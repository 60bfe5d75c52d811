"""Who is online (has at least one socket open) and who is typing.

Several tabs of one person count once: presence changes only on the first socket
opened and the last one closed. `Presence` counts this process's sockets;
`vibechat.live.redis_presence.RedisPresence` shares the count between processes.
Typing notices expire on their own after a few seconds and stay per process (a
notice lives five seconds; the frame that shows it goes through the broker).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict

TYPING_SECONDS = 5.0


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


class Typing:
    """Per chat, who typed in the last TYPING_SECONDS (their display names)."""

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._until: defaultdict[int, dict[int, tuple[float, str]]] = defaultdict(dict)

    def note(self, chat_id: int, user_id: int, name: str) -> bool:
        """Remember a notice; True when the list of typers changed."""
        typers = self._until[chat_id]
        is_new = user_id not in typers
        typers[user_id] = (self._clock() + TYPING_SECONDS, name)
        return is_new

    def stop(self, chat_id: int, user_id: int) -> bool:
        """Forget a typer (they sent their message); True when the list changed."""
        return self._until.get(chat_id, {}).pop(user_id, None) is not None

    def expire(self, chat_id: int) -> bool:
        """Drop typers whose notice is old; True when the list changed."""
        typers = self._until.get(chat_id, {})
        now = self._clock()
        stale = [user_id for user_id, (until, _) in typers.items() if until <= now]
        for user_id in stale:
            del typers[user_id]
        return bool(stale)

    def current(self, chat_id: int) -> list[tuple[int, str]]:
        typers = self._until.get(chat_id, {})
        return sorted(
            ((user_id, name) for user_id, (_, name) in typers.items()), key=lambda t: t[1]
        )
