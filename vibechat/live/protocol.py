"""The socket's wire protocol as hypercorn 0.18 and wsproto 1.x speak it, with three fixes.

1. permessage-deflate as VIBECHAT_WS_COMPRESSION says: on, per-message or off.
   Every browser offers it, and hypercorn accepts it with no setting to refuse or tune
   it (Handshake.accept builds wsproto's PerMessageDeflate() itself). Compression saves
   bytes on a slow link, but a compressor keeps about 256 KB of zlib state for as long
   as it keeps its context, which by default is the whole life of the socket: 2.5 GB
   for 10,000 open tabs. So before hypercorn answers the handshake we edit the offer:
   - "on": the browser's offer as it is (context kept: the best ratio, the most memory);
   - "per-message": the server answers with server_no_context_takeover, which RFC 7692
     (7.1.1.1) lets a server add to any offer, so every message is compressed on its
     own and wsproto frees the compressor after each one;
   - "off": no offer reaches hypercorn, so the socket is not compressed.

2. A compressed message inflates to at most MAX_MESSAGE_BYTES. wsproto inflates each
   frame in full before hypercorn's size limit looks at it: one 100 KB frame of
   deflated zeros became 100 MiB in memory before the close (and ten of them held
   1.4 GB). `BoundedDeflate` inflates with zlib's max_length and fails the message
   (1009) at the first byte past the limit.

3. A frame the server cannot accept gets a close frame (RFC 6455 7.1.7): 1002 for a
   protocol error (an unmasked frame, a reserved opcode or bit, a bad close code),
   1007 for text that is not UTF-8, 1009 for a message too big once inflated. wsproto
   reports these as a CloseConnection event without changing its state, and hypercorn
   answers a close only in the REMOTE_CLOSING state, so it dropped the TCP connection
   without one. `AnswersProtocolErrors` moves to that state, and hypercorn's own code
   then sends the close frame with wsproto's code.

This wraps and replaces three names of a pinned hypercorn (>=0.18,<0.19) and wsproto
(>=1.2,<1.4); tests/test_ws_compression.py and tests/test_ws_protocol.py drive a real
hypercorn in every mode, so an upgrade that moves them fails there, not in production.
"""

from __future__ import annotations

import zlib

from hypercorn.protocol import ws_stream
from hypercorn.protocol.ws_stream import Handshake
from wsproto.connection import Connection, ConnectionState
from wsproto.events import CloseConnection
from wsproto.extensions import PerMessageDeflate
from wsproto.frame_protocol import CloseReason

MODES = ("on", "per-message", "off")
PER_MESSAGE = "server_no_context_takeover"
# The largest message a page may send, after inflating: the page only ever sends small
# JSON. hypercorn_config gives hypercorn the same figure (in characters, which are never
# more than bytes), so an uncompressed message meets the same limit.
MAX_MESSAGE_BYTES = 16 * 1024

_mode = "on"
_hypercorn_accept = Handshake.accept


class BoundedDeflate(PerMessageDeflate):
    """wsproto's permessage-deflate, inflating at most MAX_MESSAGE_BYTES per message."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inflated = 0  # bytes of the current message inflated so far

    def frame_inbound_payload_data(self, proto, data: bytes) -> bytes | CloseReason:
        if not self._inbound_compressed or not self._inbound_is_compressible:
            return data
        # One byte more than the room left: getting it back means the message is too big.
        # Input zlib did not get to stays in unconsumed_tail (no bigger than `data`); the
        # message fails here, so nothing ever inflates it.
        room = MAX_MESSAGE_BYTES - self.inflated + 1
        try:
            inflated = self._decompressor.decompress(bytes(data), room)
        except zlib.error:
            return CloseReason.INVALID_FRAME_PAYLOAD_DATA
        return self._counted(inflated)

    def frame_inbound_complete(self, proto, fin: bool) -> bytes | CloseReason | None:
        # The rest (the sync-flush tail) is at most what zlib still holds: the payload
        # above was consumed to the last byte, or the message had already failed.
        rest = super().frame_inbound_complete(proto, fin)
        if isinstance(rest, bytes):
            rest = self._counted(rest)
        # A control frame between fragments (fin, not compressible) ends no message.
        if fin and self._inbound_is_compressible:
            self.inflated = 0
        return rest

    def _counted(self, inflated: bytes) -> bytes | CloseReason:
        self.inflated += len(inflated)
        if self.inflated > MAX_MESSAGE_BYTES:
            return CloseReason.MESSAGE_TOO_BIG
        return inflated


class AnswersProtocolErrors(Connection):
    """wsproto's connection, but a frame it refuses is answered with a close frame."""

    def events(self):
        for event in super().events():
            if isinstance(event, CloseConnection) and self.state is ConnectionState.OPEN:
                # Not the peer's close (that sets REMOTE_CLOSING itself) nor a lost
                # connection (CLOSED): wsproto failed a frame. Answer it as a close, so
                # that hypercorn sends one with wsproto's code and then ends the stream.
                self._state = ConnectionState.REMOTE_CLOSING
            yield event


def configure(mode: str) -> None:
    """Apply `mode` and the fixes above to every socket this process accepts from now on."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"expected one of {', '.join(MODES)}, got {mode!r}")
    _mode = mode
    Handshake.accept = _accept
    # Handshake.accept builds both by these module names.
    ws_stream.PerMessageDeflate = BoundedDeflate
    ws_stream.Connection = AnswersProtocolErrors


def edited_offers(offers: list[str] | None, mode: str) -> list[str] | None:
    """The client's Sec-WebSocket-Extensions offers as hypercorn should see them."""
    if offers is None or mode == "on":
        return offers
    if mode == "off":
        return None
    return [
        f"{offer}; {PER_MESSAGE}"
        if offer.split(";")[0].strip() == "permessage-deflate" and PER_MESSAGE not in offer
        else offer
        for offer in offers
    ]


def _accept(self: Handshake, subprotocol, additional_headers):
    self.extensions = edited_offers(self.extensions, _mode)
    return _hypercorn_accept(self, subprotocol, additional_headers)
