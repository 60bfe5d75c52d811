"""What the benchmark reads from inside a server: event-loop stalls and memory.

`install(app)` adds a task that sleeps a few milliseconds in a loop and records how
late it wakes up (the longest stall of the event loop), and a route,
GET /_bench/probe, that answers {"max_stall_ms", "rss_bytes"} and starts a new stall
window. The benchmark wraps the real app and the reference server the same way
(bench/served.py, bench/reference.py); the product never carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from quart import Quart

TICK = 0.005  # seconds between wake-ups: shorter stalls than this are not seen


class StallMonitor:
    def __init__(self) -> None:
        self.max_stall = 0.0
        self._task: asyncio.Task | None = None

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            late = time.perf_counter() - before - TICK
            self.max_stall = max(self.max_stall, late)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def take(self) -> float:
        """The longest stall since the last take, in seconds."""
        stall, self.max_stall = self.max_stall, 0.0
        return stall


def rss_bytes() -> int:
    """This process's resident memory, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def install(app: Quart) -> None:
    monitor = StallMonitor()

    @app.before_serving
    async def start_monitor() -> None:
        monitor.start()

    @app.after_serving
    async def stop_monitor() -> None:
        await monitor.stop()

    @app.get("/_bench/probe")
    async def probe():
        return {"max_stall_ms": monitor.take() * 1000, "rss_bytes": rss_bytes()}
