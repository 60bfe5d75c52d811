"""Presence shared by every process through Redis, with heartbeats and expiry.

Per person, a sorted set `vibechat:presence:user:<id>` holds the processes where
they have a socket, scored by when that claim expires; a global sorted set of
"<user>:<process>" lets any process find claims that have run out. Each process
renews its claims every HEARTBEAT seconds, so the people of a process that crashed
expire after TTL seconds and the next sweep (every SWEEP seconds, by any process)
announces them offline: within TTL + SWEEP of the crash.

Only the first socket of a person in a process, and the last one, touch Redis; the
count inside a process stays in memory. "Online" and "offline" are decided inside a
MULTI/EXEC, so two processes connecting the same person at once announce it once.
When Redis is unreachable the answers fall back to this process's own sockets.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import redis.asyncio as redis
from redis.exceptions import RedisError

from vibechat.live.presence import Presence

log = logging.getLogger(__name__)

KEY = "vibechat:presence:"
TTL = 30.0  # seconds a claim lives without a heartbeat
HEARTBEAT = 10.0
SWEEP = 5.0


class RedisPresence(Presence):
    def __init__(self, client: redis.Redis, ttl: float = TTL) -> None:
        super().__init__()
        self.client = client
        self.ttl = ttl
        self.process = uuid.uuid4().hex[:12]

    def _user_key(self, user_id: int) -> str:
        return f"{KEY}user:{user_id}"

    def _claim(self, user_id: int) -> str:
        return f"{user_id}:{self.process}"

    async def connect(self, user_id: int) -> bool:
        if not self._count_in(user_id):
            return False  # another tab here already counts
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                expires = time.time() + self.ttl
                pipe.zadd(self._user_key(user_id), {self.process: expires})
                pipe.zadd(KEY + "all", {self._claim(user_id): expires})
                pipe.zcount(self._user_key(user_id), time.time(), "+inf")
                *_, count = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("presence not shared (%s)", error)
            return True
        return count == 1

    async def disconnect(self, user_id: int) -> bool:
        if not self._count_out(user_id):
            return False  # another tab here still counts
        try:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.zrem(self._user_key(user_id), self.process)
                pipe.zrem(KEY + "all", self._claim(user_id))
                pipe.zcount(self._user_key(user_id), time.time(), "+inf")
                *_, count = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("presence not shared (%s)", error)
            return True
        return count == 0

    async def online(self, user_ids) -> set[int]:
        user_ids = list(user_ids)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                now = time.time()
                for user_id in user_ids:
                    pipe.zcount(self._user_key(user_id), now, "+inf")
                counts = await pipe.execute()
        except (RedisError, OSError):
            return await super().online(user_ids)
        return {user_id for user_id, count in zip(user_ids, counts, strict=True) if count}

    async def heartbeat(self) -> None:
        """Renew this process's claims (every HEARTBEAT seconds)."""
        users = self.local_users()
        if not users:
            return
        expires = time.time() + self.ttl
        async with self.client.pipeline(transaction=False) as pipe:
            for user_id in users:
                pipe.zadd(self._user_key(user_id), {self.process: expires})
            pipe.zadd(KEY + "all", {self._claim(user_id): expires for user_id in users})
            await pipe.execute()

    async def sweep(self) -> list[int]:
        """Remove claims that ran out; return the people who are now offline.

        Several processes may sweep at once: ZREM answers 1 to only one of them, and
        only that one announces the person."""
        now = time.time()
        stale = await self.client.zrangebyscore(KEY + "all", "-inf", now)
        offline = []
        for claim in stale:
            user, _, process = claim.decode().partition(":")
            if not await self.client.zrem(KEY + "all", claim):
                continue  # another process took this one
            key = self._user_key(int(user))
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.zrem(key, process)
                pipe.zcount(key, time.time(), "+inf")
                _, count = await pipe.execute()
            if count == 0:
                offline.append(int(user))
        return offline

    async def keep_fresh(self, on_gone: Callable[[list[int]], Awaitable[None]]) -> None:
        """For ever: renew this process's claims every HEARTBEAT seconds, and every SWEEP
        seconds hand on_gone() the people whose process stopped renewing theirs (it
        crashed). Redis away skips a round; the next one tries again."""
        beat_every = round(HEARTBEAT / SWEEP)
        for tick in itertools.count():
            await asyncio.sleep(SWEEP)
            try:
                if tick % beat_every == 0:
                    await self.heartbeat()
                gone = await self.sweep()
            except (RedisError, OSError) as error:
                log.warning("presence upkeep skipped (%s)", error)
                continue
            if gone:
                try:
                    await on_gone(gone)
                except Exception:
                    log.warning("announcing %s offline failed", gone, exc_info=True)

    async def close(self) -> None:
        """A clean stop gives its claims back at once (a crash leaves them to expire)."""
        users = self.local_users()
        if not users:
            return
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                for user_id in users:
                    pipe.zrem(self._user_key(user_id), self.process)
                pipe.zrem(KEY + "all", *(self._claim(user_id) for user_id in users))
                await pipe.execute()
        except (RedisError, OSError):
            pass
