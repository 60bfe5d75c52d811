"""One socket's read notices, `{"read": <chat>, "seq": <seq>}`: written a few at a time.

A page on a busy chat reads every live message as it arrives, and says so; writing
each notice would be a write transaction and an unread frame per reader per message
(what the POST /chats/<id>/read after every message cost). So a socket keeps the
highest seq per chat it was told, and writes: the first notice at once (one message
in a quiet chat is read without delay), then at most once per READ_MARKS_EVERY
seconds whatever arrived meanwhile (a burst of 30 messages read one by one is two
writes, not 30), and what is left when the socket closes. Per socket rather than per
person: a person's tabs each write their own, and the second finds the mark already
moved (a read, no write).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

READ_MARKS_EVERY = 1.0  # seconds between one socket's writes of read marks
FLUSH_WITHIN = 2.0  # seconds a closing socket waits for its last marks to be written


class ReadNotices:
    """The highest seq per chat a socket was told of and has not written yet. Made on
    a socket's first read notice: an idle socket pays nothing for it (10,000 of them
    are held at once)."""

    def __init__(self, write: Callable[[int, int], Awaitable[None]]) -> None:
        self._write = write  # write(chat_id, seq): move the mark (vibechat.read_marks)
        self._waiting: dict[int, int] = {}  # chat -> highest seq not yet written
        self._written: dict[int, int] = {}  # chat -> highest seq written (or tried)
        self._writer: asyncio.Task | None = None
        self._resting = False  # the writer waits out READ_MARKS_EVERY
        self._closed = False

    def note(self, chat_id: int, seq: int) -> None:
        """The page has shown the chat up to seq (checked by the caller)."""
        if self._closed:
            return
        if seq <= max(self._written.get(chat_id, 0), self._waiting.get(chat_id, 0)):
            return  # older news: the mark is there or on its way
        self._waiting[chat_id] = seq
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_while_waiting())

    async def _write_while_waiting(self) -> None:
        try:
            while self._waiting:
                await self._write_waiting()
                if self._closed:
                    return  # close() writes what came meanwhile, without a rest
                self._resting = True
                await asyncio.sleep(READ_MARKS_EVERY)
                self._resting = False
        finally:
            self._writer = None
            self._resting = False

    async def _write_waiting(self) -> None:
        waiting, self._waiting = self._waiting, {}
        for chat_id, seq in waiting.items():
            self._written[chat_id] = seq
            try:
                await self._write(chat_id, seq)
            except Exception:
                # Like a lost frame: the page marks the chat read again on its next
                # notice or when it next opens it.
                log.exception("writing a read mark failed")

    async def close(self) -> None:
        """The socket is closing: write what is waiting, without the rest between
        writes (and for at most FLUSH_WITHIN seconds)."""
        self._closed = True
        if self._writer is not None:
            if self._resting:
                self._writer.cancel()
            # asyncio.wait, not await: the writer's cancellation is not ours to raise.
            await asyncio.wait([self._writer], timeout=FLUSH_WITHIN)
        if self._waiting:
            try:
                await asyncio.wait_for(self._write_waiting(), FLUSH_WITHIN)
            except TimeoutError:
                log.warning("read marks not written within %s s of the close", FLUSH_WITHIN)
