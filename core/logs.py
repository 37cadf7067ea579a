"""Log records: the request id on every line, and the JSON line format.

Loaded by Django's logging setup before any app, so nothing here may import
models.
"""

import contextvars
import logging

from pythonjsonlogger.json import JsonFormatter as _LibraryJsonFormatter

# The id of the request this thread is serving, set by RequestLogMiddleware,
# so an error logged deep inside a view can be matched with its request line.
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_request_id", default="-"
)

# The only fields a JSON line may carry besides time, level, logger, message
# and a traceback. SECURITY: a whitelist, so that nothing a library attaches
# to a record (Django attaches the whole `request`, whose repr holds the query
# string) can carry a password, a card cell, a TOTP secret or a session key
# into the log.
REQUEST_FIELDS = ("request_id", "method", "route", "status", "duration_ms", "user_id")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get()
        return True


class PathRedactingFilter(logging.Filter):
    """Django's own lines name the request's path ("Forbidden (CSRF token
    missing.): /e-tjanster/skolor/…/larare/<username>/", "Internal Server
    Error: …"), and a path may hold a username. SECURITY: such a line names
    the URL pattern's name instead, the same bounded label as the request
    line's `route`, so no username from a path reaches the log.

    Django passes the request to these lines (`django.utils.log.log_response`)
    with the path as one of the message's arguments; that argument is
    replaced. The rest of the line is Django's own text.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        path = getattr(request, "path", None)
        if path and isinstance(record.args, tuple) and path in record.args:
            match = getattr(request, "resolver_match", None)
            route = match.view_name if match is not None and match.view_name else "unmatched"
            shown = f"[route {route}]"
            record.args = tuple(shown if arg == path else arg for arg in record.args)
        return True


class JsonFormatter(_LibraryJsonFormatter):
    """python-json-logger's formatter, limited to the whitelisted fields."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", ["levelname", "name", "message"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")
        super().__init__(*args, **kwargs)

    def process_log_record(self, log_data: dict) -> dict:
        allowed = {"time", "level", "logger", "message", "exc_info", "stack_info"}
        allowed.update(REQUEST_FIELDS)
        return {key: value for key, value in log_data.items() if key in allowed}
