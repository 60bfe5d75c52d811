"""Graceful shutdown against a real hypercorn process: SIGTERM closes every socket with
1012 at once, stops accepting, and lets a request in flight finish; whichever process the
signal reaches (the main one, or the whole process group), with one worker or two."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypercorn.asyncio import run as hypercorn_worker
from websockets.exceptions import ConnectionClosed

from tests.support.redis import RedisServer
from tests.support.remote import RemotePerson, new_chat, unique
from tests.support.servers import PROJECT_ROOT, free_port, restartable_server, server_env
from vibechat import shutdown
from vibechat.live.hub import RECONNECT

# Real servers, started and stopped eleven times (about 25 s in all).
pytestmark = pytest.mark.slow

SOCKETS = 3


def ws_closed_code(closed: pytest.ExceptionInfo) -> int:
    assert closed.value.rcvd is not None, "the connection dropped without a close frame"
    return closed.value.rcvd.code


async def start_posting(base: str, person: RemotePerson, chat: int, body: str):
    """A POST whose body is only half sent: a request in flight. Returns the stream and
    the rest of the body."""
    port = int(base.rsplit(":", 1)[1])
    form = urllib.parse.urlencode(
        {"csrf_token": person.token, "body": body, "client_token": unique("token")}
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
        alice = await RemotePerson(server.url, unique("alice")).register()
        bob = await RemotePerson(server.url, unique("bob")).register()
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
        alice = await RemotePerson(server.url, unique("alice")).register()
        bob = await RemotePerson(server.url, unique("bob")).register()
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


@contextlib.contextmanager
def sigterm_restored():
    """The trigger makes this process's loop handle SIGTERM: undo that afterwards."""
    before = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, before)


@contextlib.contextmanager
def hooked():
    ran = []

    def hook() -> None:
        ran.append("stopped")

    shutdown.on_stopping(hook)
    try:
        yield ran
    finally:
        shutdown.forget(hook)


async def test_the_wrapped_trigger_returns_when_hypercorns_event_is_set_then_runs_the_hooks():
    shutdown.install()
    trigger = hypercorn_worker.check_multiprocess_shutdown_event
    assert trigger.tells_vibechat
    shutdown.install()
    assert hypercorn_worker.check_multiprocess_shutdown_event is trigger, "installed twice"
    event = multiprocessing.get_context("spawn").Event()
    with hooked() as ran, sigterm_restored():
        waiting = asyncio.ensure_future(trigger(event, asyncio.sleep))
        await asyncio.sleep(0.25)
        assert not waiting.done() and ran == []
        event.set()
        await asyncio.wait_for(waiting, 2)
        assert ran == ["stopped"]


async def test_the_wrapped_trigger_returns_on_the_workers_own_sigterm_then_runs_the_hooks():
    """SIGTERM sent to the whole process group reaches each worker too: it stops as if
    the main process had set the event (which it may not have done yet)."""
    shutdown.install()
    trigger = hypercorn_worker.check_multiprocess_shutdown_event
    event = multiprocessing.get_context("spawn").Event()  # never set
    with hooked() as ran, sigterm_restored():
        default = signal.getsignal(signal.SIGTERM)
        waiting = asyncio.ensure_future(trigger(event, asyncio.sleep))
        await asyncio.sleep(0.25)
        assert not waiting.done() and ran == []
        # Handled now; otherwise the signal would end this test run.
        assert signal.getsignal(signal.SIGTERM) is not default
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(waiting, 2)
        assert ran == ["stopped"]
        assert not event.is_set()


# Every way a server is told to stop, and who stops it that way (docs/operations.md).
TO_THE_MAIN_PROCESS = "SIGTERM to the main process"  # docker stop, Kubernetes, `kill <pid>`
TO_THE_GROUP = "SIGTERM to the process group"  # Procfile platforms, honcho, systemd
CTRL_C = "SIGINT to the process group"  # Ctrl+C in a terminal
GRACE = 10  # VIBECHAT_GRACEFUL_TIMEOUT: sockets must not wait for it...
CLOSED_WITHIN = 3.0  # ...they close at once (hypercorn polls its event every 0.1 s)
SOCKETS_PER_WORKER = 2
CLI = [sys.executable, "-m", "vibechat.commands.cli"]


def tell(process: subprocess.Popen, way: str) -> None:
    if way == TO_THE_MAIN_PROCESS:
        process.send_signal(signal.SIGTERM)
    else:  # the server leads a group of its own (start_new_session): its pid is the group's
        os.killpg(process.pid, signal.SIGINT if way == CTRL_C else signal.SIGTERM)


def children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found |= {int(child) for child in (task / "children").read_text().split()}
    return found


def server_side_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of our connection (/proc/net/tcp, IPv4 loopback)."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == local and fields[2] == remote:
            return fields[9]
    return None


@dataclass
class Served:
    """`vibechat serve` in a process group of its own, as a platform or a terminal runs
    it, on a copy of a migrated database."""

    instance: Path
    workers: int
    redis_url: str | None = None
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, database: Path) -> None:
        shutil.copy(database, self.instance / database.name)
        env = server_env(self.instance, self.port)
        env.update(
            VIBECHAT_WORKERS=str(self.workers),
            VIBECHAT_GRACEFUL_TIMEOUT=str(GRACE),
            # serve would otherwise make a new folder for every run's counters
            PROMETHEUS_MULTIPROC_DIR=str(self.instance),
        )
        if self.redis_url:
            env["VIBECHAT_REDIS_URL"] = self.redis_url
        with (self.instance / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*CLI, "serve"],
                cwd=PROJECT_ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 20
        while not self.answers() or len(self.worker_pids()) < self.workers:
            assert self.process.poll() is None, f"serve exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"serve did not start:\n{self.log()}"
            time.sleep(0.1)

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=1) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def worker_pids(self) -> set[int]:
        """hypercorn's workers: the main process's children that multiprocessing spawned
        to run one (its other child is multiprocessing's resource tracker)."""
        pids = set()
        for pid in children(self.process.pid):
            with contextlib.suppress(OSError):
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    pids.add(pid)
        return pids

    def worker_holding(self, client_port: int, within: float = 2.0) -> int:
        """The worker that accepted our connection from client_port."""
        deadline = time.monotonic() + within
        while True:
            inode = server_side_inode(self.port, client_port)
            for pid in self.worker_pids() if inode else ():
                for fd in Path(f"/proc/{pid}/fd").iterdir():
                    with contextlib.suppress(OSError):
                        if os.readlink(fd) == f"socket:[{inode}]":
                            return pid
            assert time.monotonic() < deadline, f"no worker holds the connection {client_port}"
            time.sleep(0.05)

    def log(self) -> str:
        return (self.instance / "server.log").read_text(errors="replace")[-4000:]

    def end(self) -> None:
        """Whatever happened, leave no process of the group behind."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> Path:
    """One migrated SQLite file that every server of the module starts from a copy of."""
    instance = tmp_path_factory.mktemp("migrated")
    env = server_env(instance, free_port())
    done = subprocess.run(
        [*CLI, "migrate"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return instance / "vibechat.sqlite3"


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    """A Redis of the module's own: pub/sub channels are not per database number, so on
    a shared server other runs would hear our frames and we theirs."""
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server.url
    server.stop()


@contextlib.asynccontextmanager
async def serving(instance: Path, database: Path, workers: int, redis_url: str | None = None):
    """A started server, Alice and Bob signed up on it and a chat of theirs."""
    server = Served(instance, workers, redis_url)
    alice = RemotePerson(server.url, unique("alice"))
    bob = RemotePerson(server.url, unique("bob"))
    try:
        await asyncio.to_thread(server.start, database)
        await alice.register()
        await bob.register()
        yield server, alice, bob, await new_chat(alice, bob)
    finally:
        await alice.close()
        await bob.close()
        server.end()


async def on_every_worker(server: Served, open_one, need: int) -> list:
    """Open connections until every worker holds `need` of them (the kernel hands each
    new one to whichever worker accepts first)."""
    held: Counter[int] = Counter()
    opened = []
    for _ in range(need * server.workers * 8):
        connection, client_port = await open_one()
        opened.append(connection)
        held[await asyncio.to_thread(server.worker_holding, client_port)] += 1
        if len(held) == server.workers and min(held.values()) >= need:
            return opened
    pytest.fail(f"the connections did not reach every worker: {dict(held)}")


async def open_sockets(server: Served, person: RemotePerson) -> list:
    async def one():
        ws = await person.socket()
        return ws, ws.local_address[1]

    return await on_every_worker(server, one, SOCKETS_PER_WORKER)


async def start_posts(server: Served, person: RemotePerson, chat: int) -> list:
    """Half-sent POSTs (requests in flight), one on every worker at least."""

    async def one():
        started = await start_posting(server.url, person, chat, unique("said while stopping"))
        return started, started[1].get_extra_info("sockname")[1]

    posts = await on_every_worker(server, one, 1)
    await asyncio.sleep(0.3)  # every request has reached its handler, which awaits the form
    return posts


async def close_code(ws, within: float) -> int:
    with pytest.raises(ConnectionClosed) as closed:
        async with asyncio.timeout(within):
            while True:  # presence frames may come first
                await ws.recv()
    return ws_closed_code(closed)


async def finish_posts(posts: list) -> list[str]:
    """Send the rest of every body: each answer's status line and Location."""
    answers = []
    for reader, writer, rest in posts:
        writer.write(rest)
        await writer.drain()
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GRACE)).decode()
        writer.close()
        location = re.search(r"(?im)^location: (\S+)", head)
        answers.append(f"{head.splitlines()[0]} {location[1] if location else '(none)'}")
    return answers


def stored(chat: int) -> re.Pattern:
    """A form post's answer once its message is committed: 303 to the message."""
    return re.compile(rf"HTTP/1\.1 303 \S* ?/chats/{chat}#msg-{chat}-\d+$")


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("way", [TO_THE_MAIN_PROCESS, TO_THE_GROUP, CTRL_C])
async def test_every_way_of_stopping_closes_every_socket_with_1012_and_finishes_requests_in_flight(
    way, workers, tmp_path, migrated, request
):
    redis_url = request.getfixturevalue("private_redis") if workers > 1 else None
    async with serving(tmp_path, migrated, workers, redis_url) as (server, alice, bob, chat):
        sockets = await open_sockets(server, alice)
        posts = await start_posts(server, bob, chat)

        tell(server.process, way)
        # At once, not after the grace period: every socket on every worker.
        codes = await asyncio.gather(*(close_code(ws, CLOSED_WITHIN) for ws in sockets))
        assert codes == [RECONNECT] * len(sockets), server.log()
        # And every request in flight, on every worker, still completes.
        answers = await finish_posts(posts)
        assert all(stored(chat).match(answer) for answer in answers), (answers, server.log())
        assert await asyncio.to_thread(server.process.wait, GRACE + 10) == 0, server.log()


async def test_sigterm_to_one_worker_alone_stops_it_gracefully_and_another_takes_its_place(
    tmp_path, migrated
):
    """`kill <worker pid>`: that worker stops as the whole server would; the main process
    starts another one, and the server goes on serving."""
    async with serving(tmp_path, migrated, workers=1) as (server, alice, bob, chat):
        sockets = await open_sockets(server, alice)
        posts = await start_posts(server, bob, chat)
        (worker,) = server.worker_pids()

        os.kill(worker, signal.SIGTERM)
        codes = await asyncio.gather(*(close_code(ws, CLOSED_WITHIN) for ws in sockets))
        assert codes == [RECONNECT] * len(sockets), server.log()
        answers = await finish_posts(posts)
        assert all(stored(chat).match(answer) for answer in answers), (answers, server.log())

        deadline = time.monotonic() + 20
        while not (server.worker_pids() - {worker} and server.answers()):
            assert time.monotonic() < deadline, f"no new worker:\n{server.log()}"
            await asyncio.sleep(0.1)
        assert server.process.poll() is None
        assert (await bob.http.get(f"/chats/{chat}")).status_code == 200
        tell(server.process, TO_THE_MAIN_PROCESS)
        assert await asyncio.to_thread(server.process.wait, GRACE + 10) == 0, server.log()
