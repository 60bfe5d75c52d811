"""permessage-deflate on /ws, as VIBECHAT_WS_COMPRESSION says: on, per-message or off.

Every browser offers permessage-deflate, and hypercorn 0.18 accepts it with no setting
to refuse or tune it (Handshake.accept in hypercorn/protocol/ws_stream.py builds
wsproto's PerMessageDeflate() itself). Compression saves bytes on a slow link, but a
compressor keeps about 256 KB of zlib state for as long as it keeps its context,
which by default is the whole life of the socket: 2.5 GB for 10,000 open tabs. So
before hypercorn answers the handshake we edit the offer it reads:

- "on": the browser's offer as it is (context kept: the best ratio, the most memory);
- "per-message": the server answers with server_no_context_takeover, which RFC 7692
  (7.1.1.1) lets a server add to any offer, so every message is compressed on its
  own and wsproto frees the compressor after each one;
- "off": no offer reaches hypercorn, so the socket is not compressed.

This wraps one method of a pinned hypercorn (>=0.18,<0.19); tests/test_ws_compression.py
checks the handshake of a real hypercorn in every mode, so an upgrade that moves the
method fails there, not in production.
"""

from __future__ import annotations

from hypercorn.protocol.ws_stream import Handshake

MODES = ("on", "per-message", "off")
PER_MESSAGE = "server_no_context_takeover"

_mode = "on"
_hypercorn_accept = Handshake.accept


def configure(mode: str) -> None:
    """Apply `mode` to every socket this process accepts from now on."""
    global _mode
    if mode not in MODES:
        raise ValueError(f"expected one of {', '.join(MODES)}, got {mode!r}")
    _mode = mode
    Handshake.accept = _accept


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
