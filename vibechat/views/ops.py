"""Health and readiness."""

from __future__ import annotations

import logging

from quart import Blueprint, current_app
from sqlalchemy import text

from vibechat.web import db

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
        async with db().read() as session:
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
