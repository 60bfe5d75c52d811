"""Graceful shutdown, whichever process the signal reaches: the moment hypercorn starts
to stop a worker, tell the app.

How hypercorn 0.18 stops (hypercorn/run.py, asyncio/run.py, utils.py): its main process
handles SIGTERM and SIGINT by setting a shared event that every worker polls
(utils.check_multiprocess_shutdown_event, every 0.1 s). Before starting the workers it
ignores SIGINT, so they inherit "ignore" and Ctrl+C (SIGINT to the whole process group)
reaches the main process alone. It does nothing of the kind for SIGTERM, and a worker
given a shutdown event installs no signal handler of its own, so a worker keeps the
default: SIGTERM kills it at once. That is what happens when SIGTERM goes to the whole
process group (Procfile platforms, foreman and honcho, systemd's default
KillMode=control-group): open sockets got no close frame and requests in flight were cut.

Once the event is set, a worker stops accepting, waits up to graceful_timeout for its
open connections to finish, and only then runs the ASGI lifespan shutdown, the first
thing an app hears of it. An open WebSocket never finishes by itself, so every deploy
would wait out the whole timeout, and a socket still open at the end was dropped
without a close frame (no "reconnect" for the page).

So `install()` wraps that one function of the pinned hypercorn where the worker looks it
up (it is the worker's shutdown trigger, and runs inside the worker's event loop):

- the wrapped trigger also makes the worker's own SIGTERM a stop request, as if the
  event had been set (loop.add_signal_handler, so only a serving hypercorn worker ever
  changes its signal handling; the CLI, the main process and a test client keep theirs);
- whichever comes first, the hooks run (the live channel closes every socket with 1012,
  "service restart"), and hypercorn goes on as before: it closes the listening sockets
  and gives in-flight requests graceful_timeout (VIBECHAT_GRACEFUL_TIMEOUT) to finish.

SIGTERM to the group then reaches both: the main process sets the event (and will not
start new workers), and each worker is already stopping on its own SIGTERM; a second
SIGTERM changes nothing. Ignoring SIGTERM in the workers, as hypercorn does SIGINT,
would have been shorter, but a worker sent SIGTERM alone (`kill <worker pid>`), or left
behind by a main process that was SIGKILLed, would then never stop; here it stops
gracefully (and a main process still running starts a new one in its place). hypercorn offers no
setting for any of this. A worker run with `--workers 0` (in the main process) has no
such event: hypercorn handles both signals there itself, and the lifespan shutdown
closes the sockets. A SIGTERM that arrives while a worker is still starting (before it
serves) still ends it at once: it holds no connection yet.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable

from hypercorn.asyncio import run as hypercorn_worker

log = logging.getLogger(__name__)

_hooks: list[Callable[[], None]] = []


def on_stopping(hook: Callable[[], None]) -> None:
    """Call hook() (synchronous, quick) as soon as this worker is told to stop."""
    _hooks.append(hook)


def forget(hook: Callable[[], None]) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


def stopping() -> None:
    """Run every hook once; one that fails does not keep the others from running."""
    log.info("stopping: closing live sockets, finishing requests in flight")
    for hook in tuple(_hooks):
        try:
            hook()
        except Exception:
            log.exception("a shutdown hook failed")


async def _first_of(*waits) -> None:
    """Return when the first of these coroutines does; cancel the others."""
    tasks = [asyncio.ensure_future(wait) for wait in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


def install() -> None:
    """Make hypercorn's worker stop on its own SIGTERM as on the main process's event,
    and call stopping() when either comes (installed once)."""
    original = hypercorn_worker.check_multiprocess_shutdown_event
    if getattr(original, "tells_vibechat", False):
        return

    async def shutdown_trigger(shutdown_event, sleep) -> None:
        sigterm = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, sigterm.set)
        await _first_of(original(shutdown_event, sleep), sigterm.wait())
        stopping()

    shutdown_trigger.tells_vibechat = True
    hypercorn_worker.check_multiprocess_shutdown_event = shutdown_trigger
