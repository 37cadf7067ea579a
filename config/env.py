"""Small helpers that read the environment and fail loudly on a bad value.

Every variable the project reads is listed in `.env.example` and docs/configuration.md.
"""

import ipaddress
import os
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_required(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ImproperlyConfigured(f"The environment variable {name} must be set.")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return _boolean(name, raw)


def _boolean(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return _integer(name, raw, minimum=minimum)


def _integer(name: str, raw: str, *, minimum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}.")
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(choices)}, not {raw!r}.")
    return value


def env_url(name: str, default: str = "") -> str:
    """An http(s) URL with a host, or empty."""
    raw = (os.environ.get(name) or default).strip()
    if not raw:
        return ""
    parsed = urlparse(raw)
    if parsed.scheme not in {"http", "https"} or not parsed.hostname:
        raise ImproperlyConfigured(f"{name} must be an http:// or https:// URL, not {raw!r}.")
    return raw


def env_networks(name: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Comma-separated addresses or networks (CIDR), e.g. `10.0.0.0/8,127.0.0.1`."""
    networks = []
    for item in env_list(name):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list addresses or networks such as 10.0.0.0/8, not {item!r}."
            ) from None
    return networks


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def s3_storage_from_env() -> dict:
    """The STORAGES["default"] entry for STORAGE_BACKEND=s3 (django-storages).

    Bucket, region and keys are required; S3_ENDPOINT_URL is empty for
    Amazon's own endpoint, or the URL of another S3 API server.
    """
    # Only with STORAGE_BACKEND=s3: settings stay light without it.
    from botocore.config import Config

    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_required("S3_BUCKET"),
            "endpoint_url": env_url("S3_ENDPOINT_URL") or None,
            "region_name": env_required("S3_REGION"),
            "access_key": env_required("S3_ACCESS_KEY_ID"),
            "secret_key": env_required("S3_SECRET_ACCESS_KEY"),
            # SECURITY: objects are private (no ACL grants); the portal's gate
            # streams them (core/storage.py), so no URL to them is ever given out.
            "default_acl": None,
            # Two uploads named alike must never overwrite each other's file:
            # Django picks a free name, as it does on disk.
            "file_overwrite": False,
            # Path-style URLs work with every S3 API server (MinIO, Ceph, moto).
            "addressing_style": "path",
            # Files larger than this wait on disk, not in the worker's memory.
            "max_memory_size": 2 * 1024 * 1024,
            # Fail fast: a refusing or hung store must give the Swedish 503
            # page within 5 s, not hang a worker for botocore's 60 s defaults
            # (gunicorn's 30 s worker timeout then answered its English 500).
            # One attempt (botocore's `max_attempts` counts retries; this is
            # the total) of at most 1 s to connect and 2 s between reads:
            # measured, two attempts with backoff came within 1 s of 5 s.
            # A failed upload is retried by the admin who sees the 503 page;
            # behind nginx downloads never use this client (core/downloads.py).
            "client_config": Config(
                connect_timeout=1,
                read_timeout=2,
                retries={"mode": "standard", "total_max_attempts": 1},
            ),
        },
    }


def database_from_url(url: str) -> dict:
    """Turn `postgres://user:pass@host:port/name?option=value` into a DATABASES entry.

    PostgreSQL runs through psycopg 3's connection pool: a new connection per
    request costs about 12 ms of CPU (measured, see NOTES.md).

    With the database unreachable a request must fail fast (a Swedish 503
    page within 2 s) and the pool must come back by itself when it returns:
    - `timeout`: how long a request waits for a pooled connection. gunicorn's
      sync workers serve one request at a time, so a healthy pool never makes
      a request wait; only an outage does.
    - `reconnect_timeout`: how long the pool retries a failed connection (with
      growing pauses) before it gives up; the next request starts a fresh
      attempt at once. Short, so a returning database is used within seconds
      instead of after the pool's next pause of up to minutes.
    - `connect_timeout` (libpq, whole seconds, at least 2): a connection
      attempt to a host that does not answer at all gives up instead of
      hanging a pool thread for the kernel's TCP timeout.
    """
    parsed = urlparse(url)
    if parsed.scheme not in {"postgres", "postgresql"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// or postgresql://, not {parsed.scheme!r}."
        )
    name = unquote(parsed.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL must name a database.")
    options: dict = {
        "pool": {
            "min_size": env_int("DATABASE_POOL_MIN", 2, minimum=0),
            "max_size": env_int("DATABASE_POOL_MAX", 4, minimum=1),
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 1, minimum=1),
            "reconnect_timeout": 5,
        },
        "connect_timeout": env_int("DATABASE_CONNECT_TIMEOUT", 2, minimum=2),
        # Parameters bound on the server, and a statement run five times on a
        # connection prepared there (psycopg's own threshold; Django turns it
        # off by default for poolers in transaction mode, and the pool is
        # ours): PostgreSQL then no longer plans the same statement again on
        # every request, which cost more than running it (docs/performance.md).
        "server_side_binding": True,
        "prepare_threshold": 5,
    }
    query = {key: values[-1] for key, values in parse_qs(parsed.query).items()}
    # Django reads these as a boolean (`is True`) and a number, never as the
    # text a URL holds.
    if "server_side_binding" in query:
        query["server_side_binding"] = _boolean(
            "DATABASE_URL's server_side_binding", query["server_side_binding"]
        )
    if "prepare_threshold" in query:
        query["prepare_threshold"] = _integer(
            "DATABASE_URL's prepare_threshold", query["prepare_threshold"], minimum=0
        )
    options.update(query)
    return {
        # Django's, with the pool's health check of config/dbpool.py.
        "ENGINE": "config.postgresql",
        "NAME": name,
        "USER": unquote(parsed.username or ""),
        "PASSWORD": unquote(parsed.password or ""),
        "HOST": parsed.hostname or "",
        "PORT": str(parsed.port or ""),
        # The pool replaces persistent connections; Django refuses both at once.
        "CONN_MAX_AGE": 0,
        # The pool checks each connection it hands out (config/dbpool.py),
        # skipping one given back healthy a moment ago.
        "CONN_HEALTH_CHECKS": False,
        "OPTIONS": options,
        "TEST": {"NAME": f"test_{name}"},
    }
