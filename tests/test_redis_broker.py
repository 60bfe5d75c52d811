"""Redis between processes: the broker's fan-out, shared presence, and outages that
lose nothing.

Two RedisBroker instances stand for two processes. Outage tests run a Redis server
of their own on another port, so stopping it disturbs nobody.
"""

from __future__ import annotations

import asyncio
import os

import pytest
import redis.asyncio as redis

from tests.support.app import app_config
from tests.support.live import close_code, live
from tests.support.people import People, create_chat, send
from tests.support.redis import Inbox, started
from tests.support.servers import free_port
from vibechat.app import create_app
from vibechat.live.redis_presence import RedisPresence


async def test_a_frame_published_in_one_process_reaches_subscribers_in_another(two_processes):
    first, second = two_processes
    topic = f"chat:{os.getpid()}"
    here, there = Inbox(), Inbox()
    first.subscribe(topic, here)
    second.subscribe(topic, there)
    await first.publish(topic, b"<li>hello</li>")
    assert await there.next() == b"<li>hello</li>"
    assert await here.next() == b"<li>hello</li>"  # the publisher's own sockets too
    assert len(here.items) == len(there.items) == 1  # exactly once each


async def test_only_subscribers_of_the_topic_receive_it(two_processes):
    first, second = two_processes
    listener, bystander = Inbox(), Inbox()
    second.subscribe("chat:101", listener)
    second.subscribe("chat:102", bystander)
    await first.publish("chat:101", b"for 101")
    assert await listener.next() == b"for 101"
    second.unsubscribe("chat:101", listener)
    await first.publish("chat:101", b"after unsubscribe")
    await first.publish("chat:102", b"for 102")
    assert await bystander.next() == b"for 102"
    assert listener.items == [b"for 101"]


async def test_while_redis_is_down_local_delivery_goes_on_and_returns_by_itself(own_redis):
    resubscribed = asyncio.Event()

    async def note_resubscribed() -> None:
        resubscribed.set()

    first = await started(own_redis.url)
    second = await started(own_redis.url, on_resubscribed=note_resubscribed)
    try:
        here, there = Inbox(), Inbox()
        first.subscribe("chat:1", here)
        second.subscribe("chat:1", there)
        await first.publish("chat:1", b"before")
        assert await there.next() == b"before"

        own_redis.stop()
        await asyncio.wait_for(_until(lambda: not first.connected.is_set()), 5)
        await first.publish("chat:1", b"during")  # does not raise
        assert await here.next() == b"during"  # this process's sockets still hear it
        assert there.items == [b"before"]

        own_redis.start()  # same port
        await asyncio.wait_for(resubscribed.wait(), 10)
        await asyncio.wait_for(_until(first.connected.is_set), 10)
        await first.publish("chat:1", b"after")
        assert await there.next() == b"after"
    finally:
        await first.close()
        await second.close()


async def _until(condition) -> None:
    while not condition():  # noqa: ASYNC110 - polling a flag the broker flips
        await asyncio.sleep(0.05)


# -- the app on Redis ----------------------------------------------------------------------


async def test_readiness_reports_the_broker(app_database_url, tmp_path, own_redis):
    app = create_app(
        app_config(app_database_url, tmp_path, VIBECHAT_REDIS_URL=own_redis.url), testing=True
    )
    async with app.test_app():
        client = app.test_client()
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert await ready.get_json() == {"status": "ok", "database": "ok", "broker": "ok"}
        own_redis.stop()
        down = await client.get("/readyz")
        assert down.status_code == 503
        assert (await down.get_json())["broker"] == "unreachable"
        # Pages are still served meanwhile.
        assert (await client.get("/login")).status_code == 200


async def test_the_in_process_broker_is_reported_as_such(app):
    ready = await app.test_client().get("/readyz")
    assert await ready.get_json() == {"status": "ok", "database": "ok", "broker": "in-process"}


async def test_when_redis_returns_every_socket_is_told_to_reconnect(
    app_database_url, tmp_path, own_redis
):
    """Frames from other processes were lost during the outage: pages must catch up."""
    app = create_app(
        app_config(app_database_url, tmp_path, VIBECHAT_REDIS_URL=own_redis.url), testing=True
    )
    async with app.test_app():
        people = People(app)
        alice, bob = await people("alice"), await people("bob")
        chat = await create_chat(alice, "Watercooler", "bob")
        async with live(bob.client) as socket:
            own_redis.stop()
            # Posting goes on without Redis; bob is in this process, so he hears it.
            assert (await send(alice, chat, "while Redis is away")).status_code == 303
            await socket.until(f"#msg-{chat}-1")
            own_redis.start()
            code = await close_code(socket, within=15)
        assert code == 1012


# -- presence shared between processes -------------------------------------------------------


@pytest.fixture
async def presences(own_redis):
    """Two processes' presence on the test's own Redis, with claims that live 1 s."""
    clients = [redis.Redis.from_url(own_redis.url) for _ in range(2)]
    yield [RedisPresence(client, ttl=1.0) for client in clients]
    for client in clients:
        await client.aclose()


async def test_presence_is_the_union_of_every_process_and_announced_once(presences):
    first, second = presences
    assert await first.connect(7) is True  # first socket anywhere: online
    assert await first.connect(7) is False  # a second tab
    assert await second.connect(7) is False  # another process: still no news
    assert await second.online([7, 8]) == {7}
    assert await first.disconnect(7) is False
    assert await first.disconnect(7) is False  # gone here, still on the second
    assert await first.online([7]) == {7}
    assert await second.disconnect(7) is True  # the last socket anywhere: offline
    assert await first.online([7]) == set()


async def test_two_processes_connecting_one_person_at_once_announce_it_once(presences):
    first, second = presences
    answers = await asyncio.gather(first.connect(9), second.connect(9))
    assert sorted(answers) == [False, True]


async def test_the_people_of_a_crashed_process_go_offline_after_the_ttl(presences):
    crashed, survivor = presences
    await crashed.connect(5)
    await survivor.connect(6)
    await crashed.heartbeat()
    assert await survivor.online([5, 6]) == {5, 6}
    assert await survivor.sweep() == []  # nothing has run out yet
    # The crashed process renews nothing any more; the survivor does.
    await asyncio.sleep(0.6)
    await survivor.heartbeat()
    await asyncio.sleep(0.6)
    assert await survivor.online([5, 6]) == {6}
    assert await survivor.sweep() == [5]  # announced once, by whoever sweeps first
    assert await crashed.sweep() == []


async def test_without_redis_presence_answers_for_this_process(tmp_path):
    client = redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    alone = RedisPresence(client)
    assert await alone.connect(3) is True
    assert await alone.online([3, 4]) == {3}
    assert await alone.disconnect(3) is True
    await client.aclose()
