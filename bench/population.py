"""People, chats and messages for a benchmark, written straight into its database.

Signing up 10,000 people through /register would take minutes of Argon2 hashing (that
cost is deliberate, and it is not what the benchmark measures). So the crowd is
written in bulk: every person shares one real Argon2id hash of PASSWORD, and each gets
a real session row, whose cookie is signed with quart-auth's serializer and the
benchmark's secret key exactly as a sign-in would sign it. The server then treats
these people like any others. The people who post in the town hall still register
and sign in through the HTTP routes (bench/scenarios.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from quart_auth.extension import _AuthSerializer
from sqlalchemy import insert, select

from vibechat import schema
from vibechat.db import Database
from vibechat.models import Chat, Membership, Message, Session, User, utcnow
from vibechat.passwords import password_hasher
from vibechat.security import new_session_token
from vibechat.sessions import SESSION_COOKIE

PASSWORD = "benchmark passphrase"
SECRET_KEY = "benchmark secret key, not for production"
SESSION_SALT = "vibechat session"  # QUART_AUTH_SALT in vibechat/sessions.py
BATCH = 2000  # rows per INSERT


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    cookie: str  # the Cookie header a signed-in browser sends


def cookie_for(token: str) -> str:
    signed = _AuthSerializer(SECRET_KEY, SESSION_SALT).dumps(token)
    return f"{SESSION_COOKIE}={signed}"


class Population:
    """Writes into one database; every method is a coroutine."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._hash: str | None = None
        self.db: Database | None = None

    async def __aenter__(self) -> Population:
        await schema.upgrade(self.url)
        self.db = Database(self.url)
        return self

    async def __aexit__(self, *_exc) -> None:
        await self.db.dispose()

    async def people(
        self, count: int, prefix: str, languages: tuple[str, ...] = ("en",)
    ) -> list[Person]:
        """`count` people with a session each; their chosen languages take turns."""
        if self._hash is None:
            self._hash = await asyncio.to_thread(password_hasher().hash, PASSWORD)
        now = utcnow()
        names = [f"{prefix}{n}" for n in range(count)]
        async with self.db.write() as session:
            for start in range(0, count, BATCH):
                rows = [
                    {
                        "username": name,
                        "username_key": name.lower(),
                        "display_name": name.title(),
                        "password_hash": self._hash,
                        "created_at": now,
                        "language": languages[(start + n) % len(languages)],
                    }
                    for n, name in enumerate(names[start : start + BATCH])
                ]
                await session.execute(insert(User), rows)
            await session.flush()
            ids = dict(zip(names, await self._ids(session, names), strict=True))
            tokens = {name: new_session_token() for name in names}
            rows = [
                {
                    "token_hash": tokens[name][1],
                    "user_id": ids[name],
                    "created_at": now,
                    "last_seen_at": now,
                }
                for name in names
            ]
            for start in range(0, count, BATCH):
                await session.execute(insert(Session), rows[start : start + BATCH])
            await session.commit()
        return [Person(ids[name], name, cookie_for(tokens[name][0])) for name in names]

    async def user_ids(self, usernames: list[str]) -> list[int]:
        async with self.db.read() as session:
            return await self._ids(session, usernames)

    @staticmethod
    async def _ids(session, usernames: list[str]) -> list[int]:
        query = select(User.username, User.id).where(User.username.in_(usernames))
        found = dict((await session.execute(query)).all())
        return [found[name] for name in usernames]

    async def chat(self, title: str, members: list[int], messages: int = 0) -> int:
        """A group chat owned by members[0], with `messages` messages by its members."""
        now = utcnow()
        async with self.db.write() as session:
            chat_id = await session.scalar(
                insert(Chat)
                .values(
                    kind="group",
                    title=title,
                    created_by=members[0],
                    created_at=now,
                    last_activity_at=now,
                    last_seq=messages,
                    last_rev=messages,
                )
                .returning(Chat.id)
            )
            rows = [
                {
                    "chat_id": chat_id,
                    "user_id": user_id,
                    "role": "owner" if n == 0 else "member",
                    "joined_at": now,
                    "last_read_seq": messages,
                }
                for n, user_id in enumerate(members)
            ]
            for start in range(0, len(rows), BATCH):
                await session.execute(insert(Membership), rows[start : start + BATCH])
            if messages:
                rows = [
                    {
                        "chat_id": chat_id,
                        "seq": seq,
                        "rev": seq,
                        "author_id": members[seq % len(members)],
                        "body": f"History message {seq}: " + "words " * 20,
                        "created_at": now - timedelta(seconds=messages - seq),
                    }
                    for seq in range(1, messages + 1)
                ]
                await session.execute(insert(Message), rows)
            await session.commit()
        return chat_id
