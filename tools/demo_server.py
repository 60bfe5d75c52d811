"""A seeded vibechat server and signed-in HTTP sessions, for the audit tools.

Runs the real app (hypercorn, migrated SQLite in a temporary folder) with the demo
people from `vibechat seed`, plus enough messages for a full chat page.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.support.servers import PROJECT_ROOT, RestartableServer, restartable_server
from vibechat.commands.seed import DEMO_PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WATERCOOLER = 1  # the first chat `vibechat seed` creates
LINES = (
    "Has anyone tried the new build on a slow phone? It loads in a blink here.",
    "Yes, and with JavaScript off the forms still work: reload to see replies.",
    "The screen reader reads new messages once and leaves the history alone.",
    "Long links wrap: https://example.org/a/very/long/path/that/keeps/going/on",
)


@contextlib.contextmanager
def demo_server(messages: int = 50) -> Iterator[RestartableServer]:
    """Serve a fresh demo database whose Watercooler chat holds `messages` more messages."""
    with (
        tempfile.TemporaryDirectory(prefix="vibechat-demo-") as folder,
        restartable_server(Path(folder)) as server,
    ):
        subprocess.run(
            [sys.executable, "-m", "vibechat.commands.cli", "seed"],
            cwd=PROJECT_ROOT,
            env=server.env,
            check=True,
            capture_output=True,
        )
        people = {name: sign_in(server.url, name) for name in ("alice", "bob", "carol")}
        authors = list(people.values())
        for n in range(messages):
            client, token = authors[n % len(authors)]
            response = client.post(
                f"/chats/{WATERCOOLER}/messages",
                data={"csrf_token": token, "body": f"{LINES[n % len(LINES)]} ({n + 1})"},
            )
            if response.status_code != 303:
                raise RuntimeError(f"seeding a message failed: {response.status_code}")
        for client, _ in people.values():
            client.close()
        yield server


def sign_in(base_url: str, username: str) -> tuple[httpx.Client, str]:
    """An HTTP session signed in as a demo person, and its CSRF token."""
    client = httpx.Client(base_url=base_url, follow_redirects=False)
    token = CSRF.search(client.get("/login").text).group(1)
    response = client.post(
        "/login", data={"csrf_token": token, "username": username, "password": DEMO_PASSWORD}
    )
    if response.status_code != 303:
        raise RuntimeError(f"could not sign in as {username}: {response.status_code}")
    return client, CSRF.search(client.get("/chats").text).group(1)


def cookie_header(client: httpx.Client) -> str:
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())
