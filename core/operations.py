"""The operator's endpoints: /healthz, /readyz and /metrics.

Cheap enough to poll every second: /healthz touches nothing, /readyz runs
one `SELECT 1`, one read of the applied migrations, one of the card key's
check value and, with S3 storage, one HEAD of the bucket. Both answer JSON
with 200 or 503 and tell nothing about hosts, users or versions.
"""

import functools
import ipaddress
import logging

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.crypto import constant_time_compare

from core import metrics
from core.keys import card_key_check
from core.storage import storage_readiness

logger = logging.getLogger(__name__)


def _json(payload: dict, status: int) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    response["Cache-Control"] = "no-store"
    return response


def healthz(request: HttpRequest) -> HttpResponse:
    """The process answers. Nothing else is checked: a balancer that restarts
    servers on a failing /healthz must not restart all of them for a
    database outage."""
    return _json({"status": "ok"}, 200)


@functools.cache
def _migrations_in_code() -> frozenset[tuple[str, str]]:
    # The code of a running process does not change, so the migration graph
    # is read from disk once; each probe then only reads the applied set.
    return frozenset(MigrationLoader(None, ignore_no_migrations=True).graph.nodes)


def _database_checks() -> dict[str, str]:
    """`SELECT 1` and pending migrations. The wait for a connection is bounded
    by the pool's timeout (DATABASE_POOL_TIMEOUT, 1 s)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Readiness: the database did not answer.")
        return {"database": "unavailable", "migrations": "unknown"}
    try:
        applied = set(MigrationRecorder(connection).migration_qs.values_list("app", "name"))
    except DatabaseError:
        # No django_migrations table yet: nothing is migrated.
        applied = set()
    pending = _migrations_in_code() - applied
    return {"database": "ok", "migrations": "pending" if pending else "ok"}


def readyz(request: HttpRequest) -> HttpResponse:
    """Ready for traffic: the database answers, no migration is pending, and
    the S3 storage (when configured) answers for its bucket."""
    checks = _database_checks()
    reasons = []
    if checks["migrations"] == "ok":
        checks["card_key"], why = card_key_check()
        reasons += [why] if why else []
    else:
        checks["card_key"] = "unknown"
    checks["storage"] = storage_readiness()
    ready = (
        checks["database"] == "ok"
        and checks["migrations"] == "ok"
        and checks["card_key"] == "ok"
        and checks["storage"] in {"ok", "not_checked"}
    )
    payload = {"status": "ready" if ready else "unavailable", "checks": checks}
    if reasons:
        payload["reasons"] = reasons
    return _json(payload, 200 if ready else 503)


def metrics_allowed(request: HttpRequest) -> bool:
    """Whether this request may read /metrics: the token, or a direct peer
    in METRICS_ALLOWED_NETWORKS.

    SECURITY: the network rule looks at REMOTE_ADDR, the direct peer, never
    at X-Forwarded-For: Prometheus scrapes each server directly, and a client
    that can reach a server could write any X-Forwarded-For it likes. A
    request that came through a proxy (it carries X-Forwarded-For) never
    passes the network rule, since the proxy's own address may well be in
    the allowed network; only the token lets it in.
    """
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    offered = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
    if token and offered and constant_time_compare(offered, token):
        return True
    networks = settings.METRICS_ALLOWED_NETWORKS
    if not networks or "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(peer in network for network in networks)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        # The same 404 as any unknown path: the endpoint does not announce itself.
        return HttpResponse(status=404)
    payload, content_type = metrics.exposition()
    response = HttpResponse(payload, content_type=content_type)
    response["Cache-Control"] = "no-store"
    return response


ENDPOINTS = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics_view,
}
