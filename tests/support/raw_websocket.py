"""A WebSocket client that writes frames byte by byte, for frames no library would send:
unmasked, reserved opcodes, invalid UTF-8, bad close codes, deflate bombs (RFC 6455 5.2).
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import zlib
from dataclasses import dataclass

TEXT, BINARY, CLOSE, PING, PONG = 0x1, 0x2, 0x8, 0x9, 0xA
DEFLATE_OFFER = "permessage-deflate; client_max_window_bits"


def frame(
    opcode: int,
    payload: bytes,
    *,
    fin: bool = True,
    rsv1: bool = False,
    rsv2: bool = False,
    masked: bool = True,
) -> bytes:
    """One frame as a client sends it (masked unless told otherwise)."""
    head = bytes([(fin << 7) | (rsv1 << 6) | (rsv2 << 5) | opcode])
    length = len(payload)
    mask_bit = 0x80 if masked else 0
    if length < 126:
        head += bytes([mask_bit | length])
    elif length < 2**16:
        head += bytes([mask_bit | 126]) + struct.pack("!H", length)
    else:
        head += bytes([mask_bit | 127]) + struct.pack("!Q", length)
    if not masked:
        return head + payload
    key = os.urandom(4)
    # XOR with the key repeated: one big-integer operation, fast enough for megabytes.
    stream = (key * (length // 4 + 1))[:length]
    masked_payload = (int.from_bytes(payload, "big") ^ int.from_bytes(stream, "big")).to_bytes(
        length, "big"
    )
    return head + key + masked_payload


def close_frame(code: int) -> bytes:
    return frame(CLOSE, struct.pack("!H", code))


def deflated(payload: bytes) -> bytes:
    """payload as one permessage-deflate message (RFC 7692 7.2.1: the sync tail removed)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = compressor.compress(payload) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert data.endswith(b"\x00\x00\xff\xff")
    return data[:-4]


def deflate_bomb(inflated_size: int) -> bytes:
    """A compressed text message of `inflated_size` zero bytes (about 1/1000 of it)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1024 * 1024)
    parts = [compressor.compress(chunk) for _ in range(inflated_size // len(chunk))]
    parts.append(compressor.compress(bytes(inflated_size % len(chunk))))
    data = b"".join(parts) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return data[:-4]


@dataclass
class RawSocket:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    extensions: str | None  # what the server answered in Sec-WebSocket-Extensions

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def read_frame(self, within: float) -> tuple[int, bytes] | None:
        """The next frame the server sends (opcode, payload), or None at end of stream."""
        try:
            head = await asyncio.wait_for(self.reader.readexactly(2), within)
            length = head[1] & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", await self.reader.readexactly(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", await self.reader.readexactly(8))
            payload = await asyncio.wait_for(self.reader.readexactly(length), within)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return head[0] & 0x0F, payload

    async def close_code(self, within: float = 5.0) -> int | None:
        """Read until the server's close frame and return its code; None when the
        connection ends without one."""
        while True:
            received = await self.read_frame(within)
            if received is None:
                return None
            opcode, payload = received
            if opcode == CLOSE:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005

    async def ended(self, within: float = 5.0) -> bool:
        """True when the server closes the TCP connection within `within` seconds."""
        try:
            while await asyncio.wait_for(self.reader.read(65536), within):
                pass
        except ConnectionError:
            pass
        return True

    def close(self) -> None:
        self.writer.close()


async def open_raw_socket(
    base: str, cookie: str, extensions: str | None = None, within: float = 5.0
) -> RawSocket:
    """Open /ws on the server at `base` (http://host:port) as a browser of that origin."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    offer = f"Sec-WebSocket-Extensions: {extensions}\r\n" if extensions else ""
    writer.write(
        (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {base}\r\nCookie: {cookie}\r\n{offer}\r\n"
        ).encode()
    )
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), within)).decode("latin-1")
    assert head.startswith("HTTP/1.1 101"), head
    answered = None
    for line in head.split("\r\n")[1:]:
        header, _, value = line.partition(":")
        if header.strip().lower() == "sec-websocket-extensions":
            answered = value.strip()
    return RawSocket(reader, writer, answered)
