"""The scenarios, each run against the real app and against the reference server.

Every function starts its own server, drives it over 127.0.0.1, stops it, and returns
{figure: value}; the same figure names for the app and for the reference, so that
bench/run.py can print their ratio. Each figure's counts and times are bounded by the
Sizes passed in.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench import load, servers
from bench.population import PASSWORD, SECRET_KEY, Person, Population

DELIVERY_DEADLINE = 90.0  # seconds to wait for the last delivery of a round
BODY = "{key} A message of a typical length, like the ones people send each other."


@dataclass(frozen=True)
class Sizes:
    hall_members: int = 1000
    hall_posts: int = 100
    hall_senders: int = 4
    office_chats: int = 200
    office_size: int = 10
    office_rate: float = 20.0
    office_seconds: float = 60.0
    idle_sockets: int = 10_000
    history_readers: int = 20
    history_seconds: float = 10.0
    posting_senders: int = 20
    posting_seconds: float = 10.0


QUICK = Sizes(
    hall_members=40,
    hall_posts=10,
    hall_senders=2,
    office_chats=4,
    office_size=5,
    office_rate=10.0,
    office_seconds=2.0,
    idle_sockets=50,
    history_readers=4,
    history_seconds=1.0,
    posting_senders=4,
    posting_seconds=1.0,
)


# -- servers ----------------------------------------------------------------------------


@contextmanager
def app_server(folder: Path, database_url: str):
    settings = {
        "VIBECHAT_DATABASE_URL": database_url,
        "VIBECHAT_SECRET_KEY": SECRET_KEY,
        "VIBECHAT_INSTANCE_PATH": str(folder),
        "VIBECHAT_RATE_LIMITS": "off",  # the benchmark posts at machine speed
        "VIBECHAT_REDIS_URL": "",
    }
    with servers.serve("bench.served:app", folder / "app.log", settings) as server:
        yield server


def reference_server(folder: Path):
    return servers.serve("bench.reference:app", folder / "reference.log")


def sqlite_url(folder: Path, name: str) -> str:
    return f"sqlite+aiosqlite:///{folder / name}.sqlite3"


@asynccontextmanager
async def postgres_database(admin_url: str):
    """A fresh database on the PostgreSQL server of admin_url, dropped afterwards."""
    name = f"vibechat_bench_{uuid.uuid4().hex[:10]}"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


def stalls(probe: dict) -> dict:
    return {"max stall ms": probe["max_stall_ms"], "max GC pause ms": probe["max_gc_ms"]}


# -- people and posters -----------------------------------------------------------------


def client_for(server: servers.Server, person: Person | None = None) -> httpx.AsyncClient:
    headers = {"Cookie": person.cookie} if person else {}
    return httpx.AsyncClient(base_url=server.base, headers=headers, timeout=60)


async def signed_in(server: servers.Server, username: str, *, new: bool) -> httpx.AsyncClient:
    """Sign up through /register (new) or in through /login, as a browser does."""
    path = "/register" if new else "/login"
    client = client_for(server)
    page = await client.get(path)
    token = load.TOKEN.search(page.text)[1]
    form = {"csrf_token": token, "username": username, "password": PASSWORD}
    load.expect(await client.post(path, data=form), 303)
    return client


async def app_poster(client: httpx.AsyncClient, chat_id: int) -> load.Poster:
    token = await load.csrf_token(client)

    async def post(key: str) -> None:
        form = {"csrf_token": token, "body": BODY.format(key=key)}
        load.expect(await client.post(f"/chats/{chat_id}/messages", data=form), 303)

    return post


def reference_poster(client: httpx.AsyncClient, room: str) -> load.Poster:
    async def post(key: str) -> None:
        response = await client.post(f"/broadcast?room={room}", data={"body": key})
        load.expect(response, 204)

    return post


async def close_all(clients) -> None:
    await asyncio.gather(*(client.aclose() for client in clients))


# -- delivery rounds --------------------------------------------------------------------


async def delivery_round(
    server: servers.Server,
    listeners: list[load.Listener],
    posting,
    expected_per_post: int,
    posts: int,
    *,
    compress: bool,
) -> dict:
    """Connect the crowd, let it settle, post, wait for every delivery, disconnect."""
    tally = load.Tally(expected=expected_per_post * posts)
    crowd = load.Crowd(server.host, server.port, tally, compress=compress)
    server.probe()  # a new stall window
    await crowd.connect(listeners)
    await crowd.settle()
    connecting = server.probe()
    started = await posting(tally)
    await load.wait_for(tally, DELIVERY_DEADLINE)
    figures = tally.figures(started)
    figures["refused sockets"] = crowd.refused
    figures["closed by server"] = crowd.closed
    posted = server.probe()
    figures.update(stalls(posted))  # while posting
    if "message_renders" in posted:  # the app's, not the reference's
        renders = posted["message_renders"] - connecting["message_renders"]
        figures["renders per message"] = renders / posts
    figures["max stall connecting ms"] = connecting["max_stall_ms"]
    if compress and not crowd.compressed:
        raise RuntimeError("the server refused permessage-deflate")
    await crowd.close()
    return figures


# -- town hall: one chat, everyone in it, posts as fast as they are taken ---------------


async def town_hall_round(server, listeners, posters, sizes: Sizes, compress: bool) -> dict:
    """Every speaker posts its share of hall_posts as fast as it is taken; all hear all."""
    return await delivery_round(
        server,
        listeners,
        lambda tally: load.post_all(tally, posters, sizes.hall_posts),
        len(listeners),
        sizes.hall_posts,
        compress=compress,
    )


async def app_town_hall(folder: Path, sizes: Sizes, compress: bool) -> dict:
    url = sqlite_url(folder, f"hall-{compress}")
    async with Population(url) as population:
        with app_server(folder, url) as server:
            senders = [
                await signed_in(server, f"speaker{n}", new=True) for n in range(sizes.hall_senders)
            ]
            # Half the crowd reads Russian, half English (issue 16): a frame is rendered
            # once per language, never once per reader ("renders per message": 2).
            crowd = await population.people(
                sizes.hall_members - sizes.hall_senders, "hall", languages=("en", "ru")
            )
            speaker_ids = await population.user_ids([f"speaker{n}" for n in range(len(senders))])
            chat = await population.chat("Town hall", speaker_ids + [p.id for p in crowd])
            speakers = [
                await signed_in(server, f"speaker{n}", new=False) for n in range(len(senders))
            ]
            posters = [await app_poster(client, chat) for client in speakers]
            listeners = [load.Listener("/ws", p.cookie) for p in crowd]
            listeners += [
                load.Listener("/ws", f"vibechat_session={c.cookies['vibechat_session']}")
                for c in senders
            ]
            figures = await town_hall_round(server, listeners, posters, sizes, compress)
            await close_all(senders + speakers)
    return figures


async def reference_town_hall(folder: Path, sizes: Sizes, compress: bool) -> dict:
    with reference_server(folder) as server:
        clients = [client_for(server) for _ in range(sizes.hall_senders)]
        posters = [reference_poster(client, "hall") for client in clients]
        listeners = [load.Listener("/ws?room=hall") for _ in range(sizes.hall_members)]
        figures = await town_hall_round(server, listeners, posters, sizes, compress)
        await close_all(clients)
    return figures


# -- office: many small chats, a steady trickle of posts --------------------------------


async def office_round(server, listeners, posters, sizes: Sizes) -> dict:
    """office_rate posts a second, round-robin over the chats; each reaches its chat."""
    return await delivery_round(
        server,
        listeners,
        lambda tally: load.post_at_rate(tally, posters, sizes.office_rate, sizes.office_seconds),
        sizes.office_size,
        int(sizes.office_rate * sizes.office_seconds),
        compress=True,
    )


async def app_office(folder: Path, sizes: Sizes) -> dict:
    url = sqlite_url(folder, "office")
    async with Population(url) as population:
        people = await population.people(sizes.office_chats * sizes.office_size, "office")
        groups = [
            people[n : n + sizes.office_size] for n in range(0, len(people), sizes.office_size)
        ]
        chats = [
            await population.chat(f"Office {n}", [p.id for p in group])
            for n, group in enumerate(groups)
        ]
        with app_server(folder, url) as server:
            clients = [client_for(server, group[0]) for group in groups]
            posters = [
                await app_poster(client, chat) for client, chat in zip(clients, chats, strict=True)
            ]
            listeners = [load.Listener("/ws", p.cookie) for p in people]
            figures = await office_round(server, listeners, posters, sizes)
            await close_all(clients)
    return figures


async def reference_office(folder: Path, sizes: Sizes) -> dict:
    with reference_server(folder) as server:
        clients = [client_for(server) for _ in range(sizes.office_chats)]
        posters = [reference_poster(client, str(n)) for n, client in enumerate(clients)]
        listeners = [
            load.Listener(f"/ws?room={n}")
            for n in range(sizes.office_chats)
            for _ in range(sizes.office_size)
        ]
        figures = await office_round(server, listeners, posters, sizes)
        await close_all(clients)
    return figures


# -- idle: memory per connected socket --------------------------------------------------


async def held_memory(server: servers.Server, listeners: list[load.Listener]) -> dict:
    tally = load.Tally()
    crowd = load.Crowd(server.host, server.port, tally, compress=True)
    before = server.probe()["rss_bytes"]
    started = time.perf_counter()
    await crowd.connect(listeners)
    connected = time.perf_counter() - started
    await crowd.settle()
    probe = server.probe()
    held = len(crowd.sockets) - crowd.closed
    await crowd.close()
    return {
        "KB per socket": (probe["rss_bytes"] - before) / held / 1024,
        "sockets held": held,
        "refused sockets": crowd.refused,
        "connects/s": len(listeners) / connected,
        **stalls(probe),
    }


async def app_idle(folder: Path, sizes: Sizes) -> dict:
    url = sqlite_url(folder, "idle")
    async with Population(url) as population:
        people = await population.people(sizes.idle_sockets, "idle")
        for n in range(0, len(people), 10):  # everyone is in one chat of ten
            await population.chat(f"Team {n // 10}", [p.id for p in people[n : n + 10]])
        with app_server(folder, url) as server:
            return await held_memory(server, [load.Listener("/ws", p.cookie) for p in people])


async def reference_idle(folder: Path, sizes: Sizes) -> dict:
    with reference_server(folder) as server:
        listeners = [load.Listener(f"/ws?room={n // 10}") for n in range(sizes.idle_sockets)]
        return await held_memory(server, listeners)


# -- history: reading a chat page and older messages ------------------------------------


async def read_concurrently(server, clients, path: str, sizes: Sizes, htmx: bool) -> dict:
    headers = {"HX-Request": "true"} if htmx else {}
    server.probe()

    async def request(client) -> None:
        load.expect(await client.get(path, headers=headers), 200)

    workers = [lambda client=client: request(client) for client in clients]
    figures = await load.timed_requests(workers, sizes.history_seconds)
    figures.update(stalls(server.probe()))
    return figures


async def app_history(folder: Path, sizes: Sizes) -> dict[str, dict]:
    url = sqlite_url(folder, "history")
    async with Population(url) as population:
        readers = await population.people(sizes.history_readers, "reader")
        chat = await population.chat("History", [p.id for p in readers], messages=200)
        with app_server(folder, url) as server:
            clients = [client_for(server, person) for person in readers]
            page = await read_concurrently(server, clients, f"/chats/{chat}", sizes, htmx=False)
            older = await read_concurrently(
                server, clients, f"/chats/{chat}/messages?before=151", sizes, htmx=True
            )
            await close_all(clients)
    return {"chat page": page, "older messages": older}


async def reference_history(folder: Path, sizes: Sizes) -> dict[str, dict]:
    with reference_server(folder) as server:
        clients = [client_for(server) for _ in range(sizes.history_readers)]
        page = await read_concurrently(server, clients, "/page", sizes, htmx=False)
        await close_all(clients)
    return {"chat page": page, "older messages": page}


# -- posting: how many posts the app stores ---------------------------------------------


async def post_concurrently(server, posters: list[load.Poster], sizes: Sizes) -> dict:
    counter = iter(range(10**9))
    server.probe()
    figures = await load.timed_requests(
        [lambda poster=poster: poster(load.marker(next(counter))) for poster in posters],
        sizes.posting_seconds,
    )
    figures["posts/s"] = figures.pop("requests/s")
    figures.update(stalls(server.probe()))
    return figures


async def app_posting(folder: Path, sizes: Sizes, url: str) -> dict:
    async with Population(url) as population:
        senders = await population.people(sizes.posting_senders, "sender")
        chat = await population.chat("Busy", [p.id for p in senders])
        with app_server(folder, url) as server:
            clients = [client_for(server, person) for person in senders]
            posters = [await app_poster(client, chat) for client in clients]
            figures = await post_concurrently(server, posters, sizes)
            await close_all(clients)
    return figures


async def reference_posting(folder: Path, sizes: Sizes) -> dict:
    with reference_server(folder) as server:
        clients = [client_for(server) for _ in range(sizes.posting_senders)]

        def poster(client):
            async def post(key: str) -> None:
                load.expect(await client.post("/post", data={"body": key}), 303)

            return post

        figures = await post_concurrently(server, [poster(c) for c in clients], sizes)
        await close_all(clients)
    return figures
