"""Health, readiness and logging."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from quart import Blueprint, current_app
from sqlalchemy import text

bp = Blueprint("ops", __name__)


@bp.get("/healthz")
async def healthz():
    """The process is alive."""
    return {"status": "ok"}


@bp.get("/readyz")
async def readyz():
    """The database answers, and Redis when configured; 503 when either does not."""
    status = {"status": "ok", "database": "ok", "broker": "in-process"}
    try:
        async with current_app.extensions["db"].read() as session:
            await session.execute(text("SELECT 1"))
    except Exception:
        logging.getLogger(__name__).warning("readiness check: database unreachable", exc_info=True)
        status.update(status="unavailable", database="unreachable")
    broker = current_app.extensions["live"].broker
    if hasattr(broker, "ping"):
        status["broker"] = "ok" if await broker.ping() else "unreachable"
        if status["broker"] != "ok":
            status["status"] = "unavailable"
    return status, 200 if status["status"] == "ok" else 503


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: str) -> None:
    """Send vibechat's logs to stderr in the chosen format (once per process)."""
    logger = logging.getLogger("vibechat")
    if any(getattr(handler, "vibechat", False) for handler in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.vibechat = True
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
