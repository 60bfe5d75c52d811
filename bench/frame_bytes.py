"""Bytes on the wire per live message frame, for each VIBECHAT_WS_COMPRESSION mode.

    .venv/bin/python -m bench.frame_bytes

Fifty messages of twelve everyday words are posted in one chat through the real app
(Quart's test client, a recording broker); their broadcast frames are then sized as
sent uncompressed (off), deflated one by one (per-message), and deflated in one
stream that keeps its context (on), as permessage-deflate would put them on the wire.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import zlib

from bench.load import TOKEN
from bench.population import PASSWORD
from tests.support.live import RecordingBroker
from vibechat import schema
from vibechat.app import create_app
from vibechat.config import load_settings
from vibechat.live.envelope import open_envelope

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "while",
    "we",
    "talk",
    "about",
    "lunch",
    "plans",
]
SYNC_TAIL = 4  # permessage-deflate strips the 00 00 ff ff that a sync flush ends with


def deflated(frames: list[bytes], keep_context: bool) -> int:
    total = 0
    stream = zlib.compressobj(-1, zlib.DEFLATED, -zlib.MAX_WBITS)
    for frame in frames:
        if not keep_context:
            stream = zlib.compressobj(-1, zlib.DEFLATED, -zlib.MAX_WBITS)
        total += len(stream.compress(frame) + stream.flush(zlib.Z_SYNC_FLUSH)) - SYNC_TAIL
    return total


async def message_frames(count: int) -> list[bytes]:
    folder = tempfile.mkdtemp(prefix="vibechat-frames-")
    url = f"sqlite+aiosqlite:///{folder}/frames.sqlite3"
    await schema.upgrade(url)
    settings = load_settings(
        overrides={
            "VIBECHAT_DATABASE_URL": url,
            "VIBECHAT_INSTANCE_PATH": folder,
            "VIBECHAT_SECRET_KEY": "frame bytes",
            "VIBECHAT_RATE_LIMITS": False,
        }
    )
    app = create_app(settings, testing=True, broker=RecordingBroker())
    async with app.test_app() as test_app:
        client = test_app.test_client()

        async def token(path: str) -> str:
            return TOKEN.search(await (await client.get(path)).get_data(as_text=True))[1]

        form = {"csrf_token": await token("/register"), "username": "alice", "password": PASSWORD}
        await client.post("/register", form=form)
        csrf = await token("/chats")
        created = await client.post("/chats", form={"csrf_token": csrf, "title": "Bytes"})
        chat = created.headers["Location"].rsplit("/", 1)[1]
        pick = random.Random(1)
        for _ in range(count):
            body = " ".join(pick.choice(WORDS) for _ in range(12))
            await client.post(f"/chats/{chat}/messages", form={"csrf_token": csrf, "body": body})
        published = app.extensions["live"].broker.published
    # English: a frame that reads differently in each language carries each (envelope).
    english = [open_envelope(data)[1] for _topic, data in published if b'id="msg-' in data]
    return [(frame if isinstance(frame, str) else frame[0]).encode() for frame in english]


def main() -> None:
    frames = asyncio.run(message_frames(50))
    count = len(frames)
    print(f"{count} message frames, bytes per frame on the wire:")
    print(f"  off          {sum(map(len, frames)) / count:6.0f}")
    print(f"  per-message  {deflated(frames, keep_context=False) / count:6.0f}")
    print(f"  on           {deflated(frames, keep_context=True) / count:6.0f}")


if __name__ == "__main__":
    main()
