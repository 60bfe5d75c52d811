"""Security headers on every response: a strict CSP and the usual companions.

The pages hold no inline script, no inline style and no style attribute, and htmx is
configured not to eval (base.html), so the policy needs neither 'unsafe-inline' nor
'unsafe-eval'. The socket is named explicitly in connect-src: CSP Level 3 lets 'self'
cover ws/wss, but older browsers do not.
"""

from __future__ import annotations

from quart import request

from vibechat.security import own_origins

SOCKET_SCHEMES = {"http": "ws", "https": "wss"}

PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other hosts are not ours to bind


def content_security_policy() -> str:
    sockets = []
    for origin in sorted(own_origins(request)):
        scheme, _, rest = origin.partition("://")
        if scheme in SOCKET_SCHEMES:
            sockets.append(f"{SOCKET_SCHEMES[scheme]}://{rest}")
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "connect-src": " ".join(["'self'", *sockets]),
        "object-src": "'none'",
        "frame-ancestors": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


async def add_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for old browsers
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response
