"""The /ws endpoint: one socket per tab, authorised before it is accepted.

The handler subscribes the socket to its person's topic and to each of their chats,
then runs three things side by side: a sender that drains the connection's bounded
queue onto the socket, a receiver for the small JSON the page sends (typing), and a
watch for overflow. A client that cannot keep up overflows its queue and is closed
with 1013 (try again later); the page reconnects and catches up from the database.
Nobody else waits for it, because publishing only ever puts bytes on queues.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from quart import Blueprint, abort, current_app, g, websocket

from vibechat import queries
from vibechat.live import events
from vibechat.live.frames import chat_topic, open_envelope, user_topic
from vibechat.security import is_same_origin

bp = Blueprint("live", __name__)
log = logging.getLogger(__name__)

SLOW_CLIENT = 1013  # "Try Again Later": htmx's ws extension reconnects on it
MAX_CLIENT_FRAME = 1024  # the page only ever sends small JSON


class Connection:
    """One open socket: what it is subscribed to, and its outgoing queue."""

    def __init__(self, live, user, chat_ids: set[int], queue_size: int) -> None:
        self.live = live
        self.user = user
        self.chat_ids = set(chat_ids)
        self.queue: asyncio.Queue[bytes] = asyncio.Queue(queue_size)
        self.overflowed = asyncio.Event()

    def deliver(self, data: bytes) -> None:
        """The broker's callback: never blocks, never raises."""
        if self.overflowed.is_set():
            return
        try:
            self.queue.put_nowait(data)
        except asyncio.QueueFull:
            self.overflowed.set()

    def subscribe_all(self) -> None:
        self.live.broker.subscribe(user_topic(self.user.id), self.deliver)
        for chat_id in self.chat_ids:
            self.live.broker.subscribe(chat_topic(chat_id), self.deliver)

    def unsubscribe_all(self) -> None:
        self.live.broker.unsubscribe(user_topic(self.user.id), self.deliver)
        for chat_id in self.chat_ids:
            self.live.broker.unsubscribe(chat_topic(chat_id), self.deliver)

    def join(self, chat_id: int) -> None:
        if chat_id not in self.chat_ids:
            self.chat_ids.add(chat_id)
            self.live.broker.subscribe(chat_topic(chat_id), self.deliver)

    def leave(self, chat_id: int) -> None:
        if chat_id in self.chat_ids:
            self.chat_ids.discard(chat_id)
            self.live.broker.unsubscribe(chat_topic(chat_id), self.deliver)

    async def send_frames(self) -> None:
        while True:
            data = await self.queue.get()
            control, frame = open_envelope(data)
            if "join" in control:
                self.join(control["join"])
            if "leave" in control:
                self.leave(control["leave"])
            if frame:
                await websocket.send(frame)

    async def receive_notices(self) -> None:
        while True:
            raw = await websocket.receive()
            if len(raw) > MAX_CLIENT_FRAME:
                continue
            try:
                notice = json.loads(raw)
            except ValueError:
                continue
            if isinstance(notice, dict):
                await self.handle(notice)

    async def handle(self, notice: dict) -> None:
        """{"typing": <chat id>}: this person is typing in one of their chats."""
        chat_id = notice.get("typing")
        if isinstance(chat_id, int) and chat_id in self.chat_ids:
            typing = self.live.typing
            if typing.note(chat_id, self.user.id, self.user.display_name):
                await events.typing_changed(chat_id)
                self.live.expire_typing_later(chat_id)

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self.send_frames()),
            asyncio.create_task(self.receive_notices()),
            asyncio.create_task(self.overflowed.wait()),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.overflowed.is_set():
            log.info("closing a socket that fell behind (user %s)", self.user.id)
            # The transport may be stuck as well: do not wait on it for long.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(websocket.close(SLOW_CLIENT, "too slow"), 2)
            return
        for task in done:
            task.result()  # re-raise what ended a loop


@bp.websocket("/ws")
async def socket():
    """The live channel. Refused before accept when signed out or from another site."""
    if g.user is None:
        abort(403)
    if websocket.headers.get("Origin") is None or not is_same_origin(websocket):
        abort(403)
    live = current_app.extensions["live"]
    # A short read, closed before we start waiting: no session is held while the
    # socket is open.
    async with current_app.extensions["db"].read() as session:
        chat_ids = set(await queries.chat_ids_of(session, g.user.id))
    connection = Connection(live, g.user, chat_ids, current_app.config["VIBECHAT_WS_QUEUE"])
    # Subscribe before accepting: anything committed after the page's catch-up
    # request starts is then certain to arrive live.
    connection.subscribe_all()
    counted = False
    try:
        await websocket.accept()
        counted = True
        if live.presence.connect(g.user.id):
            await events.presence_changed(g.user.id, connection.chat_ids, online=True)
        await connection.run()
    finally:
        connection.unsubscribe_all()
        if counted and live.presence.disconnect(g.user.id):
            await events.presence_changed(g.user.id, connection.chat_ids, online=False)
