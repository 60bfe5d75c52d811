"""People of a real server (a hypercorn process, tests/support/servers.py): an HTTP
client signed up through the form, plus what a socket needs to pass as them.

The server is shared by a module's tests, so usernames are unique().
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid

import httpx
from websockets.asyncio.client import connect

from tests.support.people import PASSWORD

RECEIVE_TIMEOUT = 5.0  # a frame from a real server arrives within this


def unique(name: str) -> str:
    """A username no other test on the same server has."""
    return f"{name}_{uuid.uuid4().hex[:8]}"


class RemotePerson:
    """An HTTP client signed in as someone, plus what a socket needs to pass as them."""

    def __init__(self, base: str, username: str) -> None:
        self.base = base
        self.username = username
        # httpx's 5 s is short for a server's first answers while make test keeps the
        # machine busy; a request that should be answered still fails the test by then.
        self.http = httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30)
        self.token = ""

    async def register(self) -> RemotePerson:
        page = await self.http.get("/register")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        response = await self.http.post(
            "/register",
            data={"csrf_token": token, "username": self.username, "password": PASSWORD},
        )
        assert response.status_code == 303, response.text
        chats = await self.http.get("/chats")
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', chats.text).group(1)
        return self

    def cookie_header(self) -> str:
        return "; ".join(f"{name}={value}" for name, value in self.http.cookies.items())

    async def post(self, path: str, data: dict) -> httpx.Response:
        return await self.http.post(path, data={"csrf_token": self.token, **data})

    def socket(self, **options):
        ws_url = self.base.replace("http://", "ws://") + "/ws"
        return connect(
            ws_url,
            origin=self.base,
            additional_headers={"Cookie": self.cookie_header()},
            **options,
        )

    async def close(self) -> None:
        await self.http.aclose()


async def receive_until(ws, pattern: str, within: float = RECEIVE_TIMEOUT) -> str:
    """Frames until one matches; fails after `within` seconds."""
    deadline = time.monotonic() + within
    while True:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no frame matching {pattern!r} within {within} s"
        frame = await asyncio.wait_for(ws.recv(), remaining)
        if re.search(pattern, frame):
            return frame


async def new_chat(owner: RemotePerson, *members: RemotePerson) -> int:
    response = await owner.post(
        "/chats", {"title": "Delivery", "members": " ".join(m.username for m in members)}
    )
    assert response.status_code == 303
    return int(response.headers["Location"].rsplit("/", 1)[1])
