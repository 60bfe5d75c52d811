"""VIBECHAT_WS_COMPRESSION against a real hypercorn: what the handshake answers a
browser's offer, and that frames still arrive whole (vibechat/live/protocol.py)."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest

from tests.support.remote import RemotePerson, new_chat, receive_until, unique
from tests.support.servers import live_server
from vibechat.live.protocol import edited_offers

pytestmark = pytest.mark.slow  # hypercorn processes

CHROMIUM_OFFER = "permessage-deflate; client_max_window_bits"


@pytest.fixture(scope="module", params=["on", "per-message", "off"])
def served(request, tmp_path_factory):
    mode = request.param
    folder = tmp_path_factory.mktemp(f"compression-{mode}")
    with live_server(folder, settings={"VIBECHAT_WS_COMPRESSION": mode}) as url:
        yield mode, url


async def handshake_extensions(person: RemotePerson, offer: str) -> str | None:
    """Open /ws by hand with a browser's headers; the Sec-WebSocket-Extensions answer."""
    host, port = person.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nOrigin: {person.base}\r\n"
            f"Cookie: {person.cookie_header()}\r\nSec-WebSocket-Extensions: {offer}\r\n\r\n"
        ).encode()
    )
    head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)).decode("latin-1")
    writer.close()
    assert head.startswith("HTTP/1.1 101"), head
    for line in head.split("\r\n")[1:]:
        header, _, value = line.partition(":")
        if header.strip().lower() == "sec-websocket-extensions":
            return value.strip()
    return None


EXPECTED = {
    "on": "permessage-deflate; client_max_window_bits=15",
    "per-message": "permessage-deflate; server_no_context_takeover; client_max_window_bits=15",
    "off": None,
}


async def test_the_handshake_answers_a_browsers_offer_as_the_setting_says(served):
    mode, url = served
    alice = await RemotePerson(url, unique("alice")).register()
    try:
        assert await handshake_extensions(alice, CHROMIUM_OFFER) == EXPECTED[mode]
    finally:
        await alice.close()


async def test_frames_arrive_whole_in_every_mode(served):
    """A real client inflates (or not) what the server sent: three posts, in order."""
    mode, url = served
    alice = await RemotePerson(url, unique("alice")).register()
    bob = await RemotePerson(url, unique("bob")).register()
    try:
        chat = await new_chat(alice, bob)
        async with bob.socket() as ws:  # websockets offers permessage-deflate too
            negotiated = [extension.name for extension in ws.protocol.extensions]
            assert negotiated == ([] if mode == "off" else ["permessage-deflate"])
            if mode != "off":
                no_context = ws.protocol.extensions[0].remote_no_context_takeover
                assert no_context is (mode == "per-message")
            for n in range(3):
                body = f"compressed {n} " + "the same words again " * 20
                response = await alice.post(f"/chats/{chat}/messages", {"body": body})
                assert response.status_code == 303
                frame = await receive_until(ws, f'id="msg-{chat}-{n + 1}"')
                assert body.strip() in frame
    finally:
        await alice.close()
        await bob.close()


def test_offers_are_edited_only_where_the_mode_says():
    offers = ["permessage-deflate; client_max_window_bits", "x-webkit-deflate-frame"]
    assert edited_offers(offers, "on") == offers
    assert edited_offers(offers, "off") is None
    assert edited_offers(offers, "per-message") == [
        "permessage-deflate; client_max_window_bits; server_no_context_takeover",
        "x-webkit-deflate-frame",
    ]
    already = ["permessage-deflate; server_no_context_takeover"]
    assert edited_offers(already, "per-message") == already
    assert edited_offers(None, "per-message") is None
