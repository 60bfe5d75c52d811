"""/healthz says the process is alive; /readyz that it can serve (database, broker)."""

from __future__ import annotations

from tests.support.app import app_config
from vibechat.app import create_app

# A port nothing listens on: the database "is down".
UNREACHABLE_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:9/vibechat"


async def test_both_answer_200_when_all_is_well(app):
    client = app.test_client()
    assert (await client.get("/healthz")).status_code == 200
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert await ready.get_json() == {"status": "ok", "database": "ok", "broker": "in-process"}


async def test_without_its_database_the_app_is_alive_but_not_ready(tmp_path):
    app = create_app(app_config(UNREACHABLE_DATABASE, tmp_path), testing=True)
    async with app.test_app():
        client = app.test_client()
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        body = await ready.get_json()
        assert body["status"] == "unavailable" and body["database"] == "unreachable"
