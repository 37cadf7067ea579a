"""Admin addresses of the models that moved to another app when the code was
reorganised: a national admin's bookmark of the old address still leads to
the page (a permanent redirect, query string kept)."""

from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.urls import re_path

MOVED = {
    "permissions/auditevent": "audit/auditevent",
    "portal/sitenotice": "core/sitenotice",
    "accounts/outboxmessage": "core/outboxmessage",
}


def moved_model(request: HttpRequest, old: str, rest: str) -> HttpResponsePermanentRedirect:
    # SECURITY: the target is the request's own path with one segment
    # replaced by a fixed one: always a path on this site.
    path = request.path.replace(f"/{old}/", f"/{MOVED[old]}/", 1)
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{path}?{query}" if query else path)


def moved_urls(site_prefix: str) -> list:
    """Patterns for one admin site's prefix ("admin/", "huvudman/")."""
    models = "|".join(MOVED)
    return [re_path(rf"^{site_prefix}(?P<old>{models})/(?P<rest>.*)$", moved_model)]
