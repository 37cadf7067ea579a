"""The `hello` views: the floor every page is measured against."""

from django.http import HttpRequest, HttpResponse


def hello(request: HttpRequest) -> HttpResponse:
    """The whole middleware stack and nothing else."""
    return HttpResponse("hello", content_type="text/plain")


def hello_logged_in(request: HttpRequest) -> HttpResponse:
    """The same for a logged-in session; 403 when the session is not logged in,
    so a lost session shows up as an error instead of a faster page."""
    if not request.user.is_authenticated:
        return HttpResponse("not logged in", status=403, content_type="text/plain")
    return HttpResponse(f"hello {request.user.get_username()}", content_type="text/plain")
