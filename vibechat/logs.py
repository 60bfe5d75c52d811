"""Logs: one line per request, a request id through every line, text or JSON.

VIBECHAT_LOG_FORMAT=json writes one JSON object per line (time, level, logger, message,
and within a request: request_id, user_id, route, and on the request's own line method,
path, status, duration_ms). A request id comes from `X-Request-ID` when the client (a
proxy) sends a sane one, else it is made here (16 hex digits); the response returns it
(static files excepted).

What never reaches a log: passwords, session tokens, CSRF tokens, cookies, request
bodies and message text. Nothing here logs a header, a form or a query string; the
request line has the path only (tests/test_logs.py reads the log of a whole session).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime

from quart import Quart, g, has_request_context, has_websocket_context, request, websocket

from vibechat import metrics

log = logging.getLogger("vibechat.requests")

# Letters, digits and a little punctuation, as proxies make them (UUIDs, Heroku's,
# nginx's $request_id); anything else might forge log lines, so it is replaced.
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
CONTEXT_FIELDS = ("request_id", "user_id", "route")
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")


def _current():
    if has_request_context():
        return request
    if has_websocket_context():
        return websocket
    return None


def _route(current) -> str | None:
    """The URL rule that matched (`/chats/<id:chat_id>`): few values, unlike paths."""
    return current.url_rule.rule if current.url_rule else None


class RequestContext(logging.Filter):
    """Puts the current request's id, user and route on every record logged within it."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _current()
        if current is not None:
            record.request_id = g.get("request_id")
            user = g.get("user")
            record.user_id = user.id if user is not None else None
            record.route = _route(current)
        return True


# Characters that would let a logged value forge a line or drive the terminal: C0 and C1
# controls (CR, LF, ESC...), DEL, and Unicode's own line and paragraph separators.
CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`text` on one line, its control characters written as escapes (\\n, \\x1b)."""
    return CONTROLS.sub(
        lambda match: NAMED_ESCAPES.get(match[0]) or match[0].encode("unicode_escape").decode(),
        text,
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS + REQUEST_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        # json escapes C0 controls itself; C1 ones (NEL), DEL and U+2028/2029 it keeps
        # as they are, and some readers (Python's splitlines among them) break lines there.
        return CONTROLS.sub(
            lambda match: f"\\u{ord(match[0]):04x}", json.dumps(entry, ensure_ascii=False)
        )


class TextFormatter(logging.Formatter):
    """For a terminal: the usual line, with the request id at the end when there is one.

    Every line is one record: what a request put in it (a path, say) cannot start a
    line of its own or send escape sequences to the terminal. A traceback keeps its
    lines, each indented under the record, its values escaped the same way."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = escape_controls(self.formatMessage(record))
        request_id = getattr(record, "request_id", None)
        if request_id:
            line += f" [{escape_controls(request_id)}]"
        # Formatted here, not from record.exc_text: another handler may have cached it raw.
        if record.exc_info:
            line += "\n" + self._indented(self.formatException(record.exc_info))
        if record.stack_info:
            line += "\n" + self._indented(self.formatStack(record.stack_info))
        return line

    @staticmethod
    def _indented(text: str) -> str:
        return "\n".join("    " + escape_controls(line) for line in text.split("\n"))


def configure_logging(log_format: str) -> None:
    """Every log of this process to stderr, in the chosen format: ours at INFO, other
    libraries' (hypercorn's too, see hypercorn_config.py) at WARNING and above."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "vibechat", False)), None)
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.vibechat = True
        handler.addFilter(RequestContext())
        root.addHandler(handler)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    if root.level > logging.WARNING or root.level == logging.NOTSET:
        root.setLevel(logging.WARNING)
    logging.getLogger("vibechat").setLevel(logging.INFO)
    logging.getLogger("hypercorn.error").setLevel(logging.INFO)


def _start() -> None:
    sent = (_current().headers.get("X-Request-ID") or "").strip()
    g.request_id = sent if SANE_REQUEST_ID.fullmatch(sent) else secrets.token_hex(8)
    g.request_started = time.perf_counter()


async def _finish(response):
    if "request_started" not in g:
        return response  # refused before _start ran (it runs first; defensive)
    seconds = time.perf_counter() - g.request_started
    route = _route(request) or "(no route)"
    metrics.observe_request(route, request.method, response.status_code, seconds)
    if request.path.startswith("/static/"):
        # Versioned files, the same for everyone: counted, neither logged nor tagged
        # (the id's header would cost a phone's first visit about 200 bytes).
        return response
    response.headers["X-Request-ID"] = g.request_id
    if request.path in ("/healthz", "/metrics"):
        return response  # counted, not logged: probes would drown the rest
    log.info(
        "%s %s %s",
        request.method,
        request.path,
        response.status_code,
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round(seconds * 1000, 1),
        },
    )
    return response


def init_request_logging(app: Quart) -> None:
    """Request ids for every request and socket; one log line per request, and each
    request counted in the metrics (the same hook times both)."""
    app.before_request(_start)
    app.before_websocket(_start)
    app.after_request(_finish)
