"""The reference: the least a Quart + hypercorn chat server can do, measured beside the app.

No database, no sessions, no templates. A socket joins a room (`/ws?room=…`); a POST
to /broadcast sends one fixed ~200-byte HTML fragment, carrying the post's marker, to
every socket of the room, straight from the handler. /page answers a fixed page the
size of a chat page, and /post a 303, for the history and posting scenarios. What the
app does beyond this is what it costs to be a chat.
"""

from __future__ import annotations

from collections import defaultdict

from quart import Quart, request, websocket

from bench import probe

app = Quart(__name__)
probe.install(app)
rooms: defaultdict[str, set] = defaultdict(set)

FRAGMENT = (
    '<li id="msg-1-{marker}" data-hx-swap-oob="beforeend:#messages" class="message">'
    "<p>{marker}</p><p>A message of a typical length, as the town hall sends it.</p></li>"
)
PAGE = "<!doctype html><title>Chat</title><ol>" + "<li>A message of history</li>" * 50 + "</ol>"


@app.websocket("/ws")
async def socket():
    room = rooms[websocket.args.get("room", "all")]
    connection = websocket._get_current_object()
    await websocket.accept()
    room.add(connection)
    try:
        while True:
            await websocket.receive()
    finally:
        room.discard(connection)


@app.post("/broadcast")
async def broadcast():
    form = await request.form
    frame = FRAGMENT.format(marker=form["body"])
    for connection in tuple(rooms[request.args.get("room", "all")]):
        await connection.send(frame)
    return "", 204


@app.get("/page")
async def page():
    return PAGE


@app.post("/post")
async def post():
    await request.form
    return "", 303, {"Location": "/page"}
