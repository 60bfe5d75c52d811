"""Rows without the web layer: make them, count them, and snapshot them to show that a
refused request changed nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from vibechat import queries
from vibechat.db import Database
from vibechat.models import Chat, Membership, Message, Reaction, User, message_mentions


async def make_user(db: Database, username: str):
    async with db.write() as session:
        user = await queries.create_user(session, username, username.title(), "not-a-hash")
        await session.commit()
    return user


async def make_group(db: Database, owner, title="Watercooler", members=()):
    async with db.write() as session:
        chat = await queries.create_group_chat(session, owner, title, list(members))
        await session.commit()
    return chat


async def post(db: Database, chat_id: int, author, body: str, token: str | None = None):
    async with db.write() as session:
        membership = await queries.membership_in(session, chat_id, author, lock=True)
        message, created = await queries.post_message(session, membership.chat, author, body, token)
        await session.commit()
    return message, created


async def count(db, model, *where) -> int:
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def snapshot(db) -> dict[str, list[tuple]]:
    """Every row of the chat tables, to show that a refused request changed nothing."""
    tables = (
        Chat.__table__,
        Membership.__table__,
        Message.__table__,
        Reaction.__table__,
        message_mentions,
    )
    rows = {}
    async with db.read() as session:
        for table in tables:
            query = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(row) for row in await session.execute(query)]
    return rows


async def user_id(db, username: str) -> int:
    async with db.read() as session:
        return await session.scalar(select(User.id).where(User.username_key == username))
