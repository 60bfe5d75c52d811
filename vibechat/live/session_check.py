"""Closing the sockets whose session ended when nothing said so.

A logout or an admin command in this process (or, with Redis, any) closes a session's
sockets at once with a "revoke" envelope; this check, every SESSION_CHECK seconds
(vibechat.live.envelope), catches the rest: `vibechat deactivate-user` without Redis.
"""

from __future__ import annotations

import asyncio
import logging

from vibechat import queries
from vibechat.db import Database
from vibechat.live.hub import SESSION_ENDED, Live
from vibechat.web import db

log = logging.getLogger(__name__)


async def close_ended_sessions(live: Live, database: Database) -> None:
    """Close (1008) every socket here whose session row is gone."""
    # Decide only about the sockets whose sessions were asked about: one accepted
    # while the query runs is not among them, and must not count as "ended".
    asked = tuple(live.connections)
    if not asked:
        return
    async with database.read() as session:
        alive = await queries.existing_session_hashes(
            session, {connection.session_hash for connection in asked}
        )
    for connection in asked:
        if connection.session_hash not in alive:
            connection.close(SESSION_ENDED)


async def check_sessions_regularly(live: Live, every: float) -> None:
    """For ever (a job of the app, in its context): the check, every `every` seconds."""
    while True:
        await asyncio.sleep(every)
        try:
            await close_ended_sessions(live, db())
        except Exception:
            log.warning("checking the sockets' sessions failed", exc_info=True)
