"""The heartbeat on /ws (vibechat/live/heartbeat.py): every socket gets an empty frame
every VIBECHAT_WS_HEARTBEAT seconds, a page that answers stays, and a page that falls
silent (its network a black hole: nothing arrives, nothing closes) is closed with 4408
and shown offline to the others. The page's side is in tests/test_live_browser.py.

The app here beats every second, so a silent page is dropped after about four.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import pytest

from tests.support.app import app_config
from tests.support.db import user_id
from tests.support.live import close_code, live
from tests.support.people import send
from vibechat.app import create_app
from vibechat.live.heartbeat import HEARTBEAT, SILENT_AFTER, beat
from vibechat.live.hub import SILENT
from vibechat.live.socket import Connection
from vibechat.models import utcnow

EVERY = 1  # seconds between heartbeats here
# A deadline for the drop: SILENT_AFTER heartbeats, one more for the check's own period,
# and room for a machine busy with several test processes.
DROPPED_WITHIN = (SILENT_AFTER + 1) * EVERY + 6


@pytest.fixture
async def app(app_database_url, tmp_path):
    app = create_app(
        app_config(app_database_url, tmp_path, VIBECHAT_WS_HEARTBEAT=EVERY), testing=True
    )
    async with app.test_app():
        yield app


async def test_every_socket_gets_empty_heartbeats_and_one_that_answers_stays_open(
    alice, watercooler
):
    async with live(alice.client) as alice_ws:
        # Socket.receive answers each heartbeat with an empty frame, as the page does.
        await alice_ws.quiet("li.message", within=(SILENT_AFTER + 2) * EVERY)
        assert alice_ws.heartbeats >= SILENT_AFTER
        await send(alice, watercooler, "still here")
        frame = await alice_ws.until("li.message")
        assert "still here" in frame.raw


async def test_a_silent_page_is_closed_with_4408_and_shown_offline_to_the_others(
    alice, bob, watercooler, db
):
    alice_presence = f"#presence-{await user_id(db, 'alice')}"
    async with live(bob.client) as bob_ws:
        async with live(alice.client) as alice_ws:
            online = (await bob_ws.until(alice_presence)).top(alice_presence)
            assert online.text() == "online"
            # Alice's page hears nothing and says nothing from now on; bob's answers.
            code, offline = await asyncio.gather(
                close_code(alice_ws, DROPPED_WITHIN),
                bob_ws.until(alice_presence, within=DROPPED_WITHIN),
            )
            assert code == SILENT
            assert offline.top(alice_presence).text() == "offline"
        # Bob, who answered every heartbeat, is still connected.
        await send(alice, watercooler, "are you there, bob?")
        assert "are you there, bob?" in (await bob_ws.until("li.message")).raw
        assert bob_ws.heartbeats >= SILENT_AFTER


async def test_a_busy_socket_gets_no_heartbeat_and_a_silent_one_is_closed():
    """beat() itself: frames already queued prove life, and silence past the limit
    closes the socket instead of queueing more."""
    later = utcnow() + timedelta(days=1)

    def connection(user_id: int, heard_at: float) -> Connection:
        made = Connection(SimpleNamespace(broker=None), SimpleNamespace(id=user_id), "h", later, 8)
        made.heard_at = heard_at
        return made

    now = 1000.0
    fresh, busy = connection(1, now - EVERY), connection(2, now - EVERY)
    busy.queue.put_nowait("<p id='n' hx-swap-oob='true'>a frame</p>")
    silent = connection(3, now - (SILENT_AFTER + 0.5) * EVERY)
    beat({fresh, busy, silent}, EVERY, now)
    assert fresh.queue.get_nowait() == HEARTBEAT and not fresh.closing.is_set()
    assert busy.queue.qsize() == 1 and not busy.closing.is_set()
    assert silent.queue.empty() and silent.close_code == SILENT
