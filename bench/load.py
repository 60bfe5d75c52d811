"""The load generator's moving parts: crowds of sockets, posters, and what they count.

A post carries a unique marker in its text; every socket records the first time it
sees each marker (a delivery), and counts a second sighting in another frame as a
duplicate. Post-to-delivery latency is from just before the POST is sent to the
moment the frame is read. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field

import httpx

from bench import wsclient

MARKER = re.compile(r"\bbench(\d+)x\b")
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
CONNECTING_AT_ONCE = 64
QUIET_SECONDS = 1.0  # the crowd has settled when no frame arrived for this long
SETTLE_LIMIT = 120.0

Poster = Callable[[str], Awaitable[None]]  # posts one message whose text holds the marker


def marker(n: int) -> str:
    return f"bench{n}x"


@dataclass
class Listener:
    """Where one socket connects, and as whom."""

    path: str
    cookie: str = ""


@dataclass
class Tally:
    """Deliveries seen by a crowd."""

    expected: int = 0
    posted_at: dict[str, float] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    duplicated: int = 0
    failed_posts: int = 0  # posts the server refused or failed (their deliveries count lost)
    last_frame_at: float = 0.0
    last_delivery_at: float = 0.0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def reader(self) -> Callable[[str], None]:
        """The on_text callback for one socket."""
        seen: set[str] = set()

        def on_text(text: str) -> None:
            now = time.perf_counter()
            self.last_frame_at = now
            for found in set(MARKER.findall(text)):
                key = marker(int(found))
                if key in seen:
                    self.duplicated += 1
                    continue
                posted = self.posted_at.get(key)
                if posted is None:
                    continue  # not from this round
                seen.add(key)
                self.latencies.append(now - posted)
                self.last_delivery_at = now
                if len(self.latencies) == self.expected:
                    self.done.set()

        return on_text

    def figures(self, started: float) -> dict[str, float | int]:
        latencies = sorted(self.latencies)
        elapsed = (self.last_delivery_at or time.perf_counter()) - started
        return {
            "deliveries/s": len(latencies) / elapsed if latencies else 0.0,
            "p50 ms": percentile(latencies, 50) * 1000,
            "p95 ms": percentile(latencies, 95) * 1000,
            "p99 ms": percentile(latencies, 99) * 1000,
            "max ms": latencies[-1] * 1000 if latencies else float("nan"),
            "lost": self.expected - len(latencies),
            "duplicated": self.duplicated,
            "failed posts": self.failed_posts,
        }


def percentile(ordered: list[float], p: float) -> float:
    if not ordered:
        return float("nan")
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[int(p) - 1]


class Crowd:
    """Many sockets to one server, each feeding the same tally."""

    def __init__(self, host: str, port: int, tally: Tally, *, compress: bool) -> None:
        self.host, self.port = host, port
        self.origin = f"http://{host}:{port}"
        self.tally = tally
        self.compress = compress
        self.sockets: list[wsclient.Socket] = []
        self.refused = 0  # handshakes the server did not accept

    async def connect(self, listeners: list[Listener]) -> None:
        gate = asyncio.Semaphore(CONNECTING_AT_ONCE)

        async def one(listener: Listener) -> wsclient.Socket | None:
            async with gate:
                try:
                    return await wsclient.connect(
                        self.host,
                        self.port,
                        listener.path,
                        self.tally.reader(),
                        cookie=listener.cookie,
                        origin=self.origin,
                        compress=self.compress,
                    )
                except (wsclient.HandshakeRefused, OSError) as error:
                    self.refused += 1
                    print(f"socket refused: {error}", file=sys.stderr)
                    return None

        opened = await asyncio.gather(*(one(listener) for listener in listeners))
        self.sockets += [sock for sock in opened if sock is not None]

    async def settle(self) -> None:
        """Wait until frames stop arriving (presence announcements of the crowd itself)."""
        deadline = time.perf_counter() + SETTLE_LIMIT
        self.tally.last_frame_at = time.perf_counter()
        while time.perf_counter() < deadline:
            quiet_for = time.perf_counter() - self.tally.last_frame_at
            if quiet_for >= QUIET_SECONDS:
                return
            await asyncio.sleep(QUIET_SECONDS - quiet_for)

    @property
    def closed(self) -> int:
        """Sockets the server has closed (a slow consumer would be one)."""
        return sum(1 for sock in self.sockets if sock.closed.done())

    @property
    def compressed(self) -> bool:
        return bool(self.sockets) and all(sock.compressed for sock in self.sockets)

    async def close(self) -> None:
        for sock in self.sockets:
            sock.close()
        if self.sockets:
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(sock.closed for sock in self.sockets)), 10)


async def post_one(tally: Tally, poster: Poster, key: str) -> None:
    tally.posted_at[key] = time.perf_counter()
    try:
        await poster(key)
    except (RuntimeError, httpx.HTTPError) as error:
        tally.failed_posts += 1
        print(f"post failed: {error}"[:300], file=sys.stderr)


async def post_all(tally: Tally, posters: list[Poster], posts: int) -> float:
    """Each poster posts its share one after another, all posters at once."""
    started = time.perf_counter()

    async def run(poster: Poster, numbers: range) -> None:
        for n in numbers:
            await post_one(tally, poster, marker(n))

    await asyncio.gather(
        *(run(poster, range(i, posts, len(posters))) for i, poster in enumerate(posters))
    )
    return started


async def post_at_rate(tally: Tally, posters: list[Poster], rate: float, seconds: float) -> float:
    """One post every 1/rate seconds, round-robin over the posters, for `seconds`."""
    started = time.perf_counter()
    tasks = []
    for n in range(int(rate * seconds)):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(post_one(tally, posters[n % len(posters)], marker(n))))
    await asyncio.gather(*tasks)
    return started


async def wait_for(tally: Tally, seconds: float) -> None:
    with suppress(TimeoutError):
        await asyncio.wait_for(tally.done.wait(), seconds)


async def timed_requests(
    workers: list[Callable[[], Awaitable[None]]], seconds: float
) -> dict[str, float]:
    """Each worker makes one request after another for `seconds`, all at once."""
    latencies: list[float] = []
    started = time.perf_counter()
    stop = started + seconds

    async def loop(request: Callable[[], Awaitable[None]]) -> None:
        while time.perf_counter() < stop:
            before = time.perf_counter()
            await request()
            latencies.append(time.perf_counter() - before)

    await asyncio.gather(*(loop(request) for request in workers))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests/s": len(latencies) / elapsed,
        "p50 ms": percentile(latencies, 50) * 1000,
        "p99 ms": percentile(latencies, 99) * 1000,
    }


async def csrf_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/chats")
    page.raise_for_status()
    return TOKEN.search(page.text)[1]


def expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered"
            f" {response.status_code}, not {status}: {response.text[:200]}"
        )
