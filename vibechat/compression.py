"""Brotli when the browser accepts it, else gzip, for pages, CSS and JS alike (a
maintained ASGI middleware, brotli-asgi: Quart compresses nothing by itself).

brotli-asgi looks for "br" as a substring of Accept-Encoding, so "gzip, br;q=0" (brotli
refused by quality, RFC 9110 12.5.3) would still get brotli. The middleware is handed a
header with every refused coding taken out, read by werkzeug's parser.
"""

from __future__ import annotations

from brotli_asgi import BrotliMiddleware
from werkzeug.http import parse_accept_header

QUALITY = 5  # brotli 0-11: 5 is fast on every request and near the best


def compressed(asgi_app):
    middleware = BrotliMiddleware(asgi_app, quality=QUALITY, minimum_size=256, gzip_fallback=True)

    async def app(scope, receive, send):
        if scope["type"] == "http":
            scope = dict(scope, headers=[_accepted_only(pair) for pair in scope["headers"]])
        await middleware(scope, receive, send)

    return app


def _accepted_only(pair: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
    name, value = pair
    if name.lower() != b"accept-encoding" or b"q=" not in value:
        return pair
    accepted = parse_accept_header(value.decode("latin-1"))
    return name, ", ".join(coding for coding, quality in accepted if quality > 0).encode()
