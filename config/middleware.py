"""Middleware of the whole site."""

from urllib.parse import unquote_to_bytes

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control

from config.views import bad_request, permission_denied
from permissions.refusals import Refused


class RefusedMiddleware:
    """A `Refused` that no view turned into a message is a 403 page naming
    the reason, never a 500.

    Views check the policy before they call a service, and services check
    it again (defence in depth); when only the second check says no, the
    person still gets a readable refusal.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Refused):
            return permission_denied(request, exception)
        return None


def _undecodable(raw: str) -> bool:
    """A query string or form body with a NUL byte, or bytes that are not UTF-8."""
    data = unquote_to_bytes(raw.replace("+", " "))
    if b"\x00" in data:
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def is_bad_input(request: HttpRequest) -> bool:
    """Input no page of ours can mean: NUL bytes or undecodable bytes in the
    path, the query, a form body or a cookie."""
    if "\x00" in request.path_info:
        return True
    if _undecodable(request.META.get("QUERY_STRING", "")):
        return True
    if any("\x00" in value for value in request.COOKIES.values()):
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
