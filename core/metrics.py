"""Prometheus metrics, with prometheus_client.

Under gunicorn every worker is its own process with its own counters, and a
scrape reaches one worker at random. prometheus_client's multiprocess mode
solves that: when PROMETHEUS_MULTIPROC_DIR is set (deploy/gunicorn.conf.py
sets and empties it at start), every process writes its samples to files in
that directory and a scrape adds up the files of all workers, those that
`max_requests` already replaced included. Without it (tests, manage.py)
the process's own registry is served.

Metrics are per app server: Prometheus scrapes each server directly, never
through the balancer (which would answer for a random server). The nginx
site file refuses /metrics from outside.
"""

import logging
import os

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils.module_loading import import_string
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger(__name__)

REQUESTS = Counter(
    "behorighet_http_requests",
    "Requests answered, by route name, method and status.",
    ["route", "method", "status"],
)
REQUEST_DURATION = Histogram(
    "behorighet_http_request_duration_seconds",
    "Time from the request reaching Django to the response leaving it, by route name.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LOGINS = Counter(
    "behorighet_logins",
    "Outcomes of login steps: succeeded, failed, throttled, refused (right "
    "credentials at the wrong door or without a usable card).",
    ["door", "factor", "outcome"],
)
THROTTLE_HITS = Counter(
    "behorighet_throttle_hits",
    "Attempts refused by a throttle before the secret was looked at.",
    ["throttle"],
)

# Set by gunicorn's hooks (deploy/gunicorn.conf.py) in each worker; summed
# over the live workers at a scrape ("livesum").
WORKERS = Gauge(
    "behorighet_gunicorn_workers",
    "gunicorn workers alive on this server.",
    multiprocess_mode="livesum",
)
BUSY_WORKERS = Gauge(
    "behorighet_gunicorn_busy_workers",
    "gunicorn workers serving a request now; all of them busy means requests queue.",
    multiprocess_mode="livesum",
)
POOL = Gauge(
    "behorighet_db_pool_connections",
    "Database connections of this server's pools (one pool per worker): `open` "
    "now, `max` allowed (DATABASE_POOL_MAX per worker).",
    ["state"],
    multiprocess_mode="livesum",
)
POOL_WAITS = Counter(
    "behorighet_db_pool_waits",
    "Requests for a pooled connection that had to wait (`queued`) or gave up "
    "after DATABASE_POOL_TIMEOUT (`timed_out`).",
    ["outcome"],
)

METHODS = frozenset({"GET", "HEAD", "POST"})


def worker_started() -> None:
    WORKERS.set(1)
    BUSY_WORKERS.set(0)


def worker_busy(busy: bool) -> None:
    BUSY_WORKERS.set(1 if busy else 0)


def pool_observed() -> None:
    """This worker's pool, read after each request (psycopg_pool's stats)."""
    # Only the PostgreSQL backend has a pool, and only when configured.
    pool = getattr(connection, "pool", None) if connection.vendor == "postgresql" else None
    if pool is None:
        return
    stats = pool.pop_stats()
    POOL.labels(state="open").set(stats.get("pool_size", 0))
    POOL.labels(state="max").set(stats.get("pool_max", 0))
    POOL_WAITS.labels(outcome="queued").inc(stats.get("requests_queued", 0))
    POOL_WAITS.labels(outcome="timed_out").inc(stats.get("requests_errors", 0))


def request_observed(*, route: str, method: str, status: int, seconds: float) -> None:
    method = method if method in METHODS else "other"
    REQUESTS.labels(route=route, method=method, status=str(status)).inc()
    REQUEST_DURATION.labels(route=route).observe(seconds)


def login_observed(*, action: str, details: dict) -> None:
    """Count a login step from its audit event.

    Every login outcome is audited exactly once (the house rule), so the
    audit writer is the one place that sees them all, whichever door or
    throttle produced them; the login code itself needs no metric calls.
    """
    factor = str(details.get("factor") or "unknown")
    door = str(details.get("door") or ("etjanster" if factor == "matrix_card" else "unknown"))
    if action == "login_succeeded":
        outcome = "succeeded"
    elif action == "password_accepted":
        # The first of two steps: the login itself is counted at the second.
        outcome = "passed_on"
    elif details.get("throttled"):
        outcome = "throttled"
        throttle_hit(throttle=f"password_{details['throttled']}")
    elif details.get("refused"):
        outcome = "refused"
    else:
        outcome = "failed"
    LOGINS.labels(door=door, factor=factor, outcome=outcome).inc()


def throttle_hit(*, throttle: str) -> None:
    THROTTLE_HITS.labels(throttle=throttle).inc()


class OutboxCollector:
    """The outbox length, read from the database at each scrape.

    A gauge set by the workers would be wrong with several processes and
    servers; one COUNT at scrape time is right and cheap. The function is
    named by settings.METRICS_OUTBOX_LENGTH (docs/operations.md, "Metrics").
    """

    def describe(self):
        # Without describe() the registry would call collect(), and so the
        # database, at registration time.
        return []

    def collect(self):
        families = []
        for setting, name, documentation in (
            ("METRICS_OUTBOX_LENGTH", "behorighet_outbox_messages", "Mails waiting in the outbox."),
            (
                "METRICS_OUTBOX_OLDEST_AGE",
                "behorighet_outbox_oldest_age_seconds",
                "How long the oldest mail still waiting in the outbox has waited (0: none waits).",
            ),
        ):
            function = getattr(settings, setting, "")
            if not function:
                continue
            try:
                value = import_string(function)()
            except DatabaseError:
                # The other metrics still answer during a database outage.
                logger.warning("The outbox could not be read for /metrics.")
                return []
            families.append(GaugeMetricFamily(name, documentation, value=value))
        return families


OUTBOX = OutboxCollector()


def _multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


if not _multiprocess_dir():
    REGISTRY.register(OUTBOX)


def exposition() -> tuple[bytes, str]:
    """The text a scrape gets, and its content type."""
    if _multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(OUTBOX)
    else:
        registry = REGISTRY
    return generate_latest(registry), CONTENT_TYPE_LATEST
