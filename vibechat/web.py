"""Small helpers every view shares: redirects after POST and the htmx check."""

from __future__ import annotations

from quart import redirect, request


def see_other(location: str):
    """Redirect after POST: the browser follows with a GET."""
    return redirect(location, 303)


def is_htmx() -> bool:
    """The one place that decides whether a request came from htmx (wants a fragment)."""
    return request.headers.get("HX-Request") == "true" and not request.headers.get(
        "HX-History-Restore-Request"
    )
