"""The socket's wire protocol against a real hypercorn: frames it must refuse get a close
frame with the right code (RFC 6455 7.1.7), and a compressed message is refused before
it inflates past the limit (vibechat/live/protocol.py).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from tests.support.raw_websocket import (
    BINARY,
    DEFLATE_OFFER,
    TEXT,
    close_frame,
    deflate_bomb,
    deflated,
    frame,
    open_raw_socket,
)
from tests.support.remote import RemotePerson, new_chat, receive_until, unique
from tests.support.servers import _descendants, restartable_server
from vibechat.live.protocol import MAX_MESSAGE_BYTES

pytestmark = pytest.mark.slow  # a hypercorn process

MiB = 1024 * 1024
BOMB_SOCKETS = 4  # opened at once, each sending one bomb
# Peak memory of the worker may grow by less than this while the bombs go off. Without
# the bound, one 100 MiB bomb alone grows it by 100 MiB.
MAX_GROWTH_KB = 5 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with restartable_server(
        tmp_path_factory.mktemp("ws-protocol"),
        settings={"VIBECHAT_WS_COMPRESSION": "per-message"},
    ) as running:
        yield running


@pytest.fixture
async def alice(server):
    person = await RemotePerson(server.url, unique("alice")).register()
    yield person
    await person.close()


# -- protocol errors ---------------------------------------------------------------------

PROTOCOL_ERRORS = {
    "text that is not UTF-8": (frame(TEXT, b"caf\xc3("), 1007),
    "a reserved data opcode": (frame(0x3, b"{}"), 1002),
    "a reserved control opcode": (frame(0xB, b""), 1002),
    "an unmasked frame": (frame(TEXT, b"{}", masked=False), 1002),
    "a reserved bit (RSV2)": (frame(TEXT, b"{}", rsv2=True), 1002),
    "a compressed frame on a socket that negotiated no compression": (
        frame(TEXT, deflated(b"{}"), rsv1=True),
        1002,
    ),
    "a close code below 1000": (close_frame(999), 1002),
    "the close code 1005, which is never sent": (close_frame(1005), 1002),
    "a fragmented ping": (frame(0x9, b"", fin=False), 1002),
}


@pytest.mark.parametrize("sent, expected", PROTOCOL_ERRORS.values(), ids=PROTOCOL_ERRORS.keys())
async def test_a_frame_the_server_refuses_gets_a_close_frame_with_the_code(
    alice, server, sent, expected
):
    ws = await open_raw_socket(server.url, alice.cookie_header())
    try:
        await ws.send(sent)
        assert await ws.close_code() == expected
        assert await ws.ended()
    finally:
        ws.close()


async def test_a_clean_close_is_answered_with_the_same_code(alice, server):
    ws = await open_raw_socket(server.url, alice.cookie_header())
    try:
        await ws.send(close_frame(1000))
        assert await ws.close_code() == 1000
    finally:
        ws.close()


# -- compressed messages -----------------------------------------------------------------


def worker_pids(server) -> list[int]:
    return _descendants(server.process.pid) or [server.process.pid]


def reset_peak_memory(server) -> None:
    """Start the high-water mark again from the current size (Linux 4.0+, clear_refs 5):
    else the peak of start-up (Argon2 alone takes 64 MiB) hides anything smaller."""
    for pid in worker_pids(server):
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_memory_kb(server) -> int:
    """The high-water mark of resident memory of the hypercorn worker (VmHWM, kB)."""
    peaks = []
    for pid in worker_pids(server):
        status = Path(f"/proc/{pid}/status").read_text()
        peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)))
    return max(peaks)


async def test_a_compressed_message_within_the_limit_still_arrives(alice, server):
    """The bound refuses bombs, not messages: a typing notice padded to the limit."""
    bob = await RemotePerson(server.url, unique("bob")).register()
    try:
        chat_id = await new_chat(alice, bob)
        async with bob.socket() as watching:
            ws = await open_raw_socket(server.url, alice.cookie_header(), DEFLATE_OFFER)
            try:
                assert ws.extensions and ws.extensions.startswith("permessage-deflate")
                notice = f'{{"typing": {chat_id}}}'.encode()
                padded = notice + b" " * (MAX_MESSAGE_BYTES - len(notice))
                await ws.send(frame(TEXT, deflated(padded), rsv1=True))
                # Too long for the app to read (it takes 1 KB), but not a protocol error:
                # the socket stays open and a small notice after it gets through.
                await ws.send(frame(TEXT, deflated(notice), rsv1=True))
                await receive_until(watching, "typing")
            finally:
                ws.close()
    finally:
        await bob.close()


@pytest.mark.parametrize("inflated_size", [10 * MiB, 100 * MiB], ids=["10MiB", "100MiB"])
async def test_deflate_bombs_on_several_sockets_close_with_1009_and_cost_no_memory(
    server, inflated_size
):
    people = [
        await RemotePerson(server.url, unique("bomber")).register() for _ in range(BOMB_SOCKETS)
    ]
    alice = await RemotePerson(server.url, unique("alice")).register()
    bob = await RemotePerson(server.url, unique("bob")).register()
    bomb = deflate_bomb(inflated_size)
    try:
        chat_id = await new_chat(alice, bob)
        async with bob.socket() as watching:
            sockets = [
                await open_raw_socket(server.url, p.cookie_header(), DEFLATE_OFFER) for p in people
            ]
            try:
                reset_peak_memory(server)
                before = peak_memory_kb(server)
                bombs = [frame(TEXT, bomb, rsv1=True) for _ in sockets]
                await asyncio.gather(*(ws.send(b) for ws, b in zip(sockets, bombs, strict=True)))
                codes = await asyncio.gather(*(ws.close_code() for ws in sockets))
                growth = peak_memory_kb(server) - before
            finally:
                for ws in sockets:
                    ws.close()
            print(
                f"\n{BOMB_SOCKETS} bombs of {inflated_size // MiB} MiB ({len(bomb):,} B"
                f" compressed): peak memory grew by {growth} kB"
            )
            assert codes == [1009] * BOMB_SOCKETS
            assert growth < MAX_GROWTH_KB
            # Everyone else carries on: a post still reaches bob's socket.
            response = await alice.post(
                f"/chats/{chat_id}/messages", {"body": "still here", "client_token": "t1"}
            )
            assert response.status_code == 303
            await receive_until(watching, "still here")
    finally:
        for person in (*people, alice, bob):
            await person.close()


async def test_an_uncompressed_binary_message_over_the_limit_closes_with_1009(alice, server):
    ws = await open_raw_socket(server.url, alice.cookie_header())
    try:
        await ws.send(frame(BINARY, bytes(MAX_MESSAGE_BYTES + 1)))
        assert await ws.close_code() == 1009
    finally:
        ws.close()
