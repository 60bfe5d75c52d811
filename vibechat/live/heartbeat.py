"""Proof of life on every socket, both ways, for networks that fail without a word.

A network that drops packets instead of closing connections (a phone between cells, a
NAT that forgot the flow, a stalled proxy) leaves a socket open at both ends, and TCP
says nothing for many minutes: the page would say "Live" and its person would show as
online for as long. So every VIBECHAT_WS_HEARTBEAT seconds each socket with nothing
queued gets an empty frame (HEARTBEAT), the same for every reader. The page takes any
frame as proof that its socket still carries traffic and answers with an empty frame
of its own (at most every half heartbeat; static/app.js). A page that hears nothing
for two heartbeats drops its socket and reconnects; a socket the page has been silent
on for SILENT_AFTER heartbeats is closed here with 4408, so presence drops the person.

hypercorn's `websocket_ping_interval` cannot do this: it sends pings but never notices
a missing pong, and a page's script never sees a ping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from vibechat.live.hub import SILENT, Live

if TYPE_CHECKING:  # socket.py imports HEARTBEAT from here
    from vibechat.live.socket import Connection

HEARTBEAT = ""  # the frame: nothing to swap in, a few bytes on the wire
SILENT_AFTER = 3  # heartbeats without a frame from the page before it counts as gone


# Sockets per step. All 10,000 of `make bench`'s idle scenario in one step stalled the
# event loop for over a second every heartbeat (their writers all woke at once).
BATCH = 100


def beat(connections: Iterable[Connection], every: float, now: float) -> None:
    """Close the sockets whose page has gone silent; send the others a heartbeat.
    `now` is time.monotonic()'s, as Connection.heard_at is."""
    for connection in connections:
        if now - connection.heard_at > SILENT_AFTER * every:
            connection.close(SILENT)
        else:
            connection.beat()


async def beat_regularly(live: Live, every: float) -> None:
    """For ever (a job of the app): beat() every `every` seconds, BATCH sockets at a
    time, letting the writers woken by each step run before the next."""
    while True:
        await asyncio.sleep(every)
        now = time.monotonic()
        connections = tuple(live.connections)
        for start in range(0, len(connections), BATCH):
            beat(connections[start : start + BATCH], every, now)
            await asyncio.sleep(0)
