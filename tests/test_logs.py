"""Logs: a whole session against a real server with VIBECHAT_LOG_FORMAT=json. Every line
is one JSON object, requests carry their id, user, route, status and duration, and no
password, token, cookie or message text appears anywhere in the log."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys

import httpx
import pytest

from tests.support.app import app_config
from tests.support.people import PASSWORD
from tests.support.remote import RemotePerson, new_chat, unique
from tests.support.servers import restartable_server
from vibechat.app import create_app
from vibechat.logs import TextFormatter

SECRET_BODY = "the launch code is swordfish-7731"
NEW_PASSWORD = "another long passphrase 42"


def json_lines(log: str) -> list[dict]:
    entries = []
    for line in log.splitlines():
        if not line.strip() or line.startswith("--- start"):  # the test server's own marker
            continue
        entries.append(json.loads(line))  # fails on any line that is not JSON
    return entries


async def csrf(person: RemotePerson, path: str) -> str:
    page = await person.http.get(path)
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]


@pytest.fixture
def json_server(tmp_path):
    with restartable_server(tmp_path, settings={"VIBECHAT_LOG_FORMAT": "json"}) as server:
        yield server


@pytest.mark.slow  # a hypercorn process
async def test_a_whole_session_logs_json_lines_with_ids_and_never_a_secret(json_server):
    server = json_server
    alice = await RemotePerson(server.url, unique("alice")).register()
    bob = await RemotePerson(server.url, unique("bob")).register()
    try:
        chat = await new_chat(alice, bob)
        answer = await alice.post(f"/chats/{chat}/messages", {"body": SECRET_BODY})
        assert answer.status_code == 303
        answer = await alice.post(f"/chats/{chat}/messages/1/edit", {"body": SECRET_BODY + "!"})
        assert answer.status_code == 303
        async with alice.socket() as ws:
            await ws.send(json.dumps({"typing": chat}))
            await asyncio.sleep(0.2)
        answer = await alice.post(
            "/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert answer.status_code == 303, answer.status_code
        # A wrong password, a sign-in, a sign-out.
        stranger = RemotePerson(server.url, alice.username)
        token = await csrf(stranger, "/login")
        failed = await stranger.http.post(
            "/login",
            data={"csrf_token": token, "username": alice.username, "password": "wrong-" + PASSWORD},
        )
        assert failed.status_code == 401
        signed_in = await stranger.http.post(
            "/login",
            data={"csrf_token": token, "username": alice.username, "password": NEW_PASSWORD},
        )
        assert signed_in.status_code == 303
        stranger.token = await csrf(stranger, "/chats")
        assert (await stranger.post("/logout", {})).status_code == 303
        await stranger.close()

        # A request id from the proxy is kept and returned; a made-up one is replaced.
        given = await bob.http.get("/chats", headers={"X-Request-ID": "proxy-abc.123"})
        assert given.headers["X-Request-ID"] == "proxy-abc.123"
        forged = await bob.http.get("/chats", headers={"X-Request-ID": 'x" {"level":"ERROR"}'})
        made_here = forged.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{16}", made_here)

        secrets = {
            "a password": PASSWORD,
            "the new password": NEW_PASSWORD,
            "a message body": "swordfish",
            "a CSRF token": alice.token,
            **{f"cookie {key}": value for key, value in alice.http.cookies.items()},
            **{f"cookie {key}": value for key, value in bob.http.cookies.items()},
        }
    finally:
        await alice.close()
        await bob.close()
    server.stop()
    log = server.log_path.read_text()
    for what, secret in secrets.items():
        assert secret and secret not in log, f"{what} is in the log"

    entries = json_lines(log)
    requests = [entry for entry in entries if entry["logger"] == "vibechat.requests"]
    assert len(requests) > 15
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
    for entry in requests:
        assert {"request_id", "method", "path", "status", "duration_ms"} <= entry.keys()
    posted = [e for e in requests if e["path"] == f"/chats/{chat}/messages"]
    assert posted and posted[0]["route"] == "/chats/<id:chat_id>/messages"
    assert posted[0]["status"] == 303 and isinstance(posted[0]["user_id"], int)
    assert any(e["path"] == "/login" and e["status"] == 401 for e in requests)
    assert any(e["request_id"] == "proxy-abc.123" for e in requests)
    assert any(e["request_id"] == made_here for e in requests)
    assert not any('"level":"ERROR"' in e.get("request_id", "") for e in entries)
    # hypercorn's own lines are JSON too, and the socket's close is logged with its id.
    assert any(e["logger"] == "hypercorn.error" for e in entries)
    sockets = [e for e in entries if e["logger"] == "vibechat.live.socket"]
    assert sockets and all(e.get("request_id") and e.get("route") == "/ws" for e in sockets)


async def test_text_logs_name_the_request_id_and_answers_carry_it(tmp_path, sqlite_url):
    app = create_app(app_config(sqlite_url, tmp_path, VIBECHAT_LOG_FORMAT="text"), testing=True)
    # The process's one handler (made by the first app of this test run): read what
    # it writes.
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, "vibechat", False)]
    written = io.StringIO()
    earlier = handler.setStream(written)
    try:
        async with app.test_app():
            client = app.test_client()
            response = await client.get("/login", headers={"X-Request-ID": "req-42"})
            assert response.headers["X-Request-ID"] == "req-42"
            other = await client.get("/login")
            assert re.fullmatch(r"[0-9a-f]{16}", other.headers["X-Request-ID"])
    finally:
        handler.setStream(earlier)
    log = written.getvalue()
    assert re.search(r"INFO vibechat.requests: GET /login 200 \[req-42\]\n", log), log
    assert re.search(r"GET /login 200 \[[0-9a-f]{16}\]\n", log), log


# -- log injection ----------------------------------------------------------------------

# A path that tries to end the log line, start a forged one and colour the terminal.
FORGING_PATH = "/x%0aFORGED%20INFO%20vibechat.requests:%20POST%20/login%20303%0d%1b%5b31m%c2%85"


@pytest.mark.slow  # a hypercorn process
@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_a_request_cannot_forge_a_log_line_or_reach_the_terminal(tmp_path, log_format):
    with restartable_server(tmp_path, settings={"VIBECHAT_LOG_FORMAT": log_format}) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.get(FORGING_PATH)
            assert answer.status_code == 404
            await client.get("/login")  # a line after it, so the forged one is written
        log = server.log()
    lines = [line for line in log.split("\n") if line and not line.startswith("--- start")]
    assert not any(line.startswith("FORGED") for line in lines), log
    assert "\x1b" not in log and "\r" not in log and "\x85" not in log
    if log_format == "json":
        entries = json_lines(log)  # every line is one object
        assert any(e.get("path", "").startswith("/x\nFORGED") for e in entries)
    else:
        assert any(
            "GET /x\\nFORGED INFO vibechat.requests: POST /login 303\\r\\x1b[31m\\x85 404" in line
            for line in lines
        ), log


def test_a_text_log_keeps_a_traceback_under_its_record_with_its_values_escaped():
    formatter = TextFormatter()
    try:
        raise ValueError("bad value\nFORGED line\x1b[2J")
    except ValueError:
        record = logging.LogRecord(
            "vibechat.test", logging.ERROR, __file__, 1, "failed on %s", ("/p\nq",), sys.exc_info()
        )
    first, *rest = formatter.format(record).split("\n")
    assert first.endswith("ERROR vibechat.test: failed on /p\\nq")
    assert rest and all(line.startswith("    ") for line in rest)
    # The exception's own line break stays one (a traceback is lines), indented like the
    # rest, so it cannot pose as a record of its own; the escape sequence is written out.
    assert rest[-2:] == ["    ValueError: bad value", "    FORGED line\\x1b[2J"]
