"""A lean WebSocket client for load generation: many sockets, one event loop, little CPU.

The `websockets` library is built for correctness, not for holding 10,000 sockets and
reading 30,000 frames a second in the same process as the rest of a load generator.
This client does only what the benchmark needs: the RFC 6455 handshake with a cookie
and an Origin, permessage-deflate offered the way a browser offers it (or not), and
text frames from the server handed to a callback. It answers pings, a close and the
app's heartbeat (an empty frame), and sends masked text frames (the page's typing
notices). Nothing here is product code.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import zlib
from collections.abc import Callable

# What Chromium sends: the server may keep its compression context between messages.
BROWSER_DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"
DEFLATE_TAIL = b"\x00\x00\xff\xff"

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


class HandshakeRefused(Exception):
    """The server answered the upgrade with something other than 101."""

    def __init__(self, status_line: str) -> None:
        super().__init__(status_line)
        self.status_line = status_line


class _Protocol(asyncio.Protocol):
    def __init__(self, on_text: Callable[[str], None], compress: bool) -> None:
        self.on_text = on_text
        self.offered_deflate = compress
        self.inflater: zlib._Decompress | None = None
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.handshake: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.fragment_compressed = False
        self.closed = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            self.upgraded = True
            # Frames may follow the response in this very read: be ready to inflate.
            if self.offered_deflate and b"permessage-deflate" in head.lower():
                self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
            if not self.handshake.done():
                self.handshake.set_result(head)
        self._read_frames()

    def _read_frames(self) -> None:
        buffer = self.buffer
        position = 0
        size = len(buffer)
        while size - position >= 2:
            first, second = buffer[position], buffer[position + 1]
            length = second & 0x7F
            header = 2
            if length == 126:
                if size - position < 4:
                    break
                (length,) = struct.unpack_from("!H", buffer, position + 2)
                header = 4
            elif length == 127:
                if size - position < 10:
                    break
                (length,) = struct.unpack_from("!Q", buffer, position + 2)
                header = 10
            end = position + header + length
            if end > size:
                break
            payload = bytes(buffer[position + header : end])
            position = end
            self._frame(first, payload)
        del buffer[:position]

    def _frame(self, first: int, payload: bytes) -> None:
        opcode = first & 0x0F
        fin = first & 0x80
        if opcode in (OP_TEXT, OP_BINARY):
            self.fragment_compressed = bool(first & 0x40)
            self.fragments = [payload]
        elif opcode == 0:
            self.fragments.append(payload)
        elif opcode == OP_PING:
            self._send(OP_PONG, payload)
            return
        elif opcode == OP_CLOSE:
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self._send(OP_CLOSE, payload[:2])
            self.transport.close()
            return
        else:
            return
        if not fin:
            return
        message = b"".join(self.fragments)
        self.fragments = []
        if self.fragment_compressed:
            message = self.inflater.decompress(message + DEFLATE_TAIL)
        if not message:
            # The app's heartbeat: answered as a page answers it, or the app closes a
            # socket silent for three of them (vibechat/live/heartbeat.py).
            self._send(OP_TEXT, b"")
            return
        self.on_text(message.decode())

    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        length = len(payload)
        if length < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
        elif length < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self.transport.write(header + mask + masked)

    def connection_lost(self, exc) -> None:
        if not self.handshake.done():
            self.handshake.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)


class Socket:
    """One open socket. `compressed` says whether the server accepted permessage-deflate."""

    def __init__(self, protocol: _Protocol, compressed: bool) -> None:
        self._protocol = protocol
        self.compressed = compressed

    def send_text(self, text: str) -> None:
        self._protocol._send(OP_TEXT, text.encode())

    @property
    def closed(self) -> asyncio.Future:
        """Resolves to the close code when the connection ends."""
        return self._protocol.closed

    def close(self) -> None:
        self._protocol._send(OP_CLOSE, struct.pack("!H", 1000))
        self._protocol.transport.close()


async def connect(
    host: str,
    port: int,
    path: str,
    on_text: Callable[[str], None],
    *,
    cookie: str = "",
    origin: str = "",
    compress: bool = True,
) -> Socket:
    """Open a socket to ws://host:port/path; on_text gets every text message."""
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_connection(lambda: _Protocol(on_text, compress), host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: {host}:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
    ]
    if origin:
        lines.append(f"Origin: {origin}")
    if cookie:
        lines.append(f"Cookie: {cookie}")
    if compress:
        lines.append(f"Sec-WebSocket-Extensions: {BROWSER_DEFLATE_OFFER}")
    protocol.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    head = (await protocol.handshake).decode("latin-1")
    status_line, *header_lines = head.split("\r\n")
    if " 101 " not in status_line + " ":
        protocol.transport.close()
        raise HandshakeRefused(status_line)
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    compressed = "permessage-deflate" in headers.get("sec-websocket-extensions", "")
    return Socket(protocol, compressed)
