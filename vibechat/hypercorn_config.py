"""Hypercorn settings that `vibechat serve` and the Procfile load (`--config python:…`).

Command-line flags (bind, workers) still override these.
"""

# The page only ever sends small JSON on its socket; hypercorn's default would buffer
# 16 MiB per message before the app could refuse it. Bigger frames close with 1009.
websocket_max_message_size = 16 * 1024
