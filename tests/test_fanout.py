"""Fan-out to a crowd: publishes that take turns and pause, envelopes opened once, a
backlog sent as one message, presence announced in batches, SQLite writers that queue
in the event loop.

Nothing here measures time. Where a test needs something to happen "meanwhile", it
holds one side back with an event; where it waits, it waits on what it expects, with
a timeout so that a missing frame fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import text

from tests.support.db import count, user_id
from tests.support.live import RECEIVE_TIMEOUT, live, opened, top_level
from tests.support.people import create_chat
from tests.support.services import POSTGRES_URL
from vibechat import queries
from vibechat.db import Database
from vibechat.live.broker import YIELD_EVERY, LocalBroker
from vibechat.live.envelope import chat_topic, open_envelope, seal
from vibechat.live.socket import MAX_JOINED_FRAMES, Connection
from vibechat.models import User, utcnow

TOWN_HALL = 1000  # sockets in a crowd: many times YIELD_EVERY


class Listener:
    """A broker subscriber that keeps what it hears, in order."""

    def __init__(self) -> None:
        self.heard: list[bytes] = []
        self._news = asyncio.Event()

    def __call__(self, data: bytes) -> None:
        self.heard.append(data)
        self._news.set()

    async def until(self, wanted, within: float = RECEIVE_TIMEOUT) -> bytes:
        """The first envelope heard (already or next) for which wanted(envelope) holds."""
        async with asyncio.timeout(within):
            while True:
                if found := next((data for data in self.heard if wanted(data)), None):
                    return found
                self._news.clear()
                await self._news.wait()


def frame(n: int) -> str:
    return f'<p id="n{n}" data-hx-swap-oob="true">frame {n}</p>'


def new_connection(broker: LocalBroker | None = None, queue_size: int = 100) -> Connection:
    """A Connection for alice (user 7) in chat 3, outside any socket."""
    return Connection(
        SimpleNamespace(broker=broker or LocalBroker()),
        SimpleNamespace(id=7, display_name="Alice Liddell"),
        "h7",
        utcnow() + timedelta(days=1),
        queue_size,
    )


# -- the broker --------------------------------------------------------------------------


async def test_publishes_take_turns_so_a_crowd_hears_them_in_publish_order():
    """A paused publish to the town hall is not overtaken by a later one to each person:
    someone late in the crowd's order still hears the town hall first."""
    broker = LocalBroker()
    crowd = [Listener() for _ in range(300)]
    for n, person in enumerate(crowd):
        broker.subscribe("chat:1", person)
        broker.subscribe(f"user:{n}", person)
    await asyncio.gather(
        broker.publish("chat:1", b"to the town hall"),
        *(broker.publish(f"user:{n}", b"to each person") for n in range(len(crowd))),
    )
    in_order = [b"to the town hall", b"to each person"]
    assert [n for n, person in enumerate(crowd) if person.heard != in_order] == []


async def test_a_publish_to_a_crowd_lets_other_tasks_run_before_it_finishes():
    broker = LocalBroker()
    crowd = [Listener() for _ in range(TOWN_HALL)]
    for person in crowd:
        broker.subscribe("chat:1", person)

    async def count_reached() -> int:
        return sum(1 for person in crowd if person.heard)

    assert TOWN_HALL > YIELD_EVERY  # else there would be no pause to see
    meanwhile = asyncio.create_task(count_reached())
    await broker.publish("chat:1", b"good morning")
    reached = await meanwhile
    assert 0 < reached < TOWN_HALL, "the task ran only before or after the whole publish"
    assert all(person.heard == [b"good morning"] for person in crowd)


class Bouncer:
    """A subscriber that, when it hears anything, unsubscribes someone else."""

    def __init__(self, broker: LocalBroker, topic: str, victim) -> None:
        self.broker, self.topic, self.victim = broker, topic, victim
        self.heard: list[bytes] = []

    def __call__(self, data: bytes) -> None:
        self.heard.append(data)
        self.broker.unsubscribe(self.topic, self.victim)


async def test_subscribers_may_come_and_go_while_a_publish_is_under_way():
    """Mid-publish, a subscriber unsubscribes another, and while the publish is paused a
    socket task unsubscribes half the crowd and a newcomer subscribes: the publish runs to
    the end over the crowd as it stood when it started."""
    broker = LocalBroker()
    crowd = [Listener() for _ in range(TOWN_HALL)]
    for person in crowd:
        broker.subscribe("chat:1", person)
    bounced = crowd[0]
    bouncer = Bouncer(broker, "chat:1", bounced)
    broker.subscribe("chat:1", bouncer)
    leaving, staying = crowd[1 : TOWN_HALL // 2], crowd[TOWN_HALL // 2 :]
    newcomer = Listener()

    async def come_and_go() -> None:
        for person in leaving:
            broker.unsubscribe("chat:1", person)
        broker.subscribe("chat:1", newcomer)

    meanwhile = asyncio.create_task(come_and_go())
    await broker.publish("chat:1", b"first")
    await meanwhile
    assert bouncer.heard == [b"first"]
    assert all(person.heard == [b"first"] for person in staying)
    assert all(len(person.heard) <= 1 for person in [bounced, *leaving])
    assert newcomer.heard == []

    await broker.publish("chat:1", b"second")
    assert all(person.heard == [b"first", b"second"] for person in staying)
    assert newcomer.heard == [b"second"]
    assert all(b"second" not in person.heard for person in [bounced, *leaving])
    assert broker.subscriber_count("chat:1") == len(staying) + 2  # the bouncer, the newcomer


# -- envelopes ---------------------------------------------------------------------------


async def test_an_envelope_is_opened_once_and_every_connection_queues_the_same_str():
    news = '<p id="news" data-hx-swap-oob="true">The town hall starts at ten.</p>'
    data = seal(news)
    control, opened = open_envelope(data)
    assert (control, opened) == ({}, news)
    again = open_envelope(data)
    assert again[1] is opened
    assert again[0] == control

    broker = LocalBroker()
    connections = [new_connection(broker) for _ in range(3)]
    for connection in connections:
        connection.listen()
        connection.follow({3})
    await broker.publish(chat_topic(3), data)
    assert all(connection.queue.get_nowait() is opened for connection in connections)

    other = '<p id="other" data-hx-swap-oob="true">Bring coffee.</p>'
    assert open_envelope(seal(other)) == ({}, other)
    assert open_envelope(data)[1] == news, "a cached envelope keeps its own frame"

    joining = seal(other, join=5)
    assert open_envelope(joining) == ({"join": 5}, other)
    assert open_envelope(joining)[1] is open_envelope(joining)[1]


# -- the sender --------------------------------------------------------------------------


class Wire:
    """Stands in for Quart's websocket in send_frames: keeps each message sent, and
    holds sends back while closed, like a phone on a bad network."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[str] = asyncio.Queue()
        self.busy = asyncio.Event()
        self.open = asyncio.Event()
        self.open.set()

    async def send(self, data: str) -> None:
        self.busy.set()
        await self.open.wait()
        self.messages.put_nowait(data)

    async def receive(self) -> str:
        return await asyncio.wait_for(self.messages.get(), RECEIVE_TIMEOUT)


@contextlib.asynccontextmanager
async def sending(connection: Connection, monkeypatch):
    """Run connection.send_frames() onto a Wire for the length of the block."""
    wire = Wire()
    monkeypatch.setattr("vibechat.live.socket.websocket", wire)
    sender = asyncio.create_task(connection.send_frames())
    try:
        yield wire
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender


async def test_a_backlog_goes_out_joined_in_order_a_bounded_number_of_frames_at_a_time(
    monkeypatch,
):
    assert MAX_JOINED_FRAMES == 32
    frames = [frame(n) for n in range(MAX_JOINED_FRAMES + 8)]
    connection = new_connection()
    for each in frames:
        connection.queue.put_nowait(each)
    async with sending(connection, monkeypatch) as wire:
        assert await wire.receive() == "".join(frames[:MAX_JOINED_FRAMES])
        assert await wire.receive() == "".join(frames[MAX_JOINED_FRAMES:])
    assert wire.messages.empty()


async def test_a_lone_frame_goes_out_as_it_is_and_what_piles_up_meanwhile_goes_out_together(
    monkeypatch,
):
    broker = LocalBroker()
    connection = new_connection(broker)
    connection.listen()
    connection.follow({3})
    async with sending(connection, monkeypatch) as wire:
        wire.open.clear()
        await broker.publish(chat_topic(3), seal(frame(0)))
        await asyncio.wait_for(wire.busy.wait(), RECEIVE_TIMEOUT)
        for n in range(1, 6):
            await broker.publish(chat_topic(3), seal(frame(n)))
        wire.open.set()
        messages = [await wire.receive(), await wire.receive()]
    assert messages == [frame(0), "".join(frame(n) for n in range(1, 6))]


# -- closing sockets ---------------------------------------------------------------------


def test_a_closing_connection_ignores_everything_delivered_even_a_join():
    broker = LocalBroker()
    connection = new_connection(broker)
    connection.closing.set()
    connection.deliver(seal('<p id="x" data-hx-swap-oob="true">x</p>', join=7))
    assert broker.subscriber_count(chat_topic(7)) == 0
    assert connection.queue.empty()


async def test_a_publish_paused_when_a_socket_closed_cannot_subscribe_it_again(app, alice, bob):
    """The handler marks its connection closed on the way out, so that a publish to a
    crowd which took its list of subscribers before the close, and resumes after it,
    finds the connection deaf; a "join" must not subscribe a socket that is gone."""
    live_state = app.extensions["live"]
    async with live(alice.client):
        (connection,) = live_state.connections
    plans = await create_chat(bob, "Plans", "alice")
    queued = connection.queue.qsize()
    item = f'<li id="chat-{plans}" data-hx-swap-oob="true">Plans</li>'
    connection.deliver(seal(item, join=plans))  # what the paused publish still does
    assert live_state.broker.subscriber_count(chat_topic(plans)) == 0
    assert connection.queue.qsize() == queued


# -- presence ----------------------------------------------------------------------------

# Wide enough that a loaded machine opens a few sockets within one batch: what is under
# test is that arrivals are batched, not how long a batch lasts.
BATCH = 1.0


def is_presence(data: bytes) -> bool:
    return 'id="presence-' in opened(data)


def presence_frames(listener: Listener) -> list[str]:
    return [opened(data) for data in listener.heard if is_presence(data)]


def presence_in(raw: str) -> list[tuple[int, str]]:
    """(person, "online" or "offline") for each presence element of a frame, sorted."""
    found = []
    for node in top_level(raw):
        assert node.css_matches("span.presence"), f"not a presence element: {node.html}"
        person = int(node.id.removeprefix("presence-"))
        state = node.text()
        assert node.attributes["data-online"] == ("1" if state == "online" else "0")
        found.append((person, state))
    return sorted(found)


async def test_people_arriving_together_are_announced_in_one_frame_per_chat(
    app, alice, bob, carol, db, monkeypatch
):
    monkeypatch.setattr("vibechat.live.presence.PRESENCE_BATCH", BATCH)
    town_hall = await create_chat(alice, "Town hall", "bob carol")
    people = [await user_id(db, name) for name in ("alice", "bob", "carol")]
    listener = Listener()
    app.extensions["live"].broker.subscribe(chat_topic(town_hall), listener)
    async with live(alice.client), live(bob.client), live(carol.client):
        await listener.until(is_presence, within=BATCH + RECEIVE_TIMEOUT)
        frames = presence_frames(listener)
    assert len(frames) == 1, frames
    assert presence_in(frames[0]) == sorted((person, "online") for person in people)


async def test_someone_who_comes_and_goes_within_a_batch_is_announced_once_as_gone(
    app, alice, bob, watercooler, db, monkeypatch
):
    monkeypatch.setattr("vibechat.live.presence.PRESENCE_BATCH", BATCH)
    alice_id, bob_id = await user_id(db, "alice"), await user_id(db, "bob")
    listener = Listener()
    app.extensions["live"].broker.subscribe(chat_topic(watercooler), listener)
    async with live(bob.client):
        async with live(alice.client):
            pass
        await listener.until(is_presence, within=BATCH + RECEIVE_TIMEOUT)
        frames = presence_frames(listener)
    assert len(frames) == 1, frames
    assert presence_in(frames[0]) == sorted([(alice_id, "offline"), (bob_id, "online")])


# -- writers -----------------------------------------------------------------------------


async def test_sqlite_writers_of_one_process_take_turns(sqlite_url):
    db = Database(sqlite_url)
    log: list[str] = []
    first_inside, first_may_finish = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with db.write() as session:
            await session.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: SQLite's write lock
            log.append("first in")
            first_inside.set()
            await first_may_finish.wait()
        log.append("first out")

    async def second() -> None:
        async with db.write() as session:
            log.append("second in")
            await session.execute(text("SELECT 1"))

    writers = [asyncio.create_task(first())]
    try:
        await asyncio.wait_for(first_inside.wait(), RECEIVE_TIMEOUT)
        writers.append(asyncio.create_task(second()))
        for _ in range(10):  # turns of the loop, not time: the second writer tries to enter
            await asyncio.sleep(0)
        assert log == ["first in"]
        first_may_finish.set()
        await asyncio.wait_for(asyncio.gather(*writers), RECEIVE_TIMEOUT)
        assert log == ["first in", "first out", "second in"]
    finally:
        first_may_finish.set()
        await asyncio.gather(*writers, return_exceptions=True)
        await db.dispose()


async def test_sqlite_writers_wait_in_the_event_loop_not_in_sqlites_busy_handler(
    sqlite_url, monkeypatch
):
    """With SQLite's busy handler switched off, a writer that met another inside SQLite
    would fail at once ("database is locked"): thirty that overlap all commit."""
    monkeypatch.setattr("vibechat.db.SQLITE_BUSY_TIMEOUT_MS", 0)
    db = Database(sqlite_url)

    async def register(n: int) -> None:
        async with db.write() as session:
            await queries.create_user(session, f"guest{n}", f"Guest {n}", "not-a-hash")
            await asyncio.sleep(0.01)  # a slow turn of the loop with the write lock held
            await session.commit()

    try:
        await asyncio.gather(*(register(n) for n in range(30)))
        assert await count(db, User) == 30
    finally:
        await db.dispose()


async def test_postgresql_writers_do_not_queue_in_the_process():
    """PostgreSQL orders writers itself, by row: two writers are inside write() at once.
    Neither runs a query, so no server is needed."""
    db = Database(POSTGRES_URL)
    first_inside, both_inside = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with db.write():
            first_inside.set()
            await both_inside.wait()

    async def second() -> None:
        await first_inside.wait()
        async with db.write():
            both_inside.set()

    try:
        await asyncio.wait_for(asyncio.gather(first(), second()), RECEIVE_TIMEOUT)
    except TimeoutError:
        pytest.fail("the second writer waited for the first to leave write()")
    finally:
        await db.dispose()
