"""Topics and the envelope a frame travels in through the broker: one line of JSON for
the socket handler (which chats to join or leave, which session ended), then the
frame's bytes, which go to every recipient unchanged. No web stack: the command line
publishes envelopes too (`vibechat deactivate-user`)."""

from __future__ import annotations

import functools
import json
from typing import Any

# Every this many seconds, a server closes the sockets whose session no longer exists. A
# logout or an admin command in the same process (or, with Redis, any) closes them at
# once with a "revoke" envelope; this catches what no envelope announced:
# `vibechat deactivate-user` without Redis (the command tells its user how long).
SESSION_CHECK = 30.0

TOPIC_CHAT = "chat:{}"
TOPIC_USER = "user:{}"


def chat_topic(chat_id: int) -> str:
    return TOPIC_CHAT.format(chat_id)


def user_topic(user_id: int) -> str:
    return TOPIC_USER.format(user_id)


# Between the languages of a frame that reads differently in each (vibechat.live.frames):
# a character no frame holds (the forms refuse control characters in what people type).
BETWEEN_LANGUAGES = "\0"


def seal(frame: str | tuple[str, ...], **control: Any) -> bytes:
    """Envelope: a JSON line for the socket handler, then the frame itself; a frame in
    several languages goes as one when they read the same, else all of them."""
    if not isinstance(frame, str):
        frame = frame[0] if len(set(frame)) == 1 else BETWEEN_LANGUAGES.join(frame)
    return json.dumps(control, separators=(",", ":")).encode() + b"\n" + frame.encode()


NO_CONTROL = b"{}\n"


# A broadcast reaches every subscriber with the same bytes object: open it once, and
# every connection queues the same str (bytes cache their hash, so a hit costs little).
# The control dict is shared between connections: it is read, never changed.
@functools.lru_cache(maxsize=64)
def open_envelope(data: bytes) -> tuple[dict[str, Any], str | tuple[str, ...]]:
    """The control dict, and the frame: one str for everyone, or one per language."""
    if data.startswith(NO_CONTROL):  # almost every frame: skip the JSON parser
        control, frame = {}, data[len(NO_CONTROL) :].decode()
    else:
        header, _, body = data.partition(b"\n")
        control, frame = json.loads(header), body.decode()
    if BETWEEN_LANGUAGES in frame:
        return control, tuple(frame.split(BETWEEN_LANGUAGES))
    return control, frame
