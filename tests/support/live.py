"""The live channel of the in-process app: an open /ws as a page holds it (every frame
checked to be well formed, and kept), its close code, a refused opening, and a broker
that records what was published.

Every receive has a timeout, and "nothing more arrives" waits a short, fixed time:
a missing frame fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import pytest
from quart.testing.connections import WebsocketDisconnectError, WebsocketResponseError
from selectolax.lexbor import LexborHTMLParser, LexborNode

from vibechat.i18n import LANGUAGES
from vibechat.live.broker import LocalBroker
from vibechat.live.envelope import open_envelope

OWN_ORIGIN = "http://localhost"
# Deadlines for what must happen: a passing test never waits them out, so they are
# generous enough for a machine busy with several test processes (make test runs 4).
RECEIVE_TIMEOUT = 5.0  # a frame that should come comes well within this
REFUSAL_TIMEOUT = 5.0  # a refusal is immediate; this is only how long to wait for it
QUIET = 0.3  # how long "no (further) frame arrives" is watched for


class RecordingBroker(LocalBroker):
    """A LocalBroker that also keeps everything published."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[tuple[str, bytes]] = []

    async def publish(self, topic: str, data: bytes) -> None:
        self.published.append((topic, data))
        await super().publish(topic, data)


# -- frames ------------------------------------------------------------------------------


def opened(data: bytes, language: str = "en") -> str:
    """An envelope's frame as a page in `language` gets it (a frame that reads the same
    in every language travels once; one that does not carries each)."""
    frame = open_envelope(data)[1]
    return frame if isinstance(frame, str) else frame[LANGUAGES.index(language)]


def top_level(raw: str) -> list[LexborNode]:
    """A frame's top-level elements, each checked to carry an explicit data-hx-swap-oob."""
    elements = []
    for node in LexborHTMLParser(raw).body.iter(include_text=True):
        if node.tag == "-text":
            assert not node.text().strip(), f"bare text at the top of a frame: {raw!r}"
            continue
        assert node.attributes.get("data-hx-swap-oob"), (
            f"<{node.tag} id={node.id}> lacks data-hx-swap-oob"
        )
        elements.append(node)
    assert elements, f"an empty frame: {raw!r}"
    return elements


@dataclass
class Frame:
    raw: str
    elements: list[LexborNode]

    def top(self, selector: str) -> LexborNode | None:
        """The first top-level element matching selector."""
        return next((node for node in self.elements if node.css_matches(selector)), None)


class Socket:
    """An open /ws as a page holds it: every frame is checked and kept."""

    def __init__(self, connection) -> None:
        self.connection = connection
        self.frames: list[Frame] = []
        self.heartbeats = 0  # empty frames received (and answered, as a page does)
        # until() reads top-level elements in the order they came: frames that queued
        # up behind a slow socket arrive joined in one message (vibechat/live/socket.py).
        self._next = (0, 0)  # (frame, element) that until() looks at next

    async def receive(self, limit: float = RECEIVE_TIMEOUT) -> Frame:
        """The next frame; a heartbeat (an empty frame) is answered as a page does and
        not returned."""
        async with asyncio.timeout(limit):
            while (raw := await self.connection.receive()) == "":
                self.heartbeats += 1
                await self.connection.send("")
        assert isinstance(raw, str), "frames are sent as text"
        frame = Frame(raw, top_level(raw))
        self.frames.append(frame)
        return frame

    async def send(self, data: str | bytes) -> None:
        await self.connection.send(data)

    def _look(self, selector: str) -> Frame | None:
        """The frame holding the next top-level match after the last one found."""
        frame_index, element_index = self._next
        while frame_index < len(self.frames):
            frame = self.frames[frame_index]
            for index in range(element_index, len(frame.elements)):
                if frame.elements[index].css_matches(selector):
                    self._next = (frame_index, index + 1)
                    return frame
            frame_index, element_index = frame_index + 1, 0
        self._next = (frame_index, 0)
        return None

    async def until(self, selector: str, within: float = RECEIVE_TIMEOUT) -> Frame:
        """The frame with the next top-level element matching selector, received or to come."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (frame := self._look(selector)) is None:
            try:
                await self.receive(max(deadline - loop.time(), 0.001))
            except TimeoutError:
                seen = [frame.raw for frame in self.frames]
                pytest.fail(f"no frame with {selector} within {within} s; saw {seen}")
        return frame

    async def quiet(self, selector: str | None = None, within: float = QUIET) -> None:
        """No frame (or none with a top-level selector) arrives within `within` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (left := deadline - loop.time()) > 0:
            try:
                frame = await self.receive(left)
            except TimeoutError:
                return
            assert selector is not None, f"unexpected frame: {frame.raw}"
            assert frame.top(selector) is None, f"unexpected frame: {frame.raw}"

    async def latest(self, selector: str) -> LexborNode:
        """The newest top-level selector received so far, or the next to arrive."""
        for frame in reversed(self.frames):
            if (node := frame.top(selector)) is not None:
                return node
        return (await self.until(selector)).top(selector)

    def seen(self, selector: str) -> bool:
        """Whether any frame received so far had a top-level selector."""
        return any(frame.top(selector) is not None for frame in self.frames)


async def all_quiet(selector: str | None, *sockets: Socket) -> None:
    await asyncio.gather(*(socket.quiet(selector) for socket in sockets))


@contextlib.asynccontextmanager
async def live(client, *, stuck: asyncio.Event | None = None, headers: dict | None = None):
    """An accepted /ws for a test client (headers: more of them, such as
    Accept-Language). With stuck, every frame waits on the way out until the event is
    set, like a phone on a bad network."""
    connection = client.websocket("/ws", headers={"Origin": OWN_ORIGIN, **(headers or {})})
    accepted = asyncio.Event()
    send_to_client = connection._asgi_send

    async def network(message) -> None:
        if message["type"] == "websocket.accept":
            accepted.set()
        elif message["type"] == "websocket.send" and stuck is not None:
            await stuck.wait()
        await send_to_client(message)

    # Before entering, which is when the app is handed this callable: the test client
    # has nothing to await for the accept, and no way to slow a socket down.
    connection._asgi_send = network
    async with connection:
        await asyncio.wait_for(accepted.wait(), RECEIVE_TIMEOUT)
        yield Socket(connection)


async def close_code(socket: Socket, within: float) -> int:
    """Read whatever frames come until the server closes the socket; its close code."""
    async with asyncio.timeout(within):
        while True:
            try:
                await socket.connection.receive()
            except WebsocketDisconnectError as closed:
                return closed.args[0]


async def assert_refused(client, headers: dict) -> None:
    """The socket is answered with 403 before it is accepted."""
    with pytest.raises(WebsocketResponseError) as refused:
        async with client.websocket("/ws", headers=headers) as connection:
            await asyncio.wait_for(connection.receive(), REFUSAL_TIMEOUT)
    assert refused.value.response.status_code == 403
    assert not connection.accepted
