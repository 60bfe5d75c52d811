"""The /ws endpoint: one socket per tab, authorised before it is accepted.

The handler subscribes the socket to its person's topic and to each of their chats,
then runs three things side by side: a sender that drains the connection's bounded
queue onto the socket, a receiver for the small JSON the page sends (typing notices
and read marks), and a watch for the end. A client that cannot keep up overflows its
queue and is closed with 1013 (try again later); the page reconnects and catches up
from the database. Nobody else waits for it, because publishing only ever puts frames
on queues. A socket whose session logs out or runs out is closed with 1008. Frames
from the page beyond VIBECHAT_LIMIT_SOCKET_FRAMES (typing and read notices alike), or
larger than MAX_CLIENT_FRAME, are ignored; hypercorn closes the socket (1009) on
anything over its websocket_max_message_size. Every socket gets a heartbeat and must
answer it (vibechat.live.heartbeat): a page silent for three is closed with 4408.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from datetime import datetime

from quart import Blueprint, abort, current_app, g, websocket

from vibechat import i18n, metrics, queries, read_marks
from vibechat.live.envelope import chat_topic, open_envelope, user_topic
from vibechat.live.heartbeat import HEARTBEAT
from vibechat.live.hub import RECONNECT, SESSION_ENDED, TOO_MANY_SOCKETS
from vibechat.live.read_notices import ReadNotices
from vibechat.models import MAX_ID, utcnow
from vibechat.rate_limits import rate_limits
from vibechat.security import is_same_origin
from vibechat.web import db, settings

bp = Blueprint("live", __name__)
log = logging.getLogger(__name__)

SLOW_CLIENT = 1013  # "Try Again Later": htmx's ws extension reconnects on it
MAX_CLIENT_FRAME = 1024  # the page only ever sends small JSON
MAX_JOINED_FRAMES = 32  # frames sent as one message when a socket has a backlog
_connection_ids = itertools.count(1)


class Connection:
    """One open socket: what it is subscribed to, and its outgoing queue."""

    def __init__(
        self,
        live,
        user,
        session_hash: str,
        session_expires_at: datetime,
        queue_size: int,
    ):
        self.live = live
        self.user = user
        self.session_hash = session_hash
        self.session_expires_at = session_expires_at
        self.key = str(next(_connection_ids))  # for the per-connection frame limit
        self.chat_ids: set[int] = set()  # the chats whose topics this socket follows
        # Between listen() and follow(): chats a join or leave was heard for.
        self.heard: set[int] | None = None
        self.queue: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.closing = asyncio.Event()
        self.close_code = SLOW_CLIENT
        self.ended_by: asyncio.Task | None = None  # a loop that ended by itself
        self.read_notices: ReadNotices | None = None  # made on the first read notice
        # When the page last sent anything: a socket silent too long is closed
        # (vibechat.live.heartbeat).
        self.heard_at = time.monotonic()
        # The page's language (chosen for the handshake): which version of a frame to send.
        self.language = i18n.LANGUAGES.index(i18n.current())

    def deliver(self, data: bytes) -> None:
        """The broker's callback: never blocks, never raises.

        Control lines act at once, in publish order, not when the frame reaches the
        front of a backlog: a removed member must not receive what is posted after
        their removal, and someone added must not miss the chat's first messages.
        """
        if self.closing.is_set():
            return
        control, frame = open_envelope(data)
        if control:
            self.obey(control)
        if not isinstance(frame, str):
            frame = frame[self.language]
        if frame:
            try:
                self.queue.put_nowait(frame)
            except asyncio.QueueFull:
                if not self.closing.is_set():
                    metrics.SLOW_CONSUMERS_DROPPED.inc()
                self.close(SLOW_CLIENT)

    def beat(self) -> None:
        """Queue a heartbeat, unless frames are queued already (they prove life too)."""
        if self.queue.empty() and not self.closing.is_set():
            self.queue.put_nowait(HEARTBEAT)

    def obey(self, control: dict) -> None:
        if "join" in control:
            self.join(control["join"])
        if "leave" in control:
            self.leave(control["leave"])
        if self.heard is not None:
            self.heard.update(control[key] for key in ("join", "leave") if key in control)
        if control.get("revoke") == self.session_hash:
            # This browser logged out: its open sockets end with it.
            self.close(SESSION_ENDED)

    def close(self, code: int) -> None:
        if not self.closing.is_set():
            self.close_code = code
            self.closing.set()

    def listen(self) -> None:
        """Follow this person's topic; call before asking which chats are theirs.

        A chat joined or left while that question runs is heard of here, and what is
        heard wins over the answer: it was published after its commit, so it is as new
        as the answer or newer. (Asking first, as this once did, lost a chat joined in
        that moment until the page reconnected.)"""
        self.heard = set()
        self.live.broker.subscribe(user_topic(self.user.id), self.deliver)

    def follow(self, chat_ids) -> None:
        """Follow these chats (the person's, as the database answered after listen())."""
        for chat_id in chat_ids:
            if chat_id not in self.heard:
                self.join(chat_id)
        self.heard = None

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
            frames = [await self.queue.get()]
            # What queued up meanwhile goes out as one message: every top-level element
            # of a frame carries its own data-hx-swap-oob, so frames joined are a frame, and
            # a busy socket pays the per-message cost (a send, a compression) once.
            while not self.queue.empty() and len(frames) < MAX_JOINED_FRAMES:
                frames.append(self.queue.get_nowait())
            await websocket.send("".join(frames))

    async def receive_notices(self) -> None:
        limits = rate_limits()
        while True:
            raw = await websocket.receive()
            self.heard_at = time.monotonic()
            if not raw:
                continue  # the page's heartbeat: proof of life, nothing to do or count
            if not await limits.hit("socket_frames", self.key):
                metrics.RATE_LIMIT_REFUSALS.labels("socket_frames").inc()
                continue
            if len(raw) > MAX_CLIENT_FRAME:
                continue
            try:
                notice = json.loads(raw)
            except (ValueError, RecursionError):
                continue
            if isinstance(notice, dict):
                await self.handle(notice)

    async def handle(self, notice: dict) -> None:
        """{"typing": <chat id>}: this person is typing in one of their chats.
        {"read": <chat id>, "seq": <seq>}: their page has shown that chat up to seq."""
        chat_id = notice.get("typing")
        if self.follows(chat_id):
            await self.live.typing.note(chat_id, self.user.id, self.user.display_name)
        chat_id, seq = notice.get("read"), notice.get("seq")
        # A seq past any the database can hold is nonsense, not "everything": ignored.
        if self.follows(chat_id) and type(seq) is int and 0 <= seq <= MAX_ID:
            if self.read_notices is None:
                self.read_notices = ReadNotices(self.mark_read)
            self.read_notices.note(chat_id, seq)

    def follows(self, chat_id) -> bool:
        """Whether chat_id is a chat this socket follows (an int, and theirs)."""
        # type() rather than isinstance(): True is an int too, and would mean chat 1.
        return type(chat_id) is int and chat_id in self.chat_ids

    async def mark_read(self, chat_id: int, seq: int) -> None:
        await read_marks.mark_read(self.user, chat_id, seq)

    def _loop_ended(self, task: asyncio.Task) -> None:
        if not self.closing.is_set():
            self.ended_by = task
            self.closing.set()

    async def run(self) -> None:
        """Send and receive until the socket closes or we close it.

        Two tasks per socket; the handler itself waits for the end, and the session's
        lifetime is a timer (a socket outlives no session). Every task costs memory,
        and there are 10,000 sockets to hold.
        """
        loop = asyncio.get_running_loop()
        lifetime = (self.session_expires_at - utcnow()).total_seconds()
        expiry = loop.call_later(lifetime, self.close, SESSION_ENDED)
        tasks = [
            asyncio.create_task(self.send_frames()),
            asyncio.create_task(self.receive_notices()),
        ]
        for task in tasks:
            task.add_done_callback(self._loop_ended)
        try:
            await self.closing.wait()
        finally:
            expiry.cancel()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self.ended_by is not None:
            self.ended_by.result()  # re-raise what ended a loop
            return
        log.info("closing the socket with %s", self.close_code)
        # The transport may be stuck as well: do not wait on it for long.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(websocket.close(self.close_code), 2)


@bp.websocket("/ws")
async def socket():
    """The live channel. Refused before accept when signed out or from another site."""
    if g.user is None:
        abort(403)
    if websocket.headers.get("Origin") is None or not is_same_origin(websocket):
        abort(403)
    live = current_app.extensions["live"]
    connection = Connection(
        live,
        g.user,
        g.session_token_hash,
        g.session_expires_at,
        settings().ws_queue,
    )
    refused = live.admit(connection)
    if refused:
        # Accepted only to say why in a close code the page understands (a refused
        # handshake reaches a browser as a bare 1006, which it would retry for ever).
        metrics.SOCKETS_REFUSED.labels(refused).inc()
        log.warning("socket refused: too many open for this %s", refused)
        await websocket.accept()
        await websocket.close(TOO_MANY_SOCKETS, f"too many sockets for this {refused}")
        return
    counted = False
    try:
        # Subscribe before accepting: anything committed after the page's catch-up
        # request starts is then certain to arrive live. The read is short and closed
        # before we start waiting: no database session is held while the socket is open.
        connection.listen()
        async with db().read() as session:
            connection.follow(await queries.chat_ids_of(session, g.user.id))
        await websocket.accept()
        counted = True
        metrics.OPEN_SOCKETS.inc()
        live.connections.add(connection)
        if live.stopping:
            # Accepted while the process stops (hypercorn closes its listener a moment
            # after telling us): close at once, the page reconnects elsewhere.
            connection.close(RECONNECT)
        if await live.presence.connect(g.user.id):
            live.presence_news.announce(g.user.id, connection.chat_ids, online=True)
        await connection.run()
    finally:
        # A publish paused mid-crowd may still call deliver(): it must find this
        # connection closed, or a "join" would subscribe it again after it is gone.
        connection.closing.set()
        try:
            # Before it counts as gone: a stopping process waits for its sockets, and
            # the marks must be written while the database and the broker are there.
            if connection.read_notices is not None:
                await connection.read_notices.close()
        finally:
            # Even if cancelled again meanwhile: a socket never counted out would hold
            # its place under the caps for the life of the process.
            live.disconnected(connection)
            connection.unsubscribe_all()
        if counted:
            metrics.OPEN_SOCKETS.dec()
            seconds = time.perf_counter() - g.request_started
            log.info(
                "socket closed after %.1f s",
                seconds,
                extra={"duration_ms": round(seconds * 1000, 1)},
            )
        if counted and await live.presence.disconnect(g.user.id):
            live.presence_news.announce(g.user.id, connection.chat_ids, online=False)
