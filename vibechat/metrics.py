"""Prometheus metrics (prometheus_client); the /metrics endpoint is in views/ops.py.

No web stack here: the brokers count too, and the command line publishes through them.
The endpoint is off unless VIBECHAT_METRICS=on; with VIBECHAT_METRICS_TOKEN set, a
scrape must send `Authorization: Bearer <token>`. Either way a refused scrape is a 404,
like any page that is not there. What to alert on is in docs/operations.md.

With several hypercorn workers, each process counts its own; `vibechat serve` then sets
PROMETHEUS_MULTIPROC_DIR (prometheus_client's multiprocess mode) so that a scrape,
whichever worker answers it, reports the sum over all of them.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# Seconds: from a fast page (a few ms) to a request that waited on a busy database.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
# Seconds: handing one frame to every socket of a chat in this process.
FANOUT_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)

REQUESTS = Counter(
    "vibechat_http_requests",
    "HTTP requests answered, by route (the URL rule, not the path), method and status.",
    ["route", "method", "status"],
)
REQUEST_SECONDS = Histogram(
    "vibechat_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and method.",
    ["route", "method"],
    buckets=LATENCY_BUCKETS,
)
OPEN_SOCKETS = Gauge(
    "vibechat_open_sockets",
    "Live WebSockets open now.",
    multiprocess_mode="livesum",
)
MESSAGES_POSTED = Counter("vibechat_messages_posted", "Messages stored (not counting resends).")
FANOUT_SECONDS = Histogram(
    "vibechat_fanout_seconds",
    "Time to hand one published frame to every subscribed socket in this process.",
    buckets=FANOUT_BUCKETS,
)
BROKER_LAG_SECONDS = Histogram(
    "vibechat_broker_lag_seconds",
    "With Redis: from publish in one process to arrival in this one (clocks of"
    " different hosts must agree for this to mean anything).",
    buckets=FANOUT_BUCKETS,
)
SLOW_CONSUMERS_DROPPED = Counter(
    "vibechat_slow_consumers_dropped",
    "Sockets closed (1013) because their queue overflowed; each page reconnects.",
)
SOCKETS_REFUSED = Counter(
    "vibechat_sockets_refused",
    "Sockets closed at once (4429) because their session or person had too many open"
    " in this process, by which cap (session, person).",
    ["cap"],
)
RATE_LIMIT_REFUSALS = Counter(
    "vibechat_rate_limit_refusals",
    "Tries refused by a rate limit, by limit.",
    ["limit"],
)


def observe_request(route: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(route, method, str(status)).inc()
    REQUEST_SECONDS.labels(route, method).observe(seconds)


def process_ended() -> None:
    """In multiprocess mode: this worker's open-socket count stops counting."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())


def exposition() -> bytes:
    """Every metric in Prometheus' text format: this process's, or all workers' sum."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
