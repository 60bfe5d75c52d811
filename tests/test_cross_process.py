"""Two hypercorn processes on two ports, one PostgreSQL database, one Redis.

A socket held by process B receives what is posted through process A; when A is
killed, its clients reconnect to B and catch up with nothing lost or duplicated.
The Redis server is the test's own (another port), so no other run hears our frames.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.redis import RedisServer
from tests.support.remote import RemotePerson, new_chat, receive_until, unique
from tests.support.servers import free_port, restartable_server

pytestmark = pytest.mark.slow  # hypercorn processes and a redis-server

WITHIN = 1.0  # issue 6: delivered across processes within 1 s
CRASH_OFFLINE = 45.0  # issue 6: the people of a crashed process go offline within this
MESSAGE = re.compile(r'id="msg-(\d+)-(\d+)"[^>]*data-rev="(\d+)"')


@pytest.fixture(scope="module")
def redis_for_the_module(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def two_servers(tmp_path_factory, postgres_database, redis_for_the_module):
    settings = {
        "VIBECHAT_DATABASE_URL": postgres_database,
        "VIBECHAT_REDIS_URL": redis_for_the_module.url,
    }
    with (
        restartable_server(tmp_path_factory.mktemp("a"), settings=settings) as first,
        restartable_server(tmp_path_factory.mktemp("b"), settings=settings) as second,
    ):
        yield first, second


def on(person: RemotePerson, base: str) -> RemotePerson:
    """The same signed-in person, talking to another process (same cookies)."""
    other = RemotePerson(base, person.username)
    other.http = httpx.AsyncClient(base_url=base, cookies=person.http.cookies)
    other.token = person.token
    return other


async def presence_on_chat_page(viewer: RemotePerson, chat: int) -> dict[str, str]:
    """username -> "1"/"0" as the chat page of the viewer's process shows its members."""
    page = await viewer.http.get(f"/chats/{chat}")
    assert page.status_code == 200
    rows = re.findall(
        r'<span class="member-name"[^>]*>([^<]+)</span>.*?data-online="(\d)"', page.text
    )
    return dict(rows)


async def user_id_of(viewer: RemotePerson, chat: int, username: str) -> int:
    page = await viewer.http.get(f"/chats/{chat}")
    assert page.status_code == 200, (page.status_code, page.headers, page.text[:300])
    found = re.search(rf'data-user="(\d+)"><span class="member-name"[^>]*>{username}<', page.text)
    return int(found[1])


def socket_on(person: RemotePerson, base: str):
    return connect(
        base.replace("http://", "ws://") + "/ws",
        origin=base,
        additional_headers={"Cookie": person.cookie_header()},
    )


async def test_a_socket_on_one_process_receives_a_post_made_through_the_other(two_servers):
    first, second = two_servers
    alice = await RemotePerson(first.url, unique("alice")).register()
    bob = await RemotePerson(first.url, unique("bob")).register()
    try:
        chat = await new_chat(alice, bob)
        timings = []
        async with socket_on(bob, second.url) as bob_on_b:
            for n in range(1, 6):
                started = time.perf_counter()
                response = await alice.post(f"/chats/{chat}/messages", {"body": f"across {n}"})
                assert response.status_code == 303
                frame = await receive_until(bob_on_b, f'id="msg-{chat}-{n}"', within=WITHIN)
                timings.append(time.perf_counter() - started)
                assert f"across {n}" in frame
        print("\npost through A -> frame on B: " + ", ".join(f"{t * 1000:.0f} ms" for t in timings))
    finally:
        await alice.close()
        await bob.close()


async def test_presence_is_the_union_of_both_processes(two_servers):
    first, second = two_servers
    alice = await RemotePerson(first.url, unique("alice")).register()
    bob = await RemotePerson(first.url, unique("bob")).register()
    bob_on_b = on(bob, second.url)
    try:
        chat = await new_chat(alice, bob)
        alice_id = await user_id_of(bob_on_b, chat, alice.username)
        async with socket_on(bob, second.url) as bob_socket:
            async with socket_on(alice, first.url):
                await receive_until(bob_socket, f'id="presence-{alice_id}" data-online="1"')
                shown = await presence_on_chat_page(bob_on_b, chat)
                assert shown == {alice.username: "1", bob.username: "1"}
            await receive_until(
                bob_socket, f'id="presence-{alice_id}" data-online="0"', within=WITHIN
            )
        assert (await presence_on_chat_page(bob_on_b, chat))[alice.username] == "0"
    finally:
        for person in (alice, bob, bob_on_b):
            await person.close()


async def test_when_a_process_dies_its_clients_catch_up_on_the_other(two_servers):
    first, second = two_servers
    alice = await RemotePerson(second.url, unique("alice")).register()
    carol = await RemotePerson(second.url, unique("carol")).register()
    try:
        chat = await new_chat(alice, carol)
        seen: dict[int, int] = {}  # seq -> rev, as carol's page holds them
        held = 0
        carol_id = await user_id_of(alice, chat, carol.username)
        alice_watch = await socket_on(alice, second.url)  # watches from B throughout
        async with socket_on(carol, first.url) as carol_on_a:
            for n in (1, 2):
                await alice.post(f"/chats/{chat}/messages", {"body": f"before {n}"})
                frame = await receive_until(carol_on_a, f'id="msg-{chat}-{n}"')
                for _chat, seq, rev in MESSAGE.findall(frame):
                    seen[int(seq)] = int(rev)
                    held = max(held, int(rev))
            first.kill()  # the process and its workers, with no goodbye: a crash
            with pytest.raises(ConnectionClosed):
                await asyncio.wait_for(carol_on_a.recv(), 10)

        # While carol is away, alice goes on (through B) and edits an old message.
        for n in (3, 4, 5):
            await alice.post(f"/chats/{chat}/messages", {"body": f"while away {n}"})
        await alice.post(f"/chats/{chat}/messages/1/edit", {"body": "before 1, edited"})

        # Carol's page reconnects to B, then asks what changed since what it holds.
        carol_on_b = on(carol, second.url)
        async with socket_on(carol, second.url) as socket:
            answer = await carol_on_b.http.get(
                f"/chats/{chat}/messages?since={held}", headers={"HX-Request": "true"}
            )
            assert answer.status_code == 200
            caught_up = MESSAGE.findall(answer.text)
            assert sorted(int(seq) for _c, seq, _r in caught_up) == [1, 3, 4, 5]
            for _chat, seq, rev in caught_up:
                seen[int(seq)] = int(rev)
            assert "before 1, edited" in answer.text
            # And live delivery goes on through B.
            await alice.post(f"/chats/{chat}/messages", {"body": "after"})
            frame = await receive_until(socket, f'id="msg-{chat}-6"', within=WITHIN)
            for _chat, seq, rev in MESSAGE.findall(frame):
                seen[int(seq)] = int(rev)
        # Carol's page on B has closed too. A died without giving back its claim on
        # her, so she goes offline for the others once that claim expires and a sweep
        # finds it.
        crashed_at = time.monotonic()
        await receive_until(
            alice_watch, f'id="presence-{carol_id}" data-online="0"', within=CRASH_OFFLINE
        )
        print(f"\ncrashed process's person offline after {time.monotonic() - crashed_at:.1f} s")
        await alice_watch.close()
        assert sorted(seen) == [1, 2, 3, 4, 5, 6]  # nothing lost
        # Nothing duplicated: every change has its own rev, each held once.
        assert len(set(seen.values())) == len(seen)
        await carol_on_b.close()
    finally:
        first.start()  # for any test after this one
        await alice.close()
        await carol.close()


RECONNECTING_CODES = {1011, 1012, 1013}  # close codes htmx's ws extension retries on


@pytest.fixture
def two_worker_server(tmp_path, redis_for_the_module):
    """`vibechat serve` with VIBECHAT_WORKERS=2 (and Redis), as `make run` would start it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIBECHAT_")}
    env.update(
        VIBECHAT_INSTANCE_PATH=str(tmp_path),
        VIBECHAT_PORT=str(port),
        VIBECHAT_WORKERS="2",
        VIBECHAT_REDIS_URL=redis_for_the_module.url,
        VIBECHAT_SECRET_KEY="several-workers-test",
        VIBECHAT_RATE_LIMITS="off",
        VIBECHAT_METRICS="on",
    )
    cli = [sys.executable, "-m", "vibechat.commands.cli"]
    subprocess.run([*cli, "migrate"], env=env, check=True, capture_output=True, timeout=60)
    server = subprocess.Popen([*cli, "serve"], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while not _healthy(base):
            assert server.poll() is None and time.monotonic() < deadline, "serve did not start"
            time.sleep(0.1)
        yield base, server
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(10)


def _healthy(base: str) -> bool:
    try:
        return httpx.get(base + "/healthz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


async def test_stopping_a_server_with_several_workers_tells_every_socket_to_reconnect(
    two_worker_server,
):
    """SIGTERM, as a deploy sends it: every socket gets a real close frame (not a
    dropped connection) with a code that pages reconnect on."""
    base, server = two_worker_server
    alice = await RemotePerson(base, unique("alice")).register()
    try:
        sockets = [await socket_on(alice, base) for _ in range(6)]
        await asyncio.sleep(0.5)
        server.send_signal(signal.SIGTERM)
        codes = []
        for socket in sockets:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 20)
            assert closed.value.rcvd is not None, "the connection dropped without a close frame"
            codes.append(closed.value.rcvd.code)
        print(f"\nclose codes on SIGTERM with 2 workers: {codes}")
        assert set(codes) <= RECONNECTING_CODES, codes
        assert await asyncio.to_thread(server.wait, 30) == 0
    finally:
        await alice.close()


async def test_metrics_from_either_worker_count_the_sockets_of_both(two_worker_server):
    """`vibechat serve` with 2 workers turns on prometheus_client's multiprocess mode:
    whichever worker answers the scrape, the figures are the sum over both."""
    base, _server = two_worker_server
    alice = await RemotePerson(base, unique("alice")).register()
    sockets = []
    try:
        # New connections each, so the kernel spreads them over both workers.
        sockets = [await socket_on(alice, base) for _ in range(8)]
        # Twelve scrapes on new connections: both workers answer some of them.
        counts = set()
        for _ in range(12):
            async with httpx.AsyncClient(base_url=base) as fresh:
                text = (await fresh.get("/metrics")).text
            counts.add(re.search(r"^vibechat_open_sockets (\S+)$", text, re.M)[1])
        assert counts == {"8.0"}, counts
    finally:
        for socket in sockets:
            await socket.close()
        await alice.close()


async def test_posts_through_both_processes_at_once_get_one_gapless_order(two_servers):
    """The per-chat seq stays gapless with writers in two processes on PostgreSQL."""
    first, second = two_servers
    alice = await RemotePerson(first.url, unique("alice")).register()
    bob = await RemotePerson(first.url, unique("bob")).register()
    bob_on_b = on(bob, second.url)
    try:
        chat = await new_chat(alice, bob)
        posts = [alice.post(f"/chats/{chat}/messages", {"body": f"a{n}"}) for n in range(15)]
        posts += [bob_on_b.post(f"/chats/{chat}/messages", {"body": f"b{n}"}) for n in range(15)]
        answers = await asyncio.gather(*posts)
        assert [answer.status_code for answer in answers] == [303] * 30
        page = await alice.http.get(f"/chats/{chat}")
        seqs = [int(seq) for _chat, seq, _rev in MESSAGE.findall(page.text)]
        assert seqs == list(range(1, 31))
    finally:
        for person in (alice, bob, bob_on_b):
            await person.close()
