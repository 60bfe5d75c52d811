"""vibechat/live/read_notices.py: one socket's read marks, written a few at a time."""

from __future__ import annotations

import asyncio

import pytest

from vibechat.live import read_notices
from vibechat.live.read_notices import ReadNotices

WITHIN = 1.0  # what should happen at once happens well within this


class Marks:
    """A stand-in for the database: every write, and a gate a test may hold shut."""

    def __init__(self) -> None:
        self.written: list[tuple[int, int]] = []
        self.open = asyncio.Event()
        self.open.set()
        self.wrote = asyncio.Event()

    async def write(self, chat_id: int, seq: int) -> None:
        await self.open.wait()
        self.written.append((chat_id, seq))
        self.wrote.set()

    async def next_write(self) -> None:
        await asyncio.wait_for(self.wrote.wait(), WITHIN)
        self.wrote.clear()


@pytest.fixture
def marks() -> Marks:
    return Marks()


@pytest.fixture(autouse=True)
def long_rest(monkeypatch):
    """A rest long enough that anything written before it ends was not waiting for it."""
    monkeypatch.setattr(read_notices, "READ_MARKS_EVERY", 60.0)


async def test_the_first_notice_is_written_at_once_and_the_rest_wait_their_turn(marks):
    notices = ReadNotices(marks.write)
    notices.note(1, 5)
    await marks.next_write()
    for seq in (6, 9, 7):
        notices.note(1, seq)
    notices.note(2, 3)
    await asyncio.sleep(0.1)
    assert marks.written == [(1, 5)]
    await asyncio.wait_for(notices.close(), WITHIN)
    assert marks.written == [(1, 5), (1, 9), (2, 3)]


async def test_a_notice_at_or_behind_what_was_written_is_dropped(marks):
    notices = ReadNotices(marks.write)
    notices.note(1, 5)
    await marks.next_write()
    notices.note(1, 5)
    notices.note(1, 4)
    notices.note(1, 0)
    await asyncio.wait_for(notices.close(), WITHIN)
    assert marks.written == [(1, 5)]


async def test_closing_during_a_write_finishes_it_and_writes_what_came_meanwhile(marks):
    notices = ReadNotices(marks.write)
    marks.open.clear()  # the first write hangs in the database
    notices.note(1, 5)
    await asyncio.sleep(0.05)
    notices.note(1, 8)
    closing = asyncio.create_task(notices.close())
    await asyncio.sleep(0.05)
    assert not closing.done()
    marks.open.set()
    await asyncio.wait_for(closing, WITHIN)
    assert marks.written == [(1, 5), (1, 8)]


async def test_after_close_notices_are_ignored(marks):
    notices = ReadNotices(marks.write)
    await notices.close()
    notices.note(1, 5)
    await asyncio.sleep(0.05)
    assert marks.written == []


async def test_a_failed_write_is_logged_and_the_next_notice_is_written(caplog):
    written = []

    async def flaky(chat_id: int, seq: int) -> None:
        if not written:
            written.append(None)
            raise RuntimeError("the database went away")
        written.append((chat_id, seq))

    notices = ReadNotices(flaky)
    notices.note(1, 5)
    await asyncio.sleep(0.05)
    notices.note(1, 6)
    await asyncio.wait_for(notices.close(), WITHIN)
    assert written == [None, (1, 6)]
    assert "writing a read mark failed" in caplog.text
