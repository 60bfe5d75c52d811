"""CPU time per post and per chat page, measured in one process: a figure that holds
still on a busy machine.

    .venv/bin/python -m bench.cpu_cost [--posts N]

`make bench` measures throughput over real sockets, which moves by ±20% between runs on
a shared 2-core machine. This measures what a request costs instead: the process's own
CPU time (time.process_time, which other processes do not add to) while Quart's test
client posts N messages one at a time to a group chat on SQLite, then opens the chat
page (50 messages) N/4 times. No socket, no hypercorn: the app's own work, from the
request object to the response (routing, session, CSRF, queries, rendering, publishing
to the in-process broker). Run it on two checkouts alternately to compare them.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
import uuid
from pathlib import Path

from vibechat import schema
from vibechat.app import create_app
from vibechat.config import database_url, load_settings

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SAME_ORIGIN = {"Origin": "http://localhost"}
WARM_UP = 50  # posts before the clock starts: templates compiled, caches filled


async def measure(folder: Path, posts: int) -> dict[str, float]:
    settings = load_settings(
        {},
        {
            "VIBECHAT_DATABASE_URL": f"sqlite+aiosqlite:///{folder / 'bench.sqlite'}",
            "VIBECHAT_INSTANCE_PATH": str(folder),
            "VIBECHAT_SECRET_KEY": "cpu-cost-" + "x" * 32,
            "VIBECHAT_RATE_LIMITS": "off",
        },
    )
    await schema.upgrade(database_url(settings))
    app = create_app(settings)
    async with app.test_app() as test_app:
        client = test_app.test_client()

        async def form_token(path: str) -> str:
            return TOKEN.search(await (await client.get(path)).get_data(as_text=True))[1]

        async def post(path: str, form: dict, token: str) -> str:
            form = {"csrf_token": token, **form}
            response = await client.post(path, form=form, headers=SAME_ORIGIN)
            assert response.status_code == 303, (path, response.status_code)
            return response.headers["Location"]

        token = await form_token("/register")
        await post("/register", {"username": "cpu", "password": "correct horse battery"}, token)
        token = await form_token("/chats")
        chat = (await post("/chats", {"title": "Busy", "members": ""}, token)).split("#")[0]

        async def send(i: int) -> None:
            body = f"message {i} " + "lorem ipsum " * 8
            await post(f"{chat}/messages", {"body": body, "client_token": uuid.uuid4().hex}, token)

        for i in range(WARM_UP):
            await send(i)
        started = time.process_time()
        for i in range(posts):
            await send(i)
        per_post = (time.process_time() - started) / posts
        pages = max(1, posts // 4)
        started = time.process_time()
        for _ in range(pages):
            response = await client.get(chat)
            assert response.status_code == 200
        per_page = (time.process_time() - started) / pages
    return {"CPU ms per post": per_post * 1000, "CPU ms per chat page": per_page * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=400)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        figures = asyncio.run(measure(Path(folder), arguments.posts))
    for name, value in figures.items():
        print(f"{name}: {value:.2f}")


if __name__ == "__main__":
    main()
