"""Hypercorn settings that `vibechat serve` and the Procfile load (`--config python:…`).

Command-line flags (bind, workers) still override these.
"""

import sys

from vibechat.config import ConfigError, load_settings
from vibechat.live.protocol import MAX_MESSAGE_BYTES

try:
    _settings = load_settings()
except ConfigError as error:
    # One line and the command line's status for a bad setting, not a traceback.
    print(f"vibechat: {error}", file=sys.stderr)
    raise SystemExit(2) from None

# The page only ever sends small JSON on its socket; hypercorn's default would buffer
# 16 MiB per message before the app could refuse it. Bigger messages close with 1009
# (compressed ones too, as they inflate: vibechat/live/protocol.py).
websocket_max_message_size = MAX_MESSAGE_BYTES

# On a stop (SIGTERM to the main process or to the whole process group, or Ctrl+C): how
# long requests in flight get to finish (sockets close at once with 1012, see
# vibechat/shutdown.py). Keep it below the platform's kill timeout (Docker's
# `stop_grace_period`, 10 s by default) so the app's own shutdown runs too.
graceful_timeout = _settings.graceful_timeout

# hypercorn's own lines (start-up, errors) go through the app's log handler, in
# VIBECHAT_LOG_FORMAT like every other line; its access log stays off, because the app
# writes one line per request itself, with the request id (vibechat/logs.py).
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "loggers": {"hypercorn.error": {"handlers": [], "propagate": True}},
}

# No "server: hypercorn-h11" on every response: it tells a visitor nothing they need
# and costs 23 bytes each, about 300 on a chat's first visit (13 responses, SPEC §7's
# budget). The Date header stays (RFC 9110 asks a server with a clock to send it).
include_server_header = False
