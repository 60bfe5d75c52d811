"""Security headers on every kind of response, and pages that need no CSP exception."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.html import html
from tests.support.people import create_chat, send
from vibechat.config import PROJECT_ROOT

TEMPLATES = Path(PROJECT_ROOT) / "templates"

EXPECTED_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "connect-src": ["'self'", "ws://localhost"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
}


def parse_csp(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


DOCUMENT_ONLY = (
    "Content-Security-Policy",
    "Referrer-Policy",
    "X-Frame-Options",
    "Permissions-Policy",
    "Cross-Origin-Opener-Policy",
)
SUBRESOURCES = ("stylesheet", "vendored script", "own script", "mine stylesheet")
# What htmx fetches: read by the script into a page that has the document's headers.
FRAGMENTS = ("older fragment", "catch-up fragment", "htmx post (204)")


def assert_subresource_headers(response) -> None:
    """A stylesheet, a script or a fragment for htmx: what protects it, without what
    only a document reads."""
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in headers
    present = [name for name in DOCUMENT_ONLY if name in headers]
    assert not present, f"document-only headers on this {response.mimetype} response: {present}"


def assert_security_headers(response, *, https: bool = False) -> None:
    headers = response.headers
    csp = headers["Content-Security-Policy"]
    assert parse_csp(csp) == {
        **EXPECTED_CSP,
        "connect-src": ["'self'", "wss://localhost" if https else "ws://localhost"],
    }
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "microphone=()" in headers["Permissions-Policy"]
    assert "geolocation=()" in headers["Permissions-Policy"]
    assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert headers["Cross-Origin-Resource-Policy"] == "same-origin"
    if https:
        assert headers["Strict-Transport-Security"] == "max-age=31536000"
    else:
        assert "Strict-Transport-Security" not in headers


@pytest.fixture
async def responses(people, alice, bob, app):
    """One response of every kind the app gives: pages, fragments, redirects, errors,
    static files, health checks."""
    chat = await create_chat(alice, "Watercooler", "bob")
    for n in range(55):
        await send(alice, chat, f"message {n}")
    anonymous = people.anonymous()
    htmx = {"HX-Request": "true"}
    css = html(await (await alice.get("/chats")).get_data()).css_first('link[rel="stylesheet"]')
    got = {
        "login page": await anonymous.get("/login"),
        "register page": await anonymous.get("/register"),
        "redirect to login": await anonymous.get("/chats"),
        "chat list": await alice.get("/chats"),
        "chat page": await alice.get(f"/chats/{chat}"),
        "members page": await alice.get(f"/chats/{chat}/members"),
        "password page": await alice.get("/account/password"),
        "older fragment": await alice.get(f"/chats/{chat}/messages?before=20", headers=htmx),
        "catch-up fragment": await alice.get(f"/chats/{chat}/messages?since=50", headers=htmx),
        "older page": await alice.get(f"/chats/{chat}/messages?before=20"),
        "htmx post (204)": await alice.post(
            f"/chats/{chat}/messages", {"body": "via htmx"}, headers=htmx
        ),
        "form post (303)": await send(alice, chat, "via form"),
        "invalid form (422)": await send(alice, chat, "   "),
        "bad query (400)": await alice.get(f"/chats/{chat}/messages?before=x"),
        "forbidden (403)": await alice.post(f"/chats/{chat}/delete", csrf=False),
        "not found (404)": await alice.get("/chats/999999"),
        "not allowed (405)": await alice.get("/chats/direct"),
        "too large (413)": await alice.post("/chats", {"title": "x" * 70_000}),
        "stylesheet": await alice.get(css.attributes["href"]),
        "vendored script": await alice.get("/static/vendor/htmx-2.0.11.min.js"),
        "own script": await alice.get("/static/app.js"),
        "mine stylesheet": await alice.get("/style/mine-1.css"),
        "healthz": await anonymous.get("/healthz"),
        "readyz": await anonymous.get("/readyz"),
    }
    return got


async def test_every_kind_of_response_carries_the_security_headers(responses):
    statuses = {name: response.status_code for name, response in responses.items()}
    assert statuses["htmx post (204)"] == 204
    assert statuses["too large (413)"] == 413
    assert statuses["not allowed (405)"] == 405
    assert statuses["stylesheet"] == 200
    for name, response in responses.items():
        try:
            if name in SUBRESOURCES or name in FRAGMENTS:
                assert_subresource_headers(response)
            else:
                assert_security_headers(response)
        except (AssertionError, KeyError) as error:
            raise AssertionError(f"{name}: {error!r}") from error


async def test_over_https_the_socket_is_wss_and_hsts_is_sent(app):
    response = await app.test_client().get("/login", scheme="https")
    assert_security_headers(response, https=True)


async def test_the_public_origins_setting_names_the_socket_origins(app):
    origins = ("https://chat.example.org",)
    app.extensions["settings"] = replace(app.extensions["settings"], public_origins=origins)
    response = await app.test_client().get("/login")
    assert parse_csp(response.headers["Content-Security-Policy"])["connect-src"] == [
        "'self'",
        "wss://chat.example.org",
    ]


async def test_no_rendered_page_needs_inline_script_or_style(responses):
    """What a strict CSP would block: inline scripts, <style>, style="", on* handlers."""
    for name, response in responses.items():
        if response.mimetype != "text/html":
            continue
        page = html(await response.get_data())
        for node in page.css("*"):
            attributes = node.attributes
            assert "style" not in attributes, (name, node.html[:200])
            handlers = [key for key in attributes if key.lower().startswith("on")]
            assert handlers == [], (name, node.html[:200])
        assert page.css("style") == [], name
        inline = [script for script in page.css("script") if "src" not in script.attributes]
        assert inline == [], name


def test_no_template_has_inline_script_style_or_handlers():
    """The same, for templates no test happens to render."""
    offending = re.compile(r"<style|<script(?![^>]*\bsrc=)|\sstyle=|\son[a-z]+=", re.I)
    jinja = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}", re.S)
    for template in TEMPLATES.rglob("*.html"):
        matches = offending.findall(jinja.sub("", template.read_text()))
        assert matches == [], f"{template.relative_to(TEMPLATES)}: {matches}"


async def test_htmx_is_configured_for_the_csp(alice):
    page = await alice.page("/chats")
    config = page.css_first('meta[name="htmx-config"]').attributes["content"]
    assert '"allowEval":false' in config
    assert '"allowScriptTags":false' in config
    assert '"includeIndicatorStyles":false' in config
    assert "inlineScriptNonce" not in config
