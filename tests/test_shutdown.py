"""Graceful shutdown against a real hypercorn process: SIGTERM closes every socket with
1012 at once, stops accepting, and lets a request in flight finish."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
import urllib.parse

import pytest
from websockets.exceptions import ConnectionClosed

from tests.browser_server import restartable_server
from tests.test_live_delivery import Person, name, new_chat
from vibechat import shutdown
from vibechat.live.hub import RECONNECT

SOCKETS = 3


def ws_closed_code(closed: pytest.ExceptionInfo) -> int:
    assert closed.value.rcvd is not None, "the connection dropped without a close frame"
    return closed.value.rcvd.code


async def start_posting(base: str, person: Person, chat: int, body: str):
    """A POST whose body is only half sent: a request in flight. Returns the stream and
    the rest of the body."""
    port = int(base.rsplit(":", 1)[1])
    form = urllib.parse.urlencode(
        {"csrf_token": person.token, "body": body, "client_token": name("token")}
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /chats/{chat}/messages HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        f"Origin: {base}\r\n"
        f"Cookie: {person.cookie_header()}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(form)}\r\n\r\n"
    ).encode()
    half = len(form) // 2
    writer.write(head + form[:half])
    await writer.drain()
    return reader, writer, form[half:]


async def served_now(base: str) -> bool:
    """Does the server answer a new connection's request within a second? (Once a
    worker stops, hypercorn's main process still holds the listening socket until it
    exits, so the kernel may complete the connection, but nobody answers it.)"""
    port = int(base.rsplit(":", 1)[1])
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    try:
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 1)
    except (OSError, TimeoutError):
        return False
    finally:
        writer.close()
    return line.startswith(b"HTTP/1.1")


async def test_sigterm_closes_sockets_with_1012_at_once_and_finishes_the_request_in_flight(
    tmp_path,
):
    # A long grace period: if the sockets waited for it, they would not close in time.
    settings = {"VIBECHAT_GRACEFUL_TIMEOUT": "30"}
    with restartable_server(tmp_path, settings=settings) as server:
        alice = await Person(server.url, name("alice")).register()
        bob = await Person(server.url, name("bob")).register()
        try:
            chat = await new_chat(alice, bob)
            sockets = [await alice.socket() for _ in range(SOCKETS)]
            await asyncio.sleep(0.3)
            reader, writer, rest = await start_posting(server.url, bob, chat, "said while stopping")
            await asyncio.sleep(0.3)

            server.process.send_signal(signal.SIGTERM)
            codes = []
            for ws in sockets:
                with pytest.raises(ConnectionClosed) as closed:
                    while True:  # presence frames may come first
                        await asyncio.wait_for(ws.recv(), 10)
                codes.append(ws_closed_code(closed))
            assert codes == [RECONNECT] * SOCKETS

            # Stopped accepting: a new request is not served...
            assert not await served_now(server.url)
            # ...while the request that was in flight still gets its answer.
            writer.write(rest)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 10)
            writer.close()
            assert status_line.startswith(b"HTTP/1.1 303"), status_line
            assert await asyncio.to_thread(server.process.wait, 20) == 0
            server.process = None

            server.start()
            page = await bob.http.get(f"/chats/{chat}")
            assert "said while stopping" in page.text
        finally:
            await alice.close()
            await bob.close()


async def test_a_request_that_outlasts_the_grace_period_is_cut_and_the_server_still_exits(
    tmp_path,
):
    with restartable_server(tmp_path, settings={"VIBECHAT_GRACEFUL_TIMEOUT": "1"}) as server:
        alice = await Person(server.url, name("alice")).register()
        bob = await Person(server.url, name("bob")).register()
        try:
            chat = await new_chat(alice, bob)
            reader, writer, _rest = await start_posting(server.url, bob, chat, "never finished")
            await asyncio.sleep(0.3)
            server.process.send_signal(signal.SIGTERM)
            assert await asyncio.to_thread(server.process.wait, 20) == 0
            server.process = None
            # Cut: hypercorn answers 500 for the cancelled request (or nothing), and
            # nothing half-written stays behind.
            answer = await asyncio.wait_for(reader.read(), 5)
            assert answer == b"" or answer.startswith(b"HTTP/1.1 500"), answer
            writer.close()
            server.start()
            page = await alice.http.get(f"/chats/{chat}")
            assert "never finished" not in page.text
            assert not re.search(r'id="msg-\d+-1"', page.text)
        finally:
            await alice.close()
            await bob.close()


def test_every_stopping_hook_runs_even_when_one_fails(caplog):
    ran = []

    def broken() -> None:
        raise RuntimeError("boom")

    def fine() -> None:
        ran.append("fine")

    for hook in (broken, fine):
        shutdown.on_stopping(hook)
    try:
        with caplog.at_level(logging.ERROR, logger="vibechat.shutdown"):
            shutdown.stopping()
    finally:
        shutdown.forget(broken)
        shutdown.forget(fine)
    assert ran == ["fine"]
    assert "a shutdown hook failed" in caplog.text


async def test_the_wrapped_trigger_returns_when_hypercorns_event_is_set_then_runs_the_hooks():
    import multiprocessing

    from hypercorn.asyncio import run

    shutdown.install()
    trigger = run.check_multiprocess_shutdown_event
    assert trigger.tells_vibechat
    shutdown.install()
    assert run.check_multiprocess_shutdown_event is trigger, "installed twice"
    ran = []

    def hook() -> None:
        ran.append("stopped")

    shutdown.on_stopping(hook)
    event = multiprocessing.get_context("spawn").Event()
    try:
        waiting = asyncio.ensure_future(trigger(event, asyncio.sleep))
        await asyncio.sleep(0.25)
        assert not waiting.done() and ran == []
        event.set()
        await asyncio.wait_for(waiting, 2)
        assert ran == ["stopped"]
    finally:
        shutdown.forget(hook)
