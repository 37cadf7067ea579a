"""Error pages in the page's language. Each renders without touching the
database, so that a database outage still gets a readable page."""

from django.http import HttpRequest, HttpResponse
from django.template import loader

from portal.context_processors import language_links


def _render(
    template: str, status: int, request: HttpRequest, context: dict | None = None
) -> HttpResponse:
    # No RequestContext: its processors would read the session and the
    # notices. The language switch needs only the URL map.
    return HttpResponse(
        loader.render_to_string(template, {**language_links(request), **(context or {})}),
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


def server_error(request: HttpRequest) -> HttpResponse:
    return _render("errors/500.html", 500, request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _render("errors/csrf.html", 403, request)
