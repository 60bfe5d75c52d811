"""Behind trusted reverse proxies: the client's address and scheme as they saw them.

hypercorn's ProxyFixMiddleware does the work. One gap: a proxy sends
`X-Forwarded-Proto: https` (or `http`) on a WebSocket upgrade too, and the middleware
copies it into the socket's scope as is, where ASGI expects `wss` (or `ws`). Quart then
matches no WebSocket route and answers 400: behind Caddy or nginx with
VIBECHAT_PROXY_HOPS set, live updates never connected. So the scheme is put back into
the socket's terms after the middleware.
"""

from __future__ import annotations

from hypercorn.middleware import ProxyFixMiddleware

SOCKET_SCHEMES = {"http": "ws", "https": "wss"}


def behind_proxies(asgi_app, trusted_hops: int):
    return ProxyFixMiddleware(_socket_schemes(asgi_app), mode="legacy", trusted_hops=trusted_hops)


def _socket_schemes(asgi_app):
    async def app(scope, receive, send):
        if scope["type"] == "websocket" and scope.get("scheme") in SOCKET_SCHEMES:
            scope = {**scope, "scheme": SOCKET_SCHEMES[scope["scheme"]]}
        await asgi_app(scope, receive, send)

    return app
