"""Health, readiness and the Prometheus scrape."""

from __future__ import annotations

import hmac
import logging

from prometheus_client import CONTENT_TYPE_LATEST
from quart import Blueprint, abort, current_app, request
from sqlalchemy import text

from vibechat.metrics import exposition
from vibechat.web import db, settings

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


def _scrape_allowed() -> bool:
    if not settings().metrics:
        return False
    token = settings().metrics_token
    if not token:
        return True
    sent = request.headers.get("Authorization", "")
    return hmac.compare_digest(sent.encode(), f"Bearer {token}".encode())


@bp.get("/metrics")
async def metrics():
    """Every metric in Prometheus' text format; 404 when off or the token is wrong."""
    if not _scrape_allowed():
        abort(404)
    return exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
