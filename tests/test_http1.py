"""HTTP/1 framing against a real hypercorn, over raw sockets (vibechat/http1.py)."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

import httpx
import pytest

from tests.support.people import PASSWORD
from tests.support.remote import unique
from tests.support.servers import live_server

pytestmark = pytest.mark.slow  # a hypercorn process

TIMEOUT = 5.0
STATUS_LINE = re.compile(rb"^HTTP/1\.[01] (\d{3})", re.MULTILINE)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("http1")) as url:
        yield url


async def exchange(base: str, data: bytes) -> tuple[list[int], bool]:
    """Send raw bytes; the statuses answered, and whether the server closed the
    connection (rather than keeping it open for more)."""
    host, port = base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(data)
    await writer.drain()
    received = b""
    closed = False
    # The first answer may wait on a password hash on a busy machine (make test runs
    # four workers): up to 10 s for it, then 2 s of quiet means "kept open".
    quiet = 10.0
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), quiet):
            received += chunk
            quiet = 2.0
        closed = True
    except TimeoutError:
        pass  # still open after the quiet spell
    finally:
        writer.close()
    return [int(status) for status in STATUS_LINE.findall(received)], closed


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize(
    "request_line", [b"GET /healthz HTTP/1.1", b"POST /login HTTP/1.1"], ids=["GET", "POST"]
)
async def test_a_request_with_both_lengths_gets_400_and_nothing_after_it_is_read(
    server, request_line
):
    """Without the guard, h11 reads the chunked body and serves GET /smuggled after it."""
    request = request_line + (
        b"\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    statuses, closed = await exchange(server, request + SMUGGLED)
    assert statuses == [400]
    assert closed


async def test_requests_with_one_length_each_are_still_answered_in_turn(server):
    counted = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n"
    chunked = (
        b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    statuses, closed = await exchange(server, counted + chunked + SMUGGLED)
    assert statuses == [200, 200, 404]
    assert not closed


# -- HTTP/1.0 clients that end a body with a stray CRLF (w3m) ------------------------------


def login_form(base: str) -> tuple[str, str]:
    """GET /login as a new visitor: the Cookie header and the form's CSRF token."""
    with httpx.Client(base_url=base, timeout=30) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    return cookie, token


def w3m_post(path: str, cookie: str, body: bytes, after_body: bytes = b"\r\n") -> bytes:
    """A POST shaped exactly like w3m 0.5.3's: HTTP/1.0, no keep-alive, Content-Length
    counting the body, then `after_body` (w3m sends CRLF) that the length does not count."""
    return (
        (
            f"POST {path} HTTP/1.0\r\n"
            "User-Agent: w3m/0.5.3+git20230121\r\n"
            "Accept: text/html, text/*;q=0.5, image/*, application/*, x-scheme-handler/*\r\n"
            "Accept-Encoding: gzip, compress, bzip, bzip2, deflate\r\n"
            "Accept-Language: en;q=1.0\r\n"
            "Host: 127.0.0.1\r\n"
            f"Cookie: {cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        + after_body
    )


@pytest.fixture(scope="module")
def w3m_user(server):
    """Someone who signed up (over HTTP/1.1) to sign in as."""
    username = unique("wendy")
    with httpx.Client(base_url=server, timeout=30) as client:
        page = client.get("/register")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        form = {"csrf_token": token, "username": username, "password": PASSWORD}
        assert client.post("/register", data=form).status_code == 303
    return username


async def test_a_w3m_login_with_crlf_after_the_body_is_answered_by_the_app(server, w3m_user):
    """RFC 9112 2.2: old HTTP/1.0 clients send CRLF after a POST body; h11 answered 400."""
    cookie, token = login_form(server)
    body = urlencode({"csrf_token": token, "username": w3m_user, "password": PASSWORD}).encode()
    statuses, closed = await exchange(server, w3m_post("/login", cookie, body))
    assert statuses == [303]
    assert closed  # HTTP/1.0 without keep-alive: one request, then the server closes


async def test_a_wrong_password_over_http_1_0_gets_the_apps_401_not_a_bare_400(server, w3m_user):
    cookie, token = login_form(server)
    body = urlencode({"csrf_token": token, "username": w3m_user, "password": "wrong"}).encode()
    statuses, _ = await exchange(server, w3m_post("/login", cookie, body, b"\r\n\r\n"))
    assert statuses == [401]


async def test_anything_but_empty_lines_after_an_http_1_0_body_is_still_refused(server, w3m_user):
    """Only CR and LF are forgiven: a request smuggled after the body is never served."""
    cookie, token = login_form(server)
    body = urlencode({"csrf_token": token, "username": w3m_user, "password": PASSWORD}).encode()
    statuses, closed = await exchange(server, w3m_post("/login", cookie, body, b"\r\n" + SMUGGLED))
    assert statuses == [400]
    assert closed


async def test_an_empty_line_between_keep_alive_requests_is_skipped(server):
    """RFC 9112 2.2: a server SHOULD ignore an empty line where a request line is due."""
    get = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    statuses, closed = await exchange(server, get + b"\r\n" + get + b"\r\n")
    assert statuses == [200, 200]
    assert not closed
