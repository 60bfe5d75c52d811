"""Reading pages: parse HTML, find a form's CSRF token, a field's error, stray scripts."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser as HTMLParser


def html(body: bytes | str) -> HTMLParser:
    return HTMLParser(body if isinstance(body, str) else body.decode())


def csrf_from(body: bytes | str) -> str:
    node = html(body).css_first('input[name="csrf_token"]')
    assert node is not None, "page has no csrf_token field"
    return node.attributes["value"]


def field_error(page, name: str) -> str:
    """The error shown for a field, checked to sit next to it and be tied to it."""
    control = page.css_first(f"#{name}")
    error = page.css_first(f"#{name}-error")
    assert error is not None, f"no #{name}-error on the page"
    assert control.parent.css_first(f"#{name}-error") is not None, "error is not by its field"
    assert f"{name}-error" in control.attributes["aria-describedby"].split()
    assert control.attributes["aria-invalid"] == "true"
    return error.text()


def foreign_scripts(page) -> list:
    """<script> elements that are not one of our own static files: user text that
    turned into markup would show up here."""
    return [
        script
        for script in page.css("script")
        if not script.attributes.get("src", "").startswith("/static/") or script.text().strip()
    ]
