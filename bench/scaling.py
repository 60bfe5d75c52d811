"""Live delivery with one hypercorn process, then two behind one Redis: figures, not tests.

    .venv/bin/python -m bench.scaling [--receivers 100] [--posts 200]

For each setup: a Redis server of the benchmark's own, hypercorn process(es) on
127.0.0.1 sharing one SQLite file, one chat with RECEIVERS members whose sockets are
spread over the processes, and one sender posting POSTS messages through process A,
one after the other, as fast as the route answers. Printed: deliveries per second,
post-to-delivery latency (p50, p99, max), lost and duplicated deliveries. Bounded in
count and time; everything it starts, it stops.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import tempfile
import time
from contextlib import ExitStack, suppress
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from tests.support.redis import RedisServer
from tests.support.servers import restartable_server

PASSWORD = "benchmark passphrase"
MESSAGE_ID = re.compile(r'id="msg-\d+-(\d+)"')
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
DEADLINE = 60.0  # seconds for all deliveries of one run


async def sign_up(base: str, username: str) -> tuple[httpx.AsyncClient, str]:
    client = httpx.AsyncClient(base_url=base, timeout=60)
    page = await client.get("/register")
    form = {"csrf_token": TOKEN.search(page.text)[1], "username": username, "password": PASSWORD}
    answer = await client.post("/register", data=form)
    assert answer.status_code == 303, answer.text[:300]
    chats = await client.get("/chats")
    return client, TOKEN.search(chats.text)[1]


async def run(bases: list[str], receivers: int, posts: int) -> dict:
    sender, token = await sign_up(bases[0], "sender")
    signing_up = asyncio.Semaphore(4)  # Argon2 hashing is the slow part

    async def receiver(n: int) -> tuple[httpx.AsyncClient, str]:
        async with signing_up:
            return await sign_up(bases[0], f"reader{n}")

    people = await asyncio.gather(*(receiver(n) for n in range(receivers)))
    answer = await sender.post("/chats", data={"csrf_token": token, "title": "Bench"})
    chat = int(answer.headers["Location"].rsplit("/", 1)[1])
    names = [f"reader{n}" for n in range(receivers)]
    for start in range(0, receivers, 100):  # at most 100 people per add
        members = " ".join(names[start : start + 100])
        form = {"csrf_token": token, "members": members}
        await sender.post(f"/chats/{chat}/members", data=form)

    posted_at: dict[int, float] = {}
    latencies: list[float] = []
    seen: list[set[int]] = [set() for _ in people]
    duplicated = 0
    done = asyncio.Event()
    expected = receivers * posts

    async def listen(index: int, client: httpx.AsyncClient, base: str) -> None:
        nonlocal duplicated
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        url = base.replace("http://", "ws://") + "/ws"
        async with connect(url, origin=base, additional_headers={"Cookie": cookie}) as ws:
            connected.append(index)
            if len(connected) == receivers:
                ready.set()
            async for frame in ws:
                now = time.perf_counter()
                for seq in map(int, MESSAGE_ID.findall(frame)):
                    if seq in seen[index]:
                        duplicated += 1
                        continue
                    seen[index].add(seq)
                    latencies.append(now - posted_at[seq])
                    if len(latencies) == expected:
                        done.set()

    ready = asyncio.Event()
    connected: list[int] = []
    listeners = [
        asyncio.create_task(listen(n, client, bases[n % len(bases)]))
        for n, (client, _token) in enumerate(people)
    ]
    await ready.wait()
    await asyncio.sleep(1.0)  # every socket accepted and subscribed
    started = time.perf_counter()
    for seq in range(1, posts + 1):
        posted_at[seq] = time.perf_counter()
        form = {"csrf_token": token, "body": f"message {seq}"}
        answer = await sender.post(f"/chats/{chat}/messages", data=form)
        assert answer.status_code == 303
    with suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), DEADLINE)
    elapsed = time.perf_counter() - started
    for task in listeners:
        task.cancel()
    await asyncio.gather(*listeners, return_exceptions=True)
    for client, _token in [(sender, token), *people]:
        await client.aclose()
    latencies.sort()
    return {
        "deliveries/s": len(latencies) / elapsed,
        "p50 ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99 ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "max ms": latencies[-1] * 1000 if latencies else float("nan"),
        "lost": expected - len(latencies),
        "duplicated": duplicated,
    }


def measure(processes: int, receivers: int, posts: int) -> dict:
    with tempfile.TemporaryDirectory() as folder, ExitStack() as stack:
        root = Path(folder)
        redis = RedisServer(root)
        redis.start()
        stack.callback(redis.stop)
        database = f"sqlite+aiosqlite:///{root / 'shared.sqlite3'}"
        settings = {"VIBECHAT_REDIS_URL": redis.url, "VIBECHAT_DATABASE_URL": database}
        bases = []
        for n in range(processes):
            server = stack.enter_context(restartable_server(root / f"p{n}", settings=settings))
            bases.append(server.url)
        return asyncio.run(run(bases, receivers, posts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--receivers", type=int, default=100)
    parser.add_argument("--posts", type=int, default=200)
    args = parser.parse_args()
    rows = [(n, measure(n, args.receivers, args.posts)) for n in (1, 2)]
    columns = list(rows[0][1])
    print(f"\n{args.receivers} receivers, {args.posts} posts, one sender through process A")
    print("| processes | " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for processes, figures in rows:
        shown = [
            f"{value:.0f}" if isinstance(value, float) else str(value) for value in figures.values()
        ]
        print(f"| {processes} | " + " | ".join(shown) + " |")


if __name__ == "__main__":
    main()
