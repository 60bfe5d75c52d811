"""Accounts from the command line: create one, reset a password, deactivate, reactivate.

The web's rules apply unchanged: a new account passes the register form's checks
(forms.new_account), a new password the password-change form's (forms.new_password).
Ending someone's sessions is what logout and a password change do: the rows go, so
each of their cookies is signed out on its next request, and a "revoke" goes to their
open sockets. No app runs in this process, so that revoke can reach the server only
through Redis (VIBECHAT_REDIS_URL); without it, each server finds the orphaned sockets
when it next checks its sockets' sessions (live.envelope.SESSION_CHECK, 30 s) and closes them.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass

import redis.asyncio as redis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession

from vibechat import forms, queries, schema
from vibechat.config import Settings, database_url
from vibechat.db import Database
from vibechat.i18n import _, lazy_gettext
from vibechat.live.envelope import seal, user_topic
from vibechat.live.redis_broker import publish_on
from vibechat.models import User, utcnow
from vibechat.passwords import password_hasher

REDIS_TIMEOUT = 2  # seconds; the change is committed by then, only the sockets wait


class AdminError(Exception):
    """The command was refused and nothing was changed; the message says why."""


class UnknownUser(AdminError):
    def __init__(self, username: str) -> None:
        super().__init__(_("there is no user named %(username)r", username=username))


@dataclass(frozen=True)
class Outcome:
    """What a command did to one account, for its confirmation line."""

    username: str
    already: bool = False  # the account was in that state before: nothing to change
    sessions_ended: int = 0  # each of those browsers is signed out on its next request
    sockets_told: bool = False  # their open sockets were told to close (through Redis)
    deactivated: bool = False  # the account's state afterwards


async def create_user(
    settings: Settings, username: str, password: str, display_name: str = ""
) -> User:
    """A new account, checked exactly as the register form checks one."""
    try:
        username, display_name, password = forms.new_account(username, display_name, password)
    except forms.FormErrors as invalid:
        raise AdminError(_describe(invalid.errors)) from None
    password_hash = password_hasher().hash(password)
    async with _database(settings) as db, db.write() as session:
        user = await queries.create_user(session, username, display_name, password_hash)
        if user is None:
            raise AdminError(_describe({"username": forms.USERNAME_TAKEN}))
        await session.commit()
    return user


async def reset_password(settings: Settings, username: str, password: str) -> Outcome:
    """Store a new password (the password-change form's rules) and end every session."""
    async with _database(settings) as db:
        async with db.read() as session:
            user = await _user_named(session, username)
        try:
            password = forms.new_password(password, for_username=user.username)
        except forms.Invalid as error:
            raise AdminError(_describe({"password": str(error)})) from None
        # Hashed before the write starts: Argon2 is slow and must not hold SQLite's lock.
        password_hash = password_hasher().hash(password)
        async with db.write() as session:
            await queries.set_password(session, user.id, password_hash)
            ended = await queries.delete_sessions_of(session, user.id)
            await session.commit()
    return Outcome(
        user.username,
        sessions_ended=len(ended),
        sockets_told=await _close_sockets(settings, user.id, ended),
        deactivated=user.deactivated_at is not None,
    )


async def deactivate_user(settings: Settings, username: str) -> Outcome:
    """Stop someone signing in and end every session of theirs; their messages stay."""
    async with _database(settings) as db, db.write() as session:
        user = await _user_named(session, username)
        already = user.deactivated_at is not None
        if not already:
            await queries.set_deactivated(session, user.id, utcnow())
        ended = await queries.delete_sessions_of(session, user.id)
        await session.commit()
    return Outcome(
        user.username,
        already=already,
        sessions_ended=len(ended),
        sockets_told=await _close_sockets(settings, user.id, ended),
        deactivated=True,
    )


async def reactivate_user(settings: Settings, username: str) -> Outcome:
    """Let a deactivated person sign in again (with the password they had)."""
    async with _database(settings) as db, db.write() as session:
        user = await _user_named(session, username)
        already = user.deactivated_at is None
        if not already:
            await queries.set_deactivated(session, user.id, None)
            await session.commit()
    return Outcome(user.username, already=already)


@contextlib.asynccontextmanager
async def _database(settings: Settings) -> AsyncIterator[Database]:
    url = database_url(settings)
    # Before any query: an old schema would fail with a driver error about a missing
    # table or column, which says nothing about what to do.
    if not await schema.is_up_to_date(url):
        raise AdminError(_("the database is not up to date: run `vibechat migrate` first"))
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()


async def _user_named(session: AsyncSession, username: str) -> User:
    user = await queries.user_by_username(session, username.strip())
    if user is None:
        raise UnknownUser(username)
    return user


async def _close_sockets(settings: Settings, user_id: int, ended: list[str]) -> bool:
    """Tell the server to close the sockets of these ended sessions; False if it cannot
    be reached (no Redis configured, or Redis not answering)."""
    redis_url = settings.redis_url
    if not ended or not redis_url:
        return False
    client = redis.Redis.from_url(
        redis_url, socket_connect_timeout=REDIS_TIMEOUT, socket_timeout=REDIS_TIMEOUT
    )
    try:
        for token_hash in ended:
            # The very frame live.events.session_ended publishes after a logout, in the
            # wire format every server process's RedisBroker listens for.
            await publish_on(client, user_topic(user_id), seal("", revoke=token_hash))
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()
    return True


# The form fields a refusal names, as the command line says them.
FIELDS = {
    "username": lazy_gettext("username"),
    "display_name": lazy_gettext("display name"),
    "password": lazy_gettext("password"),
}


def _describe(errors: Mapping[str, str]) -> str:
    """Form errors as one line: `username: Use 3 to 32 characters ...; password: ...`."""
    return "; ".join(
        f"{FIELDS.get(field, field.replace('_', ' '))}: {message}"
        for field, message in errors.items()
    )
