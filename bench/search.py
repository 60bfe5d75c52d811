"""Search at a million messages (issue 18): how long `queries.search_messages` takes for
each kind of query, on SQLite and on PostgreSQL, what the index costs a post, and how
big it is.

    .venv/bin/python -m bench.search [--quick] [--postgres URL] [--explain]

1,000,000 messages in 1,000 chats (1,000 each, spread over a year; a third of the
chats mostly Russian, the rest mostly English; bench/search_corpus.py) are written
with multi-row INSERTs (SQLite) or COPY (PostgreSQL) in 50,000-row transactions into a
database made by the real migrations, so the index is filled as in production: by
migration 0006's triggers on SQLite, by its generated column and GIN index on
PostgreSQL. The PostgreSQL copy is read from the SQLite file of the same run (the same
messages). Both live in the run's temporary folder or database and are gone at its end.

One person, the searcher, is in 100 of the chats. Each kind of query ("shape") runs
with words of its class, the way the search page runs it: `search.parse`, then
`search_messages` in a fresh `Database.read()` session (a count up to
SEARCH_COUNT_CAP + 1, then a page of 20). Every query once to warm up, then `runs`
timed ones per shape, the shapes taking turns; a shape stops early when its timed
runs have taken `shape_seconds` (the table says how many ran). The chat page's query
(`latest_messages`, 50 messages) is timed the same way, as a reference.

Posting: `posts` messages, each in its own write transaction through
`membership_in(lock=True)` and `post_message` as the posting view does, into the
database and into a copy of it without the index (SQLite: the three triggers
dropped; PostgreSQL: the index and the generated column dropped), the two taking
turns in POSTING_ROUNDS rounds so that the machine's noise falls on both alike.

Targets (issue 18): p99 ≤ 100 ms for every shape on both engines, and posting with the
index at ≥ 0.8 of the rate without. Also part of `make bench` ("search"). --explain
prints each shape's plans (PostgreSQL: EXPLAIN ANALYZE as a pooled connection runs the
statement, prepared and already executed five times; SQLite: EXPLAIN QUERY PLAN).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import platform
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
from sqlalchemy import event, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine

from bench.load import percentile
from bench.scenarios import postgres_database
from bench.search_corpus import Corpus
from vibechat import queries, schema, search
from vibechat.db import Database
from vibechat.models import User

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
TARGET_P99_MS = 100.0
TARGET_POSTING_RATIO = 0.8
POSTING_ROUNDS = 10  # with and without the index take turns this many times
BATCH = 50_000  # rows per INSERT … executemany / COPY, each batch its own transaction
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a datetime in SQLite


@dataclass(frozen=True)
class Sizes:
    chats: int = 1000
    per_chat: int = 1000  # messages in each chat
    searcher_chats: int = 100
    people: int = 2000
    members: int = 8  # people in each chat besides the searcher (where she is)
    runs: int = 200  # timed searches per shape ...
    shape_seconds: float = 30.0  # ... unless they take longer than this in all
    posts: int = 2000  # timed posts with the index, and as many without it
    warm_up_posts: int = 50


QUICK = Sizes(
    chats=50, per_chat=100, searcher_chats=10, people=100, runs=20, posts=100, warm_up_posts=5
)

# What people type, by shape. Every bare word is a prefix (vibechat/search.py).
COMMON_WORDS = [
    "the", "and", "you", "that", "this", "today", "message", "please", "thanks", "work",
    "и", "не", "что", "это", "сегодня", "сообщение", "спасибо", "можно", "надо", "завтра",
]  # fmt: skip
PREFIXES = [
    "mess", "sear", "runn", "test", "buil", "deplo", "rele", "meet", "upd", "serv", "revi",
    "docu", "поис", "сообщ", "бывш", "встреч", "релиз", "сервер", "ошиб", "задач",
    "провер", "обнов", "клиент", "заказ",
]  # fmt: skip
PHRASES = [
    '"pull request"', '"release notes"', '"code review"', '"status update"', '"dark mode"',
    '"error message"', '"unit tests"', '"next week"', '"база данных"', '"рабочий день"',
    '"служба поддержки"', '"номер заказа"', '"результаты поиска"', '"тёмная тема"',
    '"бывший клиент"', '"в пятницу"',
]  # fmt: skip
TWO_WORDS = [
    "deploy friday", "server error", "test build", "meeting tomorrow", "customer invoice",
    "review branch", "search page", "password login", "release today", "bug fix",
    "ошибка сервера", "встреча завтра", "задача проект", "клиент заказ",
    "проверить тесты", "сообщение поиск", "отчет пятницу", "релиз сегодня",
]  # fmt: skip
SHAPES = ("common word", "rare word", "prefix", "phrase", "two words", "one chat, common word")
REFERENCE = "chat page (reference)"


def rare_words(corpus: Corpus, count: int = 20) -> list[str]:
    """Words from the far end of each language's tail: a few dozen uses in a million."""
    picked = []
    for language in (corpus.english, corpus.russian):
        tail = language.words[len(language.words) // 3 :]
        step = len(tail) // (count // 2)
        picked += [tail[n * step] for n in range(count // 2)]
    return picked


# -- the world ----------------------------------------------------------------------------


@dataclass
class World:
    """Who is in which chat, and every message's place (in time order: its id)."""

    sizes: Sizes
    searcher: int = 1
    searcher_chats: list[int] = field(default_factory=list)
    members: dict[int, list[int]] = field(default_factory=dict)
    russian_chats: set[int] = field(default_factory=set)
    # (chat, seq, author, created_at) by created_at: a message's id is its index + 1.
    slots: list[tuple[int, int, int, datetime]] = field(default_factory=list)
    start: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(days=365))

    @classmethod
    def made(cls, sizes: Sizes, seed: int = 18) -> World:
        rng = random.Random(seed)
        world = cls(sizes)
        every = sizes.chats // sizes.searcher_chats
        world.searcher_chats = [chat for chat in range(1, sizes.chats + 1) if chat % every == 1]
        year = 365 * 86400
        slots = []
        for chat in range(1, sizes.chats + 1):
            members = rng.sample(range(2, sizes.people + 1), sizes.members)
            if chat in world.searcher_chats:
                members.insert(rng.randrange(len(members) + 1), world.searcher)
            world.members[chat] = members
            if chat % 3 == 0:
                world.russian_chats.add(chat)
            times = sorted(rng.random() * year for _ in range(sizes.per_chat))
            authors = rng.choices(members, k=sizes.per_chat)
            slots += [(t, chat, seq, authors[seq - 1]) for seq, t in enumerate(times, 1)]
        slots.sort()
        world.slots = [
            (chat, seq, author, world.start + timedelta(seconds=t))
            for t, chat, seq, author in slots
        ]
        return world

    @property
    def messages(self) -> int:
        return len(self.slots)

    def people_rows(self) -> list[tuple]:
        return [
            (n, f"p{n}", f"p{n}", f"Person {n}", "not a password hash", self.start)
            for n in range(1, self.sizes.people + 1)
        ]

    def chat_rows(self) -> list[tuple]:
        last = {chat: when for chat, _seq, _author, when in self.slots}
        n = self.sizes.per_chat
        return [
            (chat, "group", f"Chat {chat}", members[0], self.start, n, n, last[chat])
            for chat, members in self.members.items()
        ]

    def membership_rows(self) -> list[tuple]:
        n = self.sizes.per_chat
        return [
            (chat, person, "owner" if k == 0 else "member", self.start, n)
            for chat, members in self.members.items()
            for k, person in enumerate(members)
        ]


PEOPLE_COLUMNS = ["id", "username", "username_key", "display_name", "password_hash", "created_at"]
CHAT_COLUMNS = ["id", "kind", "title", "created_by", "created_at", "last_seq", "last_rev",
                "last_activity_at"]  # fmt: skip
MEMBERSHIP_COLUMNS = ["chat_id", "user_id", "role", "joined_at", "last_read_seq"]
MESSAGE_COLUMNS = ["id", "chat_id", "seq", "rev", "author_id", "body", "created_at"]


def _insert(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


def _sqlite_values(row: tuple) -> tuple:
    return tuple(v.strftime(SQLITE_TIME) if isinstance(v, datetime) else v for v in row)


def _load_sqlite(path: Path, world: World, corpus: Corpus) -> float:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")  # as the app has it (vibechat/db.py)
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        # Messages go in by time, so across every chat's index entries at once: a big
        # cache for this connection keeps those pages in memory (the default is 2 MB).
        connection.execute("PRAGMA cache_size=-1000000")
        connection.execute("BEGIN")
        for table, columns, rows in (
            ("users", PEOPLE_COLUMNS, world.people_rows()),
            ("chats", CHAT_COLUMNS, world.chat_rows()),
            ("memberships", MEMBERSHIP_COLUMNS, world.membership_rows()),
        ):
            connection.executemany(_insert(table, columns), map(_sqlite_values, rows))
        connection.execute("COMMIT")
        rng = random.Random(world.sizes.chats)
        statement = _insert("messages", MESSAGE_COLUMNS)
        writing = 0.0
        for start in range(0, world.messages, BATCH):
            rows = []
            for n, (chat, seq, author, when) in enumerate(world.slots[start : start + BATCH]):
                russian = rng.random() < (0.9 if chat in world.russian_chats else 0.05)
                body = corpus.body(russian)
                rows.append(
                    (start + n + 1, chat, seq, seq, author, body, when.strftime(SQLITE_TIME))
                )
            started = time.perf_counter()
            connection.execute("BEGIN")
            connection.executemany(statement, rows)
            connection.execute("COMMIT")
            writing += time.perf_counter() - started
        return writing
    finally:
        connection.close()


async def build_sqlite(path: Path, world: World, corpus: Corpus) -> float:
    """The database at path, made by the migrations; its messages written in BATCH-row
    transactions, which migration 0006's triggers index as they go. Returns the seconds
    spent writing messages (not making up their text)."""
    await schema.upgrade(f"sqlite+aiosqlite:///{path}")
    return await asyncio.to_thread(_load_sqlite, path, world, corpus)


def _asyncpg_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _sqlite_messages(path: Path, start: int, stop: int) -> list[tuple]:
    """Messages start < id <= stop of the SQLite database, as COPY wants them."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages"
            " WHERE id > ? AND id <= ? ORDER BY id",
            (start, stop),
        ).fetchall()
    finally:
        connection.close()
    return [(*row[:-1], datetime.fromisoformat(row[-1]).replace(tzinfo=UTC)) for row in rows]


async def build_postgres(url: str, world: World, sqlite_path: Path) -> float:
    """The same people, chats and messages (read from the SQLite file) on PostgreSQL,
    by COPY in BATCH-row transactions; the generated column and the GIN index are
    filled as the rows go in. Then VACUUM ANALYZE, as autovacuum would do after such
    a load. Returns the seconds spent copying messages and vacuuming."""
    await schema.upgrade(url)
    connection = await asyncpg.connect(_asyncpg_dsn(url))
    try:
        for table, columns, rows in (
            ("users", PEOPLE_COLUMNS, world.people_rows()),
            ("chats", CHAT_COLUMNS, world.chat_rows()),
            ("memberships", MEMBERSHIP_COLUMNS, world.membership_rows()),
        ):
            await connection.copy_records_to_table(table, records=rows, columns=columns)
        writing = 0.0
        for start in range(0, world.messages, BATCH):
            rows = await asyncio.to_thread(
                _sqlite_messages, sqlite_path, start, min(world.messages, start + BATCH)
            )
            started = time.perf_counter()
            async with connection.transaction():
                await connection.copy_records_to_table(
                    "messages", records=rows, columns=MESSAGE_COLUMNS
                )
            writing += time.perf_counter() - started
        for table in ("users", "chats", "messages"):  # ids were given: move the sequences on
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"
            )
        started = time.perf_counter()
        await connection.execute("VACUUM ANALYZE")
        writing += time.perf_counter() - started
        return writing
    finally:
        await connection.close()


# -- measuring ----------------------------------------------------------------------------


@dataclass
class Timed:
    times: list[float] = field(default_factory=list)  # seconds
    matches: list[int] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        ordered = sorted(self.times)
        return {
            "p50 ms": percentile(ordered, 50) * 1000,
            "p99 ms": percentile(ordered, 99) * 1000,
            "max ms": ordered[-1] * 1000 if ordered else float("nan"),
            "matches": statistics.median(self.matches) if self.matches else float("nan"),
            "most matches": max(self.matches, default=0),
            "runs": len(self.times),
        }


Call = Callable[[], Awaitable[int]]


Found = dict[str, tuple[int, tuple[int, ...]]]


def searches(
    db: Database, world: World, corpus: Corpus, found: Found
) -> dict[str, list[tuple[str, Call]]]:
    """Each shape's calls, as (what was typed, call), in the order they take turns. Each
    call returns its count of matches, and notes it in `found` with the ids of the
    messages on its page, to compare the engines."""

    def searching(typed: str, chat_ids: list[int] | None = None) -> tuple[str, Call]:
        label = typed if chat_ids is None else f"{typed} in chat {chat_ids[0]}"

        async def call() -> int:
            query = search.parse(typed)
            async with db.read() as session:
                hits, total = await queries.search_messages(
                    session, world.searcher, query, chat_ids=chat_ids
                )
            found[label] = (total, tuple(hit.id for hit in hits))
            return total

        return (label, call)

    def chat_page(chat_id: int) -> tuple[str, Call]:
        async def call() -> int:
            async with db.read() as session:
                shown = await queries.latest_messages(session, chat_id, queries.PAGE_SIZE)
            return len(shown)

        return (f"chat {chat_id}", call)

    chats = world.searcher_chats
    return {
        "common word": [searching(word) for word in COMMON_WORDS],
        "rare word": [searching(word) for word in rare_words(corpus)],
        "prefix": [searching(prefix) for prefix in PREFIXES],
        "phrase": [searching(phrase) for phrase in PHRASES],
        "two words": [searching(words) for words in TWO_WORDS],
        "one chat, common word": [
            searching(word, [chats[n * 7 % len(chats)]]) for n, word in enumerate(COMMON_WORDS)
        ],
        REFERENCE: [chat_page(chats[n * 3 % len(chats)]) for n in range(20)],
    }


async def time_searches(
    calls: dict[str, list[tuple[str, Call]]], runs: int, seconds: float
) -> dict[str, Timed]:
    """Every call once to warm up, then `runs` timed calls per shape, the shapes taking
    turns (so that the machine's noise falls on all of them alike); a shape whose timed
    calls have taken `seconds` in all stops there (the table says how many ran)."""
    for shape_calls in calls.values():
        for _typed, call in shape_calls:
            await call()
    timed = {shape: Timed() for shape in calls}
    for run in range(runs):
        for shape, shape_calls in calls.items():
            if sum(timed[shape].times) > seconds:
                continue
            _typed, call = shape_calls[run % len(shape_calls)]
            started = time.perf_counter()
            matches = await call()
            timed[shape].times.append(time.perf_counter() - started)
            timed[shape].matches.append(matches)
    return timed


async def _sent_by(db: Database, call: Call) -> list[tuple[str, tuple]]:
    """The statements (and parameters) a call sends, transaction control left out."""
    sent: list[tuple[str, tuple]] = []

    def record(_conn, _cursor, statement, parameters, _context, _executemany) -> None:
        if not statement.startswith(("BEGIN", "ROLLBACK", "COMMIT")):
            sent.append((statement, tuple(parameters)))

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await call()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)
    return sent


def _literal(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return str(int(value))  # ids, limits and offsets


async def explain(db: Database, calls: dict[str, list[tuple[str, Call]]]) -> None:
    """Each shape's plans. SQLite: EXPLAIN QUERY PLAN of its first query. PostgreSQL:
    EXPLAIN ANALYZE of its first query as a pooled connection runs it: each statement
    is prepared (asyncpg prepares every statement) and executed with the shape's first
    five queries, after which PostgreSQL may choose a generic plan, one made without
    looking at the parameters (unless search_messages set plan_cache_mode)."""
    engine = "SQLite" if db.is_sqlite else "PostgreSQL"
    for shape, shape_calls in calls.items():
        sent = [await _sent_by(db, call) for _typed, call in shape_calls[:5]]
        print(f"\n--- {engine}, {shape}: {shape_calls[0][0]}")
        async with db.read() as session:
            connection = await session.connection()
            for number, (statement, parameters) in enumerate(sent[0]):
                print(" ".join(statement.split())[:400])
                if statement.startswith("SET"):  # a setting search_messages makes: make it too
                    await connection.exec_driver_sql(statement, parameters)
                    continue
                if db.is_sqlite:
                    result = await connection.exec_driver_sql(
                        "EXPLAIN QUERY PLAN " + statement, parameters
                    )
                    lines = [f"{row[1]:>3} {row[-1]}" for row in result]
                else:
                    await connection.exec_driver_sql(f"PREPARE bench_plan AS {statement}")
                    for earlier in sent:
                        values = ", ".join(map(_literal, earlier[number][1]))
                        await connection.exec_driver_sql(f"EXECUTE bench_plan({values})")
                    values = ", ".join(map(_literal, parameters))
                    result = await connection.exec_driver_sql(
                        f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_plan({values})"
                    )
                    lines = [row[0] for row in result]
                    await connection.exec_driver_sql("DEALLOCATE bench_plan")
                for line in lines:
                    print("   ", line)


async def index_bytes(db: Database) -> dict[str, float]:
    """What the search index takes on disk, in bytes."""
    async with db.read() as session:
        if db.is_sqlite:
            index = await session.scalar(
                text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'message_search%'")
            )
            return {"index": float(index or 0)}
        gin = await session.scalar(text("SELECT pg_relation_size('ix_messages_search')"))
        vectors = await session.scalar(text("SELECT sum(pg_column_size(search)) FROM messages"))
        return {"index": float(gin + vectors), "GIN": float(gin), "tsvector": float(vectors)}


async def drop_index(db: Database) -> None:
    """Take the search index away (posting without it)."""
    async with db.write() as session:
        if db.is_sqlite:
            for trigger in ("insert", "update", "delete"):
                await session.execute(text(f"DROP TRIGGER message_search_{trigger}"))
        else:
            await session.execute(text("DROP INDEX ix_messages_search"))
            await session.execute(text("ALTER TABLE messages DROP COLUMN search"))
        await session.commit()
    await db.engine.dispose()  # no connection keeps a plan made for the old table


async def posting(
    with_index: Database, without_index: Database, world: World, corpus: Corpus
) -> tuple[float, float]:
    """Posts per second into each database: `posts` messages by the searcher into her
    chats in turn, each in its own write transaction as the posting view writes it (the
    chat locked, post_message, commit). The two take turns in POSTING_ROUNDS rounds,
    so that a busy moment of the machine falls on both alike."""
    async with with_index.read() as session:
        author = await session.scalar(select(User).where(User.id == world.searcher))
    chats = world.searcher_chats

    async def post(db: Database, n: int) -> None:
        chat_id = chats[n % len(chats)]
        body = corpus.body(chat_id in world.russian_chats)
        async with db.write() as session:
            membership = await queries.membership_in(session, chat_id, author, lock=True)
            await queries.post_message(session, membership.chat, author, body, uuid.uuid4().hex)
            await session.commit()

    for db in (with_index, without_index):
        for n in range(world.sizes.warm_up_posts):
            await post(db, n)
    spent = {with_index: 0.0, without_index: 0.0}
    per_round = world.sizes.posts // POSTING_ROUNDS
    for round_ in range(POSTING_ROUNDS):
        order = (with_index, without_index) if round_ % 2 == 0 else (without_index, with_index)
        for db in order:
            started = time.perf_counter()
            for n in range(per_round):
                await post(db, round_ * per_round + n)
            spent[db] += time.perf_counter() - started
    posts = per_round * POSTING_ROUNDS
    return posts / spent[with_index], posts / spent[without_index]


@dataclass
class EngineResult:
    engine: str
    messages: int
    load_seconds: float
    searches: dict[str, Timed]
    found: Found  # what each search found: its count and its page's messages
    index: dict[str, float]
    with_index: float = float("nan")  # posts/s
    without_index: float = float("nan")
    text_bytes: float = float("nan")  # a message's body, on average


Twin = Callable[[], AbstractAsyncContextManager[str]]


async def measure_engine(
    engine: str,
    url: str,
    twin: Twin,
    world: World,
    corpus: Corpus,
    load_seconds: float,
    show_plans: bool,
) -> EngineResult:
    """Searches and index size on the database at url; then posting into it and into
    its twin (a copy made by `twin`) with the index taken away."""
    db = Database(url)
    try:
        found: Found = {}
        calls = searches(db, world, corpus, found)
        timed = await time_searches(calls, world.sizes.runs, world.sizes.shape_seconds)
        if show_plans:
            await explain(db, calls)
        index = await index_bytes(db)
    finally:
        await db.dispose()
    result = EngineResult(engine, world.messages, load_seconds, timed, found, index)
    async with twin() as twin_url:
        with_index, without_index = Database(url), Database(twin_url)
        try:
            await drop_index(without_index)
            result.with_index, result.without_index = await posting(
                with_index, without_index, world, corpus
            )
        finally:
            await with_index.dispose()
            await without_index.dispose()
    return result


@asynccontextmanager
async def sqlite_twin(path: Path) -> AsyncIterator[str]:
    """A copy of the SQLite database at path (no connection may be open to it)."""
    copy = path.with_name(path.stem + "-twin.sqlite3")

    def make() -> None:
        connection = sqlite3.connect(path)
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
        shutil.copyfile(path, copy)

    await asyncio.to_thread(make)
    try:
        yield f"sqlite+aiosqlite:///{copy}"
    finally:
        await remove_sqlite(copy)


async def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        await asyncio.to_thread(Path(f"{path}{suffix}").unlink, missing_ok=True)


@asynccontextmanager
async def postgres_twin(admin_url: str, url: str) -> AsyncIterator[str]:
    """A copy of the PostgreSQL database at url (CREATE DATABASE … TEMPLATE; nothing
    may be connected to it), dropped afterwards."""
    source = make_url(url).database
    name = f"{source}_twin"
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        for attempt in range(30):  # autovacuum may be in the source for a moment
            try:
                async with engine.connect() as connection:
                    await connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
                break
            except DBAPIError:
                if attempt == 29:
                    raise
                await asyncio.sleep(1)
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with engine.connect() as connection:
            await connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


def note(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] search: {what}", file=sys.stderr, flush=True)


async def measure(
    folder: Path, sizes: Sizes, postgres: str | None, show_plans: bool = False
) -> list[EngineResult]:
    """Both engines (SQLite only when postgres is None), each on its own copy of the
    same messages."""
    note(f"making up {sizes.chats * sizes.per_chat:,} messages")
    world = World.made(sizes)
    path = folder / "search.sqlite3"
    try:
        note("loading SQLite")
        load = await build_sqlite(path, world, Corpus())
        note("searching and posting on SQLite")
        url = f"sqlite+aiosqlite:///{path}"
        twin = functools.partial(sqlite_twin, path)
        results = [await measure_engine("SQLite", url, twin, world, Corpus(19), load, show_plans)]
        if postgres:
            async with postgres_database(postgres) as url:
                note("loading PostgreSQL (the same messages)")
                load = await build_postgres(url, world, path)
                note("searching and posting on PostgreSQL")
                twin = functools.partial(postgres_twin, postgres, url)
                results.append(
                    await measure_engine(
                        "PostgreSQL", url, twin, world, Corpus(19), load, show_plans
                    )
                )
        results[0].text_bytes = await asyncio.to_thread(_text_bytes, path, world.messages)
    finally:  # the run's copy goes as soon as it is measured
        await remove_sqlite(path)
    return results


def _text_bytes(path: Path, messages: int) -> float:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT avg(length(CAST(body AS BLOB))) FROM messages WHERE id <= ?", (messages,)
        ).fetchone()[0]
    finally:
        connection.close()


# -- the tables ---------------------------------------------------------------------------


def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 10 else f"{value:.1f} s"


def _matches(value: float) -> str:
    if value > queries.SEARCH_COUNT_CAP:
        return f"> {queries.SEARCH_COUNT_CAP:,}"
    return f"{value:,.0f}"


def tables(results: list[EngineResult], sizes: Sizes) -> str:
    """The searches (engine x shape), then the index's size and its cost to posting."""
    first = results[0]
    lines = [
        f"Search: {first.messages:,} messages in {sizes.chats:,} chats, "
        f"{first.text_bytes:.0f} bytes of text each on average; the searcher is in "
        f"{sizes.searcher_chats} chats ({sizes.searcher_chats * sizes.per_chat:,} messages). "
        f"Matches: the median count per search (counted up to {queries.SEARCH_COUNT_CAP:,}).",
        "",
        "| engine | shape | runs | p50 ms | p99 ms | matches | target | met |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for result in results:
        for shape, timed in result.searches.items():
            figures = timed.figures()
            goal = met = ""
            if shape != REFERENCE:
                goal = f"p99 ≤ {TARGET_P99_MS:.0f}"
                met = "yes" if figures["p99 ms"] <= TARGET_P99_MS else "NO"
            lines.append(
                f"| {result.engine} | {shape} | {figures['runs']} | {_ms(figures['p50 ms'])} | "
                f"{_ms(figures['p99 ms'])} | {_matches(figures['matches'])} | {goal} | {met} |"
            )
    lines += [
        "",
        "| engine | messages loaded in | index bytes per message | posts/s with index | "
        "posts/s without | with / without | target | met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for result in results:
        index = result.index["index"] / result.messages
        parts = [f"{index:.0f}"]
        if "GIN" in result.index:
            gin, vectors = (result.index[k] / result.messages for k in ("GIN", "tsvector"))
            parts.append(f"(GIN {gin:.0f} + tsvector {vectors:.0f})")
        ratio = result.with_index / result.without_index
        met = "yes" if ratio >= TARGET_POSTING_RATIO else "NO"
        lines.append(
            f"| {result.engine} | {_seconds(result.load_seconds)} | {' '.join(parts)} | "
            f"{result.with_index:.0f} | {result.without_index:.0f} | {ratio:.2f} | "
            f"≥ {TARGET_POSTING_RATIO} | {met} |"
        )
    if len(results) == 2:
        sqlite, postgres = (result.found for result in results)
        differ = [
            f"{typed} ({sqlite[typed][0]} / {postgres[typed][0]})"
            for typed in sqlite
            if sqlite[typed] != postgres.get(typed)
        ]
        lines += [
            "",
            f"SQLite and PostgreSQL found the same matches for every query ({len(sqlite)} "
            "searches: the count and the messages of the first page)."
            if not differ
            else "SQLite and PostgreSQL differ on: " + "; ".join(differ),
        ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 messages: a smoke test")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("VIBECHAT_BENCH_POSTGRES_URL", DEFAULT_POSTGRES),
        help="a PostgreSQL server where the benchmark may create a database ('' for none)",
    )
    parser.add_argument("--explain", action="store_true", help="print each shape's plan")
    args = parser.parse_args()
    sizes = QUICK if args.quick else Sizes()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vibechat-search-") as folder:
        results = asyncio.run(measure(Path(folder), sizes, args.postgres or None, args.explain))
    print(
        f"\nvibechat search benchmark: {platform.python_implementation()} "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
        f"{time.perf_counter() - started:.0f} s{' (quick sizes)' if args.quick else ''}, "
        f"load average {os.getloadavg()[1]:.1f} over the last 5 minutes\n"
    )
    print(tables(results, sizes))


if __name__ == "__main__":
    main()
