"""Error pages in the page's language, and the personal-data download several
apps share.

Each error page renders without needing the database, so that a database
outage still gets a readable page: the site notices are its one read, made
only when the database is not known to be out, and skipped if it fails."""

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils import translation

from core.context_processors import error_page_notices, language_links
from core.storage import is_storage_failure

# How long a client should wait before trying again after a 503.
RETRY_AFTER_SECONDS = 10


def _render(
    template: str,
    status: int,
    request: HttpRequest | None = None,
    context: dict | None = None,
    *,
    database_out: bool = False,
) -> HttpResponse:
    # No RequestContext: its processors would read the session. The language
    # switch needs only the URL map. The language is the path's, set here: an
    # error met before LocaleMiddleware ran (the session's database gone)
    # would otherwise speak the language of the worker's previous request.
    # The site notices (planned downtime!) are read when the database is not
    # known to be out, and a failing read is no notice, never a second error.
    path = request.path_info if request is not None else ""
    with translation.override(translation.get_language_from_path(path) or settings.LANGUAGE_CODE):
        links = language_links(request) if request is not None else {}
        notices = [] if database_out else error_page_notices()
        return HttpResponse(
            loader.render_to_string(
                template, {**links, "site_notices": notices, **(context or {})}
            ),
            status=status,
        )


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _render("errors/400.html", 400, request)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    # A `Refused` carries the rule's reason; a plain PermissionDenied does not.
    reason = getattr(exception, "message", "")
    return _render("errors/403.html", 403, request, {"reason": reason})


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _render("errors/404.html", 404, request)


def method_not_allowed(request: HttpRequest, refused: HttpResponse) -> HttpResponse:
    """A GET of an address that only takes a form's POST (a reload, a
    bookmark): a page that says so, instead of Django's empty 405 `refused`,
    whose headers (Allow, no-store, frame options …) and cookies it keeps."""
    response = _render("errors/405.html", 405, request)
    for name, value in refused.items():
        if name.lower() not in ("content-type", "content-length"):
            response[name] = value
    response.cookies = refused.cookies
    return response


def service_unavailable(template: str, request: HttpRequest | None = None) -> HttpResponse:
    # The database's own outage page reads nothing from it (a pool timeout
    # would hold the page); the file store's outage page may.
    response = _render(template, 503, request, database_out=template == "errors/503.html")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """Every uncaught exception ends here, whether a view, a middleware (the
    session, the user) or a context processor raised it, so this is the one
    place that tells an outage from a bug.

    Django calls it while handling the exception, so `sys.exc_info()` holds
    it. An unreachable database (a pool timeout, a dropped connection) or a
    failing file store is a 503 that says to try again, not a 500: nothing is
    wrong with the request, and the page works again by itself when the
    service returns.
    """
    error = sys.exc_info()[1]
    if isinstance(error, (OperationalError, InterfaceError)):
        return service_unavailable("errors/503.html", request)
    if is_storage_failure(error):
        return service_unavailable("errors/storage.html", request)
    return _render("errors/500.html", 500, request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _render("errors/csrf.html", 403, request)


def request_too_large(request: HttpRequest) -> HttpResponse:
    """The page nginx shows (error_page 413) when a request body exceeds its
    client_max_body_size; nginx has refused the request before any app
    server saw it (deploy/nginx/behorighet.conf)."""
    return _render("errors/413.html", 413, request)


def storage_unavailable(request: HttpRequest) -> HttpResponse:
    """The page nginx shows when the file store failed it while it fetched a
    material file the gate had allowed (deploy/nginx/behorighet.conf).

    nginx gives it the status (`error_page … =503`); asked for directly, the
    page itself is no server fault, so it answers 200 (with Retry-After)."""
    response = service_unavailable("errors/storage.html", request)
    response.status_code = 200
    return response


def personal_data_download(data: dict, filename: str) -> HttpResponse:
    """Personal data as a JSON attachment that no cache keeps (the exports of
    docs/privacy.md)."""
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
