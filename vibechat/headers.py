"""Security headers on every response: a strict CSP and the usual companions (and the
challenge every 401 must carry).

The pages hold no inline script, no inline style and no style attribute, and htmx is
configured not to eval (base.html), so the policy needs neither 'unsafe-inline' nor
'unsafe-eval'. The socket is named explicitly in connect-src: CSP Level 3 lets 'self'
cover ws/wss, but older browsers do not.
"""

from __future__ import annotations

from quart import request

from vibechat.security import own_origins
from vibechat.web import is_htmx

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
# RFC 9110 15.5.2: a 401 carries at least one challenge. Signing in here is a form, and
# no registered scheme says so; "Form" is what form-based sites send, and no browser
# answers a scheme it does not know with a password dialog: the page shows as it is.
SIGN_IN_CHALLENGE = 'Form realm="vibechat"'


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


# Stylesheets and scripts: a browser applies CSP, framing, permissions and the opener
# policy to documents only (and to workers, which we have none of), and the referrer
# policy to the requests a response makes (ours make none: no url() in the stylesheet,
# no fetch from a module's top level), so on these they would be bytes for nothing:
# about 480 per response, eight responses on a first visit that has a 40 KB budget.
# The same holds for what htmx asks for (web.is_htmx: a fragment, a 204): the script
# reads it and swaps it into a page that has the headers already; a navigation cannot
# send HX-Request, so the same address opened as a page is answered as a page, with
# them. That is 480 bytes off every catch-up, one of them on every first visit.
# Anything else (pages, errors, JSON, text) keeps the whole set.
SUBRESOURCE_TYPES = {"text/css", "text/javascript", "application/javascript"}


async def add_security_headers(response):
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    if response.mimetype not in SUBRESOURCE_TYPES and not is_htmx():
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", content_security_policy())
        headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for old browsers
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if response.status_code == 401:
        headers.setdefault("WWW-Authenticate", SIGN_IN_CHALLENGE)
    return response
