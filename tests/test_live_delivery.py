"""Delivery through a real hypercorn process and real WebSocket clients."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import time

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.remote import RECEIVE_TIMEOUT, RemotePerson, new_chat, receive_until, unique
from tests.support.servers import live_server
from vibechat.hypercorn_config import websocket_max_message_size

pytestmark = pytest.mark.slow  # a hypercorn process

MAX_POSTS = 600  # 16 KB each: more than any socket buffer on the way holds


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # A small queue so that a client that never reads overflows quickly.
    with live_server(
        tmp_path_factory.mktemp("delivery"), settings={"VIBECHAT_WS_QUEUE": "8"}
    ) as url:
        yield url


async def test_a_socket_on_a_real_server_receives_a_posted_message(server):
    alice = await RemotePerson(server, unique("alice")).register()
    bob = await RemotePerson(server, unique("bob")).register()
    try:
        chat_id = await new_chat(alice, bob)
        async with bob.socket() as ws:
            started = time.monotonic()
            response = await alice.post(
                f"/chats/{chat_id}/messages", {"body": "over the wire", "client_token": "t1"}
            )
            assert response.status_code == 303
            frame = await receive_until(ws, f'id="msg-{chat_id}-1"')
            elapsed = time.monotonic() - started
            assert "over the wire" in frame and 'data-hx-swap-oob="true"' in frame
            print(f"\npost-to-delivery through hypercorn: {elapsed * 1000:.1f} ms")
    finally:
        await alice.close()
        await bob.close()


async def test_a_socket_from_another_origin_is_refused_by_the_real_server(server):
    alice = await RemotePerson(server, unique("alice")).register()
    try:
        ws_url = server.replace("http://", "ws://") + "/ws"
        with pytest.raises(Exception, match="403"):
            async with connect(
                ws_url,
                origin="https://evil.example",
                additional_headers={"Cookie": alice.cookie_header()},
            ):
                pass
        with pytest.raises(Exception, match="403"):
            async with connect(ws_url, origin=server):
                pass
    finally:
        await alice.close()


async def open_stuck_socket(base: str, cookie: str) -> socket.socket:
    """A WebSocket client that completes the handshake and then never reads.

    A tiny receive buffer makes the server's writes back up after a few frames, the way
    a phone in a tunnel or a frozen tab would.
    """
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, (host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: {base}\r\nCookie: {cookie}\r\n\r\n"
    )
    await loop.sock_sendall(sock, request.encode())
    answer = await asyncio.wait_for(loop.sock_recv(sock, 1024), RECEIVE_TIMEOUT)
    assert answer.startswith(b"HTTP/1.1 101"), answer
    return sock


async def test_a_client_that_never_reads_does_not_delay_the_others(server):
    alice = await RemotePerson(server, unique("alice")).register()
    bob = await RemotePerson(server, unique("bob")).register()
    stuck = await RemotePerson(server, unique("stuck")).register()
    try:
        chat_id = await new_chat(alice, bob, stuck)
        stuck_id = re.search(r'data-me="(\d+)"', (await stuck.http.get("/chats")).text).group(1)
        async with bob.socket(max_size=None) as ws:
            sock = await open_stuck_socket(server, stuck.cookie_header())
            try:
                # Big messages fill the stuck client's buffers; its queue overflows and the
                # server cuts it off (its person goes offline for the others), while every
                # message keeps reaching bob.
                body = "\N{GRINNING FACE}" * 3900  # 4 bytes each in UTF-8: ~16 KB a frame
                worst = 0.0
                offline = rf'id="presence-{stuck_id}"[^>]*>offline<'
                cut_off_after = None
                for n in range(1, MAX_POSTS + 1):
                    started = time.monotonic()
                    response = await alice.post(
                        f"/chats/{chat_id}/messages",
                        {"body": f"{n} {body}", "client_token": f"s{n}"},
                    )
                    assert response.status_code == 303
                    frame = await receive_until(ws, f'id="msg-{chat_id}-{n}"|{offline}')
                    if re.search(offline, frame):
                        cut_off_after = n
                        await receive_until(ws, f'id="msg-{chat_id}-{n}"')
                    worst = max(worst, time.monotonic() - started)
                    if cut_off_after and n >= cut_off_after + 5:
                        break
                assert cut_off_after is not None, f"the stuck client was still on after {n} posts"
                print(
                    f"\nstuck client cut off after {cut_off_after} posts; slowest"
                    f" post-to-delivery for the others: {worst * 1000:.1f} ms"
                )
            finally:
                sock.close()
    finally:
        for person in (alice, bob, stuck):
            await person.close()


async def test_a_frame_larger_than_hypercorn_takes_closes_that_socket_with_1009(server):
    """hypercorn_config caps a client frame at 16 KiB rather than buffering 16 MiB."""
    alice = await RemotePerson(server, unique("alice")).register()
    try:
        async with alice.socket() as ws:
            await ws.send("x" * (websocket_max_message_size + 1))
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)
        assert closed.value.rcvd.code == 1009
        # Small frames are fine: a fresh socket stays open.
        async with alice.socket() as ws:
            await ws.send('{"typing": 1}')
            await ws.ping()
    finally:
        await alice.close()
