"""A guard in front of the app for HTTP/1 framing that h11 accepts and RFC 9112 does not.

A request with both Content-Length and Transfer-Encoding can be read two ways: h11
takes the chunked body and keeps the connection for the next request, while a proxy in
front may have counted Content-Length and passed the rest on as a request of its own
(request smuggling). RFC 9112 6.3 says to treat such a message as an error and close
the connection after answering, so that nothing after it is read: 400, and
`Connection: close` (which h11 obeys, and hypercorn then closes).
"""

from __future__ import annotations

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
