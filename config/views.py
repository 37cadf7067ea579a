"""Error pages in Swedish. Each renders without touching the database, so
that a database outage still gets a readable page."""

from django.http import HttpRequest, HttpResponse
from django.template import loader


def _render(
    template: str, status: int, request: HttpRequest | None = None, context: dict | None = None
) -> HttpResponse:
    return HttpResponse(loader.render_to_string(template, context, request=request), status=status)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    return _render("errors/400.html", 400)


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    # A `Refused` carries the rule's reason; a plain PermissionDenied does not.
    reason = getattr(exception, "message", "")
    return _render("errors/403.html", 403, context={"reason": reason})


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    return _render("errors/404.html", 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _render("errors/500.html", 500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return _render("errors/csrf.html", 403)
