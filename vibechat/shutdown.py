"""Graceful shutdown: the moment hypercorn starts to stop a worker, tell the app.

On SIGTERM, hypercorn's main process sets a shared event that every worker polls
(hypercorn.utils.check_multiprocess_shutdown_event, every 0.1 s). The worker then stops
accepting, waits up to graceful_timeout for its open connections to finish, and only
then runs the ASGI lifespan shutdown, the first thing an app hears of it. An open
WebSocket never finishes by itself, so every deploy would wait out the whole timeout,
and a socket still open at the end was dropped without a close frame (no "reconnect"
for the page, and one test run in ten failed on it).

So `install()` wraps that one function of the pinned hypercorn (0.18) where the worker
looks it up: when the event fires, the hooks run (the live channel closes every socket
with 1012, "service restart"), and hypercorn goes on as before: it closes the listening
sockets and gives in-flight requests graceful_timeout (VIBECHAT_GRACEFUL_TIMEOUT) to
finish. hypercorn offers no setting for this; a worker run with `--workers 0` (in the
main process) has no such event, and there the lifespan shutdown closes the sockets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

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


def install() -> None:
    """Make hypercorn's worker call stopping() when its shutdown event fires (once)."""
    from hypercorn.asyncio import run

    original = run.check_multiprocess_shutdown_event
    if getattr(original, "tells_vibechat", False):
        return

    async def shutdown_trigger(shutdown_event, sleep) -> None:
        await original(shutdown_event, sleep)
        stopping()

    shutdown_trigger.tells_vibechat = True
    run.check_multiprocess_shutdown_event = shutdown_trigger
