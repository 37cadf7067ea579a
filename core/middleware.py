"""Middleware of the whole site: the operations layer (probes and metrics, the
request log) and the refusal that no view handled."""

import logging
import re
import time
import uuid
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.http.cookie import parse_cookie
from django.utils.cache import patch_cache_control
from django.utils.functional import SimpleLazyObject, empty

from core import metrics
from core.logs import current_request_id
from core.network import DEVICE_COOKIE
from core.operations import ENDPOINTS
from core.refusals import Refused
from core.views import bad_request, method_not_allowed, permission_denied

request_logger = logging.getLogger("behorighet.request")

REQUEST_ID_HEADER = "X-Request-ID"
# An id from the proxy (nginx's $request_id) is kept so that its log and
# ours can be matched; anything else gets a fresh id. SECURITY: the pattern
# keeps a client's header from writing arbitrary text into the log.
INCOMING_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{16,64}")


class OperationsEndpointsMiddleware:
    """Answer /healthz, /readyz and /metrics before anything else runs.

    First in MIDDLEWARE because balancers and Prometheus call each server by
    its internal address over plain HTTP: host validation (ALLOWED_HOSTS)
    and the HTTPS redirect would refuse them, and sessions, CSP and the
    request log (one probe a second per balancer) are not wanted there.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        endpoint = ENDPOINTS.get(request.path_info.rstrip("/"))
        if endpoint is None:
            return self.get_response(request)
        if request.method not in {"GET", "HEAD"}:
            return HttpResponseNotAllowed(["GET", "HEAD"])
        return endpoint(request)


def _route(request: HttpRequest) -> str:
    """The URL pattern's name: a bounded label that never holds a username
    or other value from the path."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else "unmatched"


def _user_id(request: HttpRequest) -> int | None:
    """The logged-in user's id, if the request already looked it up.

    Never forces the lookup: a page that did not need the user (static
    files, the error page of a database outage) must not query for the log.
    """
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if user.is_authenticated else None


class RequestLogMiddleware:
    """One log line and one metrics observation per request, and the
    request id in the response header `X-Request-ID`.

    The line holds method, route name, status, duration, user id and
    request id, and nothing else: not the path or query (they may hold
    usernames), no header, cookie or form value.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if INCOMING_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        # Kept until the response is closed (request_finished below), so that
        # Django's own log lines about this request, written after the
        # middleware returned, carry the id too.
        current_request_id.set(request_id)
        started = time.perf_counter()
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        response[REQUEST_ID_HEADER] = request_id
        route = _route(request)
        request_logger.info(
            "%s %s %s %.1f ms",
            request.method,
            route,
            response.status_code,
            seconds * 1000,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(seconds * 1000, 1),
                "user_id": _user_id(request),
            },
        )
        metrics.request_observed(
            route=route, method=request.method, status=response.status_code, seconds=seconds
        )
        return response


def _forget_request_id(**kwargs) -> None:
    current_request_id.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="core.middleware.request_id")


class RefusedMiddleware:
    """A refusal no view turned into a page gets a readable one: a `Refused`
    is a 403 page naming the reason, never a 500, and a GET of an address
    that takes only a form's POST (Django's empty 405: a reloaded logout, a
    bookmarked export) the 405 page.

    Views check the policy before they call a service, and services check
    it again (defence in depth); when only the second check says no, the
    person still gets a readable refusal.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.method in ("GET", "HEAD")
            and "POST" in response.get("Allow", "")
            and not response.streaming
            and not response.content
        ):
            return method_not_allowed(request, response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Refused):
            return permission_denied(request, exception)
        return None


def _undecodable(raw: str) -> bool:
    """A query string or form body with a NUL byte, or bytes that are not UTF-8."""
    return _not_utf8(unquote_to_bytes(raw.replace("+", " ")))


def _not_utf8(data: bytes) -> bool:
    """Bytes with a NUL, or that are not UTF-8."""
    if b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _wsgi_bytes(value: str) -> bytes:
    """The bytes a WSGI header string stands for (one character per byte).

    `request.COOKIES` is no use here: Django re-escapes bytes that are not
    UTF-8 there as "%FF", which looks like text a person could have typed.
    """
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")  # already text (a test client's header)


def _own_cookie_names() -> set[str]:
    return {
        settings.SESSION_COOKIE_NAME,
        settings.CSRF_COOKIE_NAME,
        settings.LANGUAGE_COOKIE_NAME,
        DEVICE_COOKIE,
    }


def is_bad_input(request: HttpRequest) -> bool:
    """Input no page of ours can mean: a NUL byte or bytes that are not UTF-8
    in the path (percent-decoded), the query or a URL-encoded form body; a
    NUL byte in any cookie or in a field of a multipart form; bytes that are
    not UTF-8 in one of the site's own cookies.

    Not judged: the bytes of other cookies (another site on a parent domain
    may have set one in Latin-1, and the person could not remove it: every
    page would be a 400; this site never reads them) and of multipart fields
    and files (Django decodes the fields with replacement characters, and a
    file is checked by its own form).
    """
    # Django has already decoded the path and re-escaped the bytes that are
    # not UTF-8 as "%FF"; no path of ours has a percent sign, so decoding
    # again finds them (and a doubly escaped "%25FF", junk too).
    if _not_utf8(unquote_to_bytes(request.path_info)):
        return True
    if _undecodable(request.META.get("QUERY_STRING", "")):
        return True
    if any("\x00" in value for value in request.COOKIES.values()):
        return True
    if request.COOKIES:
        raw = parse_cookie(request.META.get("HTTP_COOKIE", ""))
        own = _own_cookie_names()
        if any(_not_utf8(_wsgi_bytes(value)) for name, value in raw.items() if name in own):
            return True
    if request.method == "POST":
        if request.content_type == "application/x-www-form-urlencoded":
            return _undecodable(request.body.decode("latin-1"))
        if request.content_type == "multipart/form-data":
            return any("\x00" in value for values in request.POST.lists() for value in values[1])
    return False


class BadInputMiddleware:
    """Answer 400 (the Swedish error page) to input that cannot be meant, before
    any view sees it, instead of a 500 from deep below.

    A NUL byte reaches the database as a string PostgreSQL refuses (a 500
    in every view that looks anything up by it); undecodable bytes become
    U+FFFD silently. Neither is anything a person typed. Also a huge number
    that overflows a date or an integer (`?created_at__year=9999…` on an
    admin list) is a 400 here, whatever view it reached.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_bad_input(request):
            return bad_request(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError):
            return bad_request(request)
        return None


class NoStoreMiddleware:
    """`Cache-Control: private, no-store` on every response to a logged-in
    session and to every POST, unless the view chose its own caching.

    SECURITY: such pages show personal data (teacher lists, logs with client
    addresses, the import preview) or secrets (new passwords); no shared
    cache may keep them and no browser may show them again from its cache on
    a shared staff-room computer. Public pages for anonymous visitors are
    left cacheable. Goes after AuthenticationMiddleware.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        logged_in = user is not None and user.is_authenticated
        if (logged_in or request.method == "POST") and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response
