"""The database layer on SQLite and PostgreSQL: tuning, gapless seq under concurrency."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text

from tests.support.db import make_group, make_user, post
from tests.support.people import send
from vibechat import queries
from vibechat.db import Database
from vibechat.models import Chat, Message

WRITERS = 20


async def test_sqlite_is_tuned_for_a_chat_write_load(sqlite_url):
    db = Database(sqlite_url)
    try:
        async with db.read() as session:
            journal = await session.scalar(text("PRAGMA journal_mode"))
            busy = await session.scalar(text("PRAGMA busy_timeout"))
            foreign_keys = await session.scalar(text("PRAGMA foreign_keys"))
        assert (journal, busy, foreign_keys) == ("wal", 5000, 1)
    finally:
        await db.dispose()


async def test_sqlite_writers_take_the_write_lock_up_front(sqlite_url):
    """A writer's first statement already holds the lock, so a second writer waits."""
    db = Database(sqlite_url)
    try:
        async with db.write() as first:
            await first.execute(text("SELECT 1"))
            raw = await (await first.connection()).get_raw_connection()
            assert raw.driver_connection.in_transaction
            # A reader is not blocked by the writer (WAL).
            async with db.read() as reader:
                assert await reader.scalar(text("SELECT count(*) FROM users")) == 0
    finally:
        await db.dispose()


async def test_concurrent_posts_get_gapless_distinct_seqs(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    results = await asyncio.gather(
        *(post(database, chat.id, alice, f"message {n}") for n in range(WRITERS))
    )
    assert all(created for _, created in results)
    async with database.read() as session:
        seqs = list(await session.scalars(select(Message.seq).where(Message.chat_id == chat.id)))
        revs = list(await session.scalars(select(Message.rev).where(Message.chat_id == chat.id)))
        stored = await session.get(Chat, chat.id)
    assert sorted(seqs) == list(range(1, WRITERS + 1))
    assert sorted(revs) == list(range(1, WRITERS + 1))
    assert (stored.last_seq, stored.last_rev) == (WRITERS, WRITERS)


async def test_concurrent_repeats_of_one_client_token_store_one_message(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    results = await asyncio.gather(
        *(post(database, chat.id, alice, "hello", token="same-token") for _ in range(5))
    )
    assert sum(created for _, created in results) == 1
    assert {message.seq for message, _ in results} == {1}
    async with database.read() as session:
        assert await session.scalar(select(func.count(Message.id))) == 1
        assert (await session.get(Chat, chat.id)).last_seq == 1


async def test_concurrent_direct_chat_requests_make_one_chat(database):
    alice = await make_user(database, "alice")
    bob = await make_user(database, "bob")

    async def open_direct(me, other):
        async with database.write() as session:
            chat, _created = await queries.find_or_create_direct_chat(session, me, other)
            await session.commit()
        return chat.id

    ids = await asyncio.gather(
        *(open_direct(alice, bob) for _ in range(3)), open_direct(bob, alice)
    )
    assert len(set(ids)) == 1
    async with database.read() as session:
        assert await session.scalar(select(func.count(Chat.id))) == 1


async def test_twenty_concurrent_posts_through_the_route_store_seq_1_to_20(alice, watercooler, db):
    responses = await asyncio.gather(
        *(send(alice, watercooler, f"hello {n}") for n in range(WRITERS))
    )
    assert [response.status_code for response in responses] == [303] * WRITERS
    async with db.read() as session:
        seqs = sorted(
            await session.scalars(select(Message.seq).where(Message.chat_id == watercooler))
        )
    assert seqs == list(range(1, WRITERS + 1))


async def test_deleting_a_chat_removes_its_messages_and_memberships(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    await post(database, chat.id, alice, "soon gone")
    async with database.write() as session:
        await queries.delete_chat(session, await session.get(Chat, chat.id))
        await session.commit()
    async with database.read() as session:
        assert await session.scalar(select(func.count(Message.id))) == 0
        assert await queries.membership_in(session, chat.id, alice) is None


async def test_times_come_back_in_utc(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    message, _ = await post(database, chat.id, alice, "what time is it?")
    async with database.read() as session:
        stored = await queries.message_at(session, chat.id, message.seq)
    assert stored.created_at.utcoffset().total_seconds() == 0
    assert abs((stored.created_at - message.created_at).total_seconds()) < 1
