"""Work a live part does by itself, outside any request: a timer (presence batches,
typing expiry) or a loop (the session check, the shared-presence heartbeat)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager

Job = Callable[[], Awaitable[None]]


class Jobs:
    """One part's timers and loops. Each runs inside the app's context (a frame is
    rendered by the app's templates), stays referenced until it ends (asyncio keeps only
    a weak reference to a task), and is cancelled by close()."""

    def __init__(self, app_context: Callable[[], AbstractAsyncContextManager]) -> None:
        self._app_context = app_context
        self._timers: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task] = set()

    def later(self, delay: float, job: Job) -> None:
        """Run job() in delay seconds."""

        def due() -> None:
            self._timers.discard(timer)
            self.start(job)

        timer = asyncio.get_running_loop().call_later(delay, due)
        self._timers.add(timer)

    def start(self, job: Job) -> None:
        """Run job() now, beside whatever is running."""

        async def run() -> None:
            try:
                async with self._app_context():
                    await job()
            finally:
                self._tasks.discard(task)

        task = asyncio.ensure_future(run())
        self._tasks.add(task)

    async def close(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in tuple(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
