"""Prometheus metrics, right with several workers (prometheus_client's multiprocess mode).

With PROMETHEUS_MULTIPROC_DIR set (the Dockerfile does, and empties it at start) every worker
writes its numbers to files there and a scrape adds them all up; without it (one process,
tests) they live in memory.
"""

import os
import time

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # a one-off command in the image has no server
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

from prometheus_client import (  # noqa: E402 - it reads the directory's setting on import
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUESTS = Counter(
    "http_requests_total", "Requests answered, by route and status.", ["method", "route", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer, by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
ERRORS = Counter(
    "http_unhandled_errors_total", "Unhandled errors (answered 500), by route.", ["route", "error"]
)
LAST_ERROR = Gauge(
    "http_last_unhandled_error_timestamp_seconds",
    "When an unhandled error last happened, by route and kind.",
    ["route", "error"],
    multiprocess_mode="max",
)
POOL = Gauge(
    "db_pool_connections",
    "Database connections of the workers' pools: checked out, or open in all.",
    ["state"],
    multiprocess_mode="livesum",
)

STARTED = Gauge(
    "app_start_time_seconds", "When the oldest running worker started.", multiprocess_mode="livemin"
)
STARTED.set(time.time())


def observe(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


def error(route: str, kind: str) -> None:
    ERRORS.labels(route, kind).inc()
    LAST_ERROR.labels(route, kind).set(time.time())


def pool(checked_out: int, size: int) -> None:
    POOL.labels("in_use").set(checked_out)
    POOL.labels("open").set(size)


def exposition() -> tuple[bytes, str]:
    """The text a Prometheus scrape reads: every worker's numbers added up."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def worker_stopped() -> None:
    """Drop this worker's live gauges (the pool) from the sums."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(os.getpid())
