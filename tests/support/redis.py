"""Redis for the tests: a server of the test's own on a free port (to stop and start at
will), a subscriber that keeps what it is given, and a started RedisBroker."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests.support.servers import free_port
from vibechat.live.redis_broker import RedisBroker

WITHIN = 1.0  # a frame from another process arrives within this (issue 6)
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


class RedisServer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                REDIS_SERVER,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None


class Inbox:
    """A subscriber that keeps what it is given."""

    def __init__(self) -> None:
        self.items: list[bytes] = []
        self.arrived = asyncio.Event()

    def __call__(self, data: bytes) -> None:
        self.items.append(data)
        self.arrived.set()

    async def next(self, within: float = WITHIN) -> bytes:
        await asyncio.wait_for(self.arrived.wait(), within)
        self.arrived.clear()
        return self.items[-1]


async def started(url: str, **kwargs) -> RedisBroker:
    broker = RedisBroker(url, **kwargs)
    await broker.start()
    return broker
