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
from vibechat.commands.seed import WATERCOOLER as SEEDED

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
WATERCOOLER = 1  # the first chat `vibechat seed` creates
# What a lively chat says (SPEC §10): formatting, a mention of alice (who the tools
# sign in as), code, a long link; every seventh message replies to the one two before
# it, and every fifth gets reactions.
LINES = (
    "Has anyone tried the new build on a **slow phone**? It loads in a blink here.",
    "Yes, and with JavaScript off the forms still work: reload to see replies.",
    "@alice the screen reader reads new messages once and leaves the history alone.",
    "Long links wrap: https://example.org/a/very/long/path/that/keeps/going/on",
    "Run `make test` before you push, *please*.",
)
REACTIONS = ("👍", "❤️", "😂")


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
        chat = f"/chats/{WATERCOOLER}"
        for n in range(messages):
            seq = len(SEEDED) + n + 1
            client, token = authors[n % len(authors)]
            form = {"csrf_token": token, "body": f"{LINES[n % len(LINES)]} ({n + 1})"}
            if n % 7 == 6:
                form["reply_to"] = str(seq - 2)
            answered(client.post(f"{chat}/messages", data=form), "a message")
            if n % 5 == 4:  # one, two or three people react
                reactors = list(zip(authors, REACTIONS, strict=True))[: 1 + n % 3]
                for (other, other_token), emoji in reactors:
                    form = {"csrf_token": other_token, "emoji": emoji}
                    reacted = other.post(f"{chat}/messages/{seq}/reactions", data=form)
                    answered(reacted, "a reaction")
        for client, _ in people.values():
            client.close()
        yield server


def answered(response: httpx.Response, what: str) -> None:
    if response.status_code != 303:
        raise RuntimeError(f"seeding {what} failed: {response.status_code}")


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
