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


# App index pages that held only moved models: /huvudman/permissions/ listed
# the audit log alone.
MOVED_APPS = {"huvudman/": {"permissions": "audit"}}


def moved_app(request: HttpRequest, old: str) -> HttpResponsePermanentRedirect:
    new = next(new for apps in MOVED_APPS.values() for app, new in apps.items() if app == old)
    return HttpResponsePermanentRedirect(request.path.replace(f"/{old}/", f"/{new}/", 1))


def moved_urls(site_prefix: str) -> list:
    """Patterns for one admin site's prefix ("admin/", "huvudman/")."""
    models = "|".join(MOVED)
    patterns = [re_path(rf"^{site_prefix}(?P<old>{models})/(?P<rest>.*)$", moved_model)]
    for app in MOVED_APPS.get(site_prefix, {}):
        patterns.append(re_path(rf"^{site_prefix}(?P<old>{app})/$", moved_app))
    return patterns
