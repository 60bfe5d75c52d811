"""/metrics: off by default, on with VIBECHAT_METRICS, behind a token when one is set,
and every metric the operations issue names moves when its event happens.

prometheus_client's registry is one per process, so each test reads the figures
before and after and compares the difference."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.app import app_config
from tests.support.live import close_code, live
from tests.support.people import People, send
from tests.support.redis import Inbox
from vibechat.app import create_app
from vibechat.live.broker import LocalBroker
from vibechat.live.envelope import seal

TOKEN = "scrape-token-for-tests"


@pytest.fixture
async def metered(app_database_url, tmp_path):
    """The app with metrics on (no token)."""
    app = create_app(app_config(app_database_url, tmp_path, VIBECHAT_METRICS=True), testing=True)
    async with app.test_app():
        yield app


def sample(text: str, name: str, **labels: str) -> float:
    """One sample's value from an exposition (0 when it is not there yet)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return found.value
    return 0.0


async def scrape(client, **headers) -> str:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return (await response.get_data()).decode()


async def test_metrics_are_off_unless_turned_on(app):
    client = app.test_client()
    assert (await client.get("/metrics")).status_code == 404
    authorised = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert authorised.status_code == 404


@pytest.mark.parametrize("extra", [{"VIBECHAT_METRICS_TOKEN": TOKEN}])
async def test_with_a_token_only_a_scrape_that_sends_it_is_answered(
    app_database_url, tmp_path, extra
):
    app = create_app(
        app_config(app_database_url, tmp_path, VIBECHAT_METRICS=True, **extra), testing=True
    )
    async with app.test_app():
        client = app.test_client()
        assert (await client.get("/metrics")).status_code == 404
        for wrong in (f"Bearer {TOKEN}x", TOKEN, "Bearer ", f"Basic {TOKEN}"):
            assert (
                await client.get("/metrics", headers={"Authorization": wrong})
            ).status_code == 404
        text = await scrape(client, Authorization=f"Bearer {TOKEN}")
        assert "vibechat_http_requests_total" in text


async def test_requests_are_counted_by_route_method_and_status_with_their_latency(metered):
    client = metered.test_client()
    before = await scrape(client)
    route = {"route": "/chats/<id:chat_id>", "method": "GET"}
    people = People(metered)
    alice = await people.sign_up("alice")  # through the form: its request is counted too
    for _ in range(3):
        assert (await alice.get("/chats/999")).status_code == 404
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("vibechat_http_requests_total", status="404", **route) == 3
    assert delta("vibechat_http_requests_total", status="200", **route) == 0
    assert delta("vibechat_http_request_duration_seconds_count", **route) == 3
    assert delta("vibechat_http_request_duration_seconds_bucket", le="+Inf", **route) == 3
    assert delta("vibechat_http_requests_total", route="/register", method="POST", status="303")
    # An unknown path is one label, not one per path (no unbounded label values).
    assert (await client.get("/no/such/page/42")).status_code == 404
    text = await scrape(client)
    assert sample(text, "vibechat_http_requests_total", route="(no route)", status="404") >= 1
    assert "/no/such/page/42" not in text


async def test_a_message_posted_is_counted_once_and_fans_out(metered):
    client = metered.test_client()
    people = People(metered)
    alice, bob = await people("alice"), await people("bob")
    response = await alice.post("/chats", {"title": "Counted", "members": "bob"})
    chat = int(response.headers["Location"].rsplit("/", 1)[1])
    before = await scrape(client)
    async with live(bob.client) as bob_ws:
        assert (await send(alice, chat, "one", client_token="same-token-1")).status_code == 303
        assert (await send(alice, chat, "one", client_token="same-token-1")).status_code == 303
        await bob_ws.until(f"#msg-{chat}-1")
        during = await scrape(client)
    assert (
        sample(during, "vibechat_messages_posted_total")
        - sample(before, "vibechat_messages_posted_total")
        == 1
    ), "a resend with the same client_token is not a new message"
    assert sample(during, "vibechat_fanout_seconds_count") > sample(
        before, "vibechat_fanout_seconds_count"
    )


async def test_open_sockets_are_counted_while_open(metered):
    client = metered.test_client()
    alice = await People(metered)("alice")
    before = sample(await scrape(client), "vibechat_open_sockets")
    async with live(alice.client), live(alice.client):
        assert sample(await scrape(client), "vibechat_open_sockets") == before + 2
    for _ in range(50):  # the handler's finally runs just after the close
        if sample(await scrape(client), "vibechat_open_sockets") == before:
            break
        await asyncio.sleep(0.02)
    assert sample(await scrape(client), "vibechat_open_sockets") == before


async def test_a_slow_consumer_dropped_is_counted(app_database_url, tmp_path):
    app = create_app(
        app_config(app_database_url, tmp_path, VIBECHAT_METRICS=True, VIBECHAT_WS_QUEUE=2),
        testing=True,
    )
    async with app.test_app():
        client = app.test_client()
        people = People(app)
        alice, bob = await people("alice"), await people("bob")
        response = await alice.post("/chats", {"title": "Busy", "members": "bob"})
        chat = int(response.headers["Location"].rsplit("/", 1)[1])
        before = sample(await scrape(client), "vibechat_slow_consumers_dropped_total")
        stuck = asyncio.Event()
        async with live(bob.client, stuck=stuck) as bob_ws:
            for n in range(6):
                await send(alice, chat, f"flood {n}")
            stuck.set()
            assert await close_code(bob_ws, 5) == 1013
        after = sample(await scrape(client), "vibechat_slow_consumers_dropped_total")
        assert after == before + 1


@pytest.mark.parametrize("extra", [{"VIBECHAT_LIMIT_MESSAGES": "2 per 10 seconds"}])
async def test_rate_limit_refusals_are_counted_by_limit(app_database_url, tmp_path, extra):
    settings = {"VIBECHAT_METRICS": True, "VIBECHAT_RATE_LIMITS": True, **extra}
    app = create_app(app_config(app_database_url, tmp_path, **settings), testing=True)
    async with app.test_app():
        client = app.test_client()
        alice = await People(app)("alice")
        response = await alice.post("/chats", {"title": "Limited"})
        chat = int(response.headers["Location"].rsplit("/", 1)[1])
        before = sample(
            await scrape(client), "vibechat_rate_limit_refusals_total", limit="messages"
        )
        statuses = [(await send(alice, chat, f"m{n}")).status_code for n in range(4)]
        assert statuses == [303, 303, 429, 429]
        after = sample(await scrape(client), "vibechat_rate_limit_refusals_total", limit="messages")
        assert after == before + 2


async def test_a_publish_with_nobody_listening_is_not_a_fanout(metered):
    client = metered.test_client()
    broker = LocalBroker()
    before = sample(await scrape(client), "vibechat_fanout_seconds_count")
    await broker.publish("chat:1", seal("<p id='x' data-hx-swap-oob='true'>x</p>"))
    assert sample(await scrape(client), "vibechat_fanout_seconds_count") == before
    broker.subscribe("chat:1", lambda data: None)
    await broker.publish("chat:1", seal("<p id='x' data-hx-swap-oob='true'>x</p>"))
    assert sample(await scrape(client), "vibechat_fanout_seconds_count") == before + 1


async def test_broker_lag_is_measured_for_what_arrives_through_redis(metered, two_processes):
    first, second = two_processes
    client = metered.test_client()
    inbox = Inbox()
    second.subscribe("chat:lag", inbox)
    before = sample(await scrape(client), "vibechat_broker_lag_seconds_count")
    await first.publish("chat:lag", b"{}\nhello")
    assert await inbox.next() == b"{}\nhello", "the time stamp is not handed on"
    after = await scrape(client)
    # Both processes of this test listen: each counts the arrival once.
    assert sample(after, "vibechat_broker_lag_seconds_count") == before + 2
    assert sample(after, "vibechat_broker_lag_seconds_bucket", le="1.0") == sample(
        after, "vibechat_broker_lag_seconds_count"
    )
