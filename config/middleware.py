"""Middleware of the whole site."""

from django.http import HttpRequest, HttpResponse

from config.views import permission_denied
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
