"""What the benchmark reads from inside a server: event-loop stalls and memory.

`install(app)` adds a task that sleeps a few milliseconds in a loop and records how
late it wakes up (the longest stall of the event loop), and a route,
GET /_bench/probe, that answers {"max_stall_ms", "max_gc_ms", "rss_bytes",
"message_renders"} (renders of the message partial so far) and starts a
new window for both maxima. The benchmark wraps the real app and the reference server the same way
(bench/served.py, bench/reference.py); the product never carries it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from pathlib import Path

from quart import Quart
from quart.signals import template_rendered

TICK = 0.005  # seconds between wake-ups: shorter stalls than this are not seen


class StallMonitor:
    def __init__(self) -> None:
        self.max_stall = 0.0
        self.max_gc_pause = 0.0  # the longest garbage collection: one cause of stalls
        self._gc_started = 0.0
        self._task: asyncio.Task | None = None

    def _time_gc(self, phase: str, _info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.max_gc_pause = max(self.max_gc_pause, time.perf_counter() - self._gc_started)

    async def _watch(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            late = time.perf_counter() - before - TICK
            self.max_stall = max(self.max_stall, late)

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._watch())
        gc.callbacks.append(self._time_gc)

    async def stop(self) -> None:
        gc.callbacks.remove(self._time_gc)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def take(self) -> tuple[float, float]:
        """The longest stall and garbage collection since the last take, in seconds."""
        figures = self.max_stall, self.max_gc_pause
        self.max_stall = self.max_gc_pause = 0.0
        return figures


def rss_bytes() -> int:
    """This process's resident memory, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


# The message partial: every rendering of it that the message cache did not spare (a
# live frame renders it once per language its page may speak).
MESSAGE_PARTIAL = "messages/_message.html"


def install(app: Quart) -> None:
    monitor = StallMonitor()
    renders = {"message": 0}

    def count_render(_sender, template, **_context) -> None:
        if template.name == MESSAGE_PARTIAL:
            renders["message"] += 1

    template_rendered.connect(count_render, app, weak=False)

    @app.before_serving
    async def start_monitor() -> None:
        monitor.start()

    @app.after_serving
    async def stop_monitor() -> None:
        await monitor.stop()

    @app.get("/_bench/probe")
    async def probe():
        stall, gc_pause = monitor.take()
        return {
            "max_stall_ms": stall * 1000,
            "max_gc_ms": gc_pause * 1000,
            "rss_bytes": rss_bytes(),
            "message_renders": renders["message"],  # so far, in all
        }
