"""Behind a trusted TLS proxy (VIBECHAT_PROXY_HOPS): the live socket still connects.

A real hypercorn process, and the headers Caddy and nginx send on an upgrade."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect

from tests.support.remote import RemotePerson, new_chat, receive_until, unique
from tests.support.servers import restartable_server

pytestmark = pytest.mark.slow  # hypercorn processes


@pytest.mark.parametrize("scheme", ["https", "http"])
async def test_a_socket_through_a_trusted_proxy_is_accepted_and_live(tmp_path, scheme):
    settings = {"VIBECHAT_PROXY_HOPS": "1", "VIBECHAT_SECURE_COOKIES": "false"}
    with restartable_server(tmp_path, settings=settings) as server:
        alice = await RemotePerson(server.url, unique("alice")).register()
        bob = await RemotePerson(server.url, unique("bob")).register()
        host = server.url.split("://", 1)[1]
        try:
            chat = await new_chat(alice, bob)
            async with connect(
                server.url.replace("http://", "ws://") + "/ws",
                origin=f"{scheme}://{host}",  # the page's origin, as the browser saw it
                additional_headers={
                    "Cookie": bob.cookie_header(),
                    "X-Forwarded-Proto": scheme,
                    "X-Forwarded-For": "203.0.113.9",
                },
            ) as ws:
                await asyncio.sleep(0.2)
                posted = await alice.post(f"/chats/{chat}/messages", {"body": "hi"})
                assert posted.status_code == 303
                await receive_until(ws, f'id="msg-{chat}-1"')
        finally:
            await alice.close()
            await bob.close()
