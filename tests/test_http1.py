"""HTTP/1 framing against a real hypercorn, over raw sockets (vibechat/http1.py)."""

from __future__ import annotations

import asyncio
import re

import pytest

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
    try:
        while chunk := await asyncio.wait_for(reader.read(65536), 1.0):
            received += chunk
        closed = True
    except TimeoutError:
        pass  # still open after a second of quiet
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
