"""Who is typing, per chat: the notices pages send, and the timers that expire them.

A notice lives TYPING_SECONDS; the page repeats it while the person types. Notices stay
per process (the frame that shows them goes through the broker). Whenever the list of
typers in a chat changes, `on_change(chat_id)` is awaited: the app passes the broadcast
(vibechat.live.events.typing_changed), so this module knows nothing of frames.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable

from vibechat.live.jobs import Jobs

TYPING_SECONDS = 5.0


class Typing:
    """Per chat, who typed in the last TYPING_SECONDS (their display names)."""

    def __init__(
        self, on_change: Callable[[int], Awaitable[None]], jobs: Jobs, clock=time.monotonic
    ) -> None:
        self._on_change = on_change
        self._jobs = jobs
        self._clock = clock
        self._until: defaultdict[int, dict[int, tuple[float, str]]] = defaultdict(dict)
        self._expiring: set[int] = set()  # chats with an expiry timer running

    async def note(self, chat_id: int, user_id: int, name: str) -> None:
        """A notice: this person is typing in this chat."""
        typers = self._until[chat_id]
        is_new = user_id not in typers
        typers[user_id] = (self._clock() + TYPING_SECONDS, name)
        if is_new:
            await self._on_change(chat_id)
            self._expire_later(chat_id)

    async def stop(self, chat_id: int, user_id: int) -> None:
        """Forget a typer (their message was posted)."""
        if self._until.get(chat_id, {}).pop(user_id, None) is not None:
            await self._on_change(chat_id)

    def current(self, chat_id: int) -> list[tuple[int, str]]:
        """(person, name) of everyone typing in the chat, by name."""
        typers = self._until.get(chat_id, {})
        return sorted(
            ((user_id, name) for user_id, (_, name) in typers.items()), key=lambda t: t[1]
        )

    def _expire_later(self, chat_id: int) -> None:
        """Look again once the notices have had time to expire."""
        if chat_id not in self._expiring:
            self._expiring.add(chat_id)
            self._jobs.later(TYPING_SECONDS + 0.1, lambda: self._expire(chat_id))

    async def _expire(self, chat_id: int) -> None:
        self._expiring.discard(chat_id)
        typers = self._until.get(chat_id, {})
        now = self._clock()
        stale = [user_id for user_id, (until, _) in typers.items() if until <= now]
        for user_id in stale:
            del typers[user_id]
        if not typers:
            self._until.pop(chat_id, None)
        if stale:
            await self._on_change(chat_id)
        if typers:
            self._expire_later(chat_id)

    async def close(self) -> None:
        await self._jobs.close()
