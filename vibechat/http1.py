"""A guard in front of the app for HTTP/1 framing that h11 accepts and RFC 9112 does not.

A request with both Content-Length and Transfer-Encoding can be read two ways: h11
takes the chunked body and keeps the connection for the next request, while a proxy in
front may have counted Content-Length and passed the rest on as a request of its own
(request smuggling). RFC 9112 6.3 says to treat such a message as an error and close
the connection after answering, so that nothing after it is read: 400, and
`Connection: close` (which h11 obeys, and hypercorn then closes).

The other way round, h11 refuses what RFC 9112 2.2 asks a server to forgive: empty
lines where a request line is due. w3m (and other HTTP/1.0 clients of its age) send CRLF
after a POST body that Content-Length does not count: 127 bytes announced, 129 sent.
Over HTTP/1.0 without keep-alive h11 then expects only the end of the connection, sees
data, and hypercorn answers a bare 400 before the app's answer goes out: w3m could not
sign in or send anything. Over HTTP/1.1 the CRLF waits for the next cycle, where h11
again calls it "no request line" and answers 400 after the real answer. hypercorn has
no setting for this and no way to choose its HTTP/1 protocol class, so
`forgive_empty_lines()` puts a subclass of its `H11Protocol` in the one place
(`hypercorn.protocol`) where connections are made, whose h11 connection drops CR and LF
bytes at exactly two points: before a request line (one or more empty lines), and after
an HTTP/1.0 (closing) request's body when nothing but CR/LF follows. Anything else after
such a body is still refused, so nothing can ride in behind one (tests/test_http1.py).
It has to run in each hypercorn worker (they are spawned, and import only the app), so
`create_app()` calls it; it is idempotent and costs nothing outside hypercorn.
"""

from __future__ import annotations

import h11
import hypercorn.protocol
from hypercorn.protocol.h11 import H11Protocol

AMBIGUOUS = b"A request may not carry both Content-Length and Transfer-Encoding.\n"


def refuse_ambiguous_length(asgi_app):
    async def app(scope, receive, send):
        if scope["type"] == "http" and _has_both(scope["headers"]):
            await send(
                {
                    "type": "http.response.start",
                    "status": 400,
                    "headers": [
                        (b"content-type", b"text/plain; charset=utf-8"),
                        (b"content-length", str(len(AMBIGUOUS)).encode()),
                        (b"connection", b"close"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": AMBIGUOUS})
            return
        await asgi_app(scope, receive, send)

    return app


def _has_both(headers) -> bool:
    names = {name.lower() for name, _ in headers}
    return b"content-length" in names and b"transfer-encoding" in names


# -- empty lines before a request line, CRLF after an HTTP/1.0 body ----------------------

EMPTY_LINE_BYTES = frozenset(b"\r\n")


class ForgivingConnection(h11.Connection):
    """An h11 server connection that skips the empty lines RFC 9112 2.2 forgives."""

    def next_event(self):
        state = self.their_state
        if state is h11.IDLE:
            self._drop_leading_empty_lines()
        elif state is h11.MUST_CLOSE:
            self._drop_only_empty_lines()
        return super().next_event()

    # h11 has no public way to drop received bytes: these use its receive buffer
    # (hypercorn and h11 versions are pinned; tests/test_http1.py fails if this breaks).
    def _drop_leading_empty_lines(self) -> None:
        buffer = self._receive_buffer
        while True:
            start = bytes(buffer._data[:2])
            if start == b"\r\n":
                buffer.maybe_extract_at_most(2)
            elif start[:1] == b"\n":
                buffer.maybe_extract_at_most(1)
            else:
                return

    def _drop_only_empty_lines(self) -> None:
        buffer = self._receive_buffer
        if buffer and EMPTY_LINE_BYTES.issuperset(buffer._data):
            buffer.maybe_extract_at_most(len(buffer))


class ForgivingH11Protocol(H11Protocol):
    """hypercorn's HTTP/1 protocol on a ForgivingConnection."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.connection = ForgivingConnection(
            h11.SERVER, max_incomplete_event_size=self.config.h11_max_incomplete_size
        )


def forgive_empty_lines() -> None:
    """Make every HTTP/1 connection hypercorn accepts in this process a forgiving one."""
    # ProtocolWrapper looks the class up in its module each time a connection opens.
    hypercorn.protocol.H11Protocol = ForgivingH11Protocol
