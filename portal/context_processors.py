from django.conf import settings
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from portal.models import SiteNotice


def site_notices(request: HttpRequest) -> dict:
    """Active notices for base.html: a lazy queryset, so at most one query per
    page, and none for pages (the error pages) that never loop over it."""
    return {"site_notices": SiteNotice.objects.active_at(timezone.now())}


def language_links(request: HttpRequest) -> dict:
    """The header's language switch: this page in each other language.

    The page's own route is reversed in the other language with the same
    arguments and query string, so the switch keeps the reader where they
    are; a page without a route (an error page) links to the other start page.
    """
    current = translation.get_language()
    match = getattr(request, "resolver_match", None)
    links = []
    for code, name in settings.LANGUAGES:
        if code == current:
            continue
        with translation.override(code):
            url = None
            if match is not None and match.view_name:
                try:
                    url = reverse(match.view_name, args=match.args, kwargs=match.kwargs)
                except NoReverseMatch:
                    url = None
            if url is None:
                url = reverse("home")
            elif request.GET:
                url += "?" + request.GET.urlencode()
            # The language's own name, in that language ("English", "Svenska").
            links.append({"code": code, "url": url, "name": translation.gettext(name)})
    return {"language_links": links}
