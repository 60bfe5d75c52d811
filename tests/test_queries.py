"""queries.py on SQLite and PostgreSQL: revs, catch-up, unread counts, ownership."""

from __future__ import annotations

from tests.support.db import make_group, make_user, post
from vibechat import queries
from vibechat.models import Chat, Membership


async def _edit(database, chat_id, author, seq, body=None):
    async with database.write() as session:
        membership = await queries.membership_in(session, chat_id, author, lock=True)
        message = await queries.message_at(session, chat_id, seq)
        if body is None:
            await queries.delete_message(session, membership.chat, message)
        else:
            await queries.edit_message(session, membership.chat, message, body)
        await session.commit()


async def test_edits_and_deletions_take_the_next_rev_and_catch_up_finds_them(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    for n in range(1, 6):
        await post(database, chat.id, alice, f"message {n}")
    await _edit(database, chat.id, alice, 2, "message 2, corrected")
    await _edit(database, chat.id, alice, 4)
    async with database.read() as session:
        since = await queries.messages_since(session, chat.id, 5)
        after = await queries.messages_after(session, chat.id, 3)
        stored = await session.get(Chat, chat.id)
    assert [(m.seq, m.rev) for m in since] == [(2, 6), (4, 7)]
    assert since[0].body == "message 2, corrected" and since[0].edited_at is not None
    assert since[1].body == "" and since[1].deleted_at is not None
    assert [m.seq for m in after] == [4, 5]
    assert (stored.last_seq, stored.last_rev) == (5, 7)


async def test_pages_of_messages_come_oldest_first(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    for n in range(1, 8):
        await post(database, chat.id, alice, f"message {n}")
    async with database.read() as session:
        latest = await queries.latest_messages(session, chat.id, limit=3)
        before = await queries.messages_before(session, chat.id, 5, limit=3)
    assert [m.seq for m in latest] == [5, 6, 7]
    assert [m.seq for m in before] == [2, 3, 4]


async def test_unread_counts_skip_own_and_deleted_messages(database):
    alice = await make_user(database, "alice")
    bob = await make_user(database, "bob")
    chat = await make_group(database, alice, members=[bob])
    await post(database, chat.id, alice, "one")
    await post(database, chat.id, bob, "two")
    await post(database, chat.id, alice, "three")
    await _edit(database, chat.id, alice, 3)
    async with database.read() as session:
        [for_bob] = await queries.chat_summaries(session, bob)
        [for_alice] = await queries.chat_summaries(session, alice)
    assert for_bob.unread == 1  # "one"; "two" is his own, "three" was deleted
    assert for_alice.unread == 1  # "two"
    assert for_bob.last_message.body == "two"  # the latest message that still exists


async def test_read_marks_only_move_forward(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    for n in range(3):
        await post(database, chat.id, alice, f"m{n}")
    for seq in (2, 1):
        async with database.write() as session:
            await queries.mark_read(session, chat.id, alice.id, seq)
            await session.commit()
    async with database.read() as session:
        membership = await queries.membership_in(session, chat.id, alice)
    assert membership.last_read_seq == 2


async def test_the_last_owner_leaving_hands_the_chat_to_the_longest_standing_member(database):
    alice = await make_user(database, "alice")
    bob = await make_user(database, "bob")
    carol = await make_user(database, "carol")
    chat = await make_group(database, alice, members=[bob])
    async with database.write() as session:
        await queries.add_members(session, await session.get(Chat, chat.id), [carol])
        await session.commit()
    async with database.write() as session:
        assert await queries.remove_member(session, await session.get(Chat, chat.id), alice.id)
        await session.commit()
    async with database.read() as session:
        roles = {
            m.user_id: m.role for m in [m for m, _ in await queries.members_of(session, chat.id)]
        }
    assert roles == {bob.id: "owner", carol.id: "member"}


async def test_the_last_member_leaving_deletes_the_chat(database):
    alice = await make_user(database, "alice")
    chat = await make_group(database, alice)
    async with database.write() as session:
        await queries.remove_member(session, await session.get(Chat, chat.id), alice.id)
        await session.commit()
    async with database.read() as session:
        assert await session.get(Chat, chat.id) is None
        assert await session.get(Membership, (chat.id, alice.id)) is None
