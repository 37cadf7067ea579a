"""What every page shows: the national admins' site notices, and links to the
same page in the other language."""

import functools
import logging
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.db import DatabaseError, connections, router
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation

from core.i18n import path_in_language
from core.models import SiteNotice
from core.rows import instance_from_row

logger = logging.getLogger(__name__)


def site_notices(request: HttpRequest) -> dict:
    """Active notices for base.html: read when the page loops over them, so at
    most one query per page, and none for pages (the error pages) that never do."""
    return {"site_notices": ActiveNotices(timezone.now())}


@functools.cache
def _active_notices_sql(vendor: str) -> tuple[str, int, list[str]]:
    # PERFORMANCE: every page reads the notices; through the ORM building the
    # query cost more CPU than running it. The statement is built once, from
    # the ORM's own SQL for `SiteNotice.objects.active_at`, so it keeps the
    # model's filter and ordering; the moment is its every parameter.
    queryset = SiteNotice.objects.active_at(timezone.now())
    sql, params = queryset.query.sql_with_params()
    fields = [f.attname for f in SiteNotice._meta.concrete_fields]
    return sql, len(params), fields


class ShownNotice(NamedTuple):
    """A notice as a page shows it: in the page's language when it has that
    text; `lang` names the language of the text when it differs from the page's."""

    title: str
    body: str
    lang: str


def shown(notice: SiteNotice, language: str | None) -> ShownNotice:
    title, body, lang = notice.in_language(language)
    return ShownNotice(title, body, "" if lang == (language or settings.LANGUAGE_CODE) else lang)


class ActiveNotices:
    """The notices shown at `moment`, as `SiteNotice.objects.active_at(moment)`
    would list them, in the page's language; read once, on the first loop."""

    def __init__(self, moment):
        self.moment = moment
        self._notices = None

    def __iter__(self):
        if self._notices is None:
            self._notices = self._read()
        return iter(self._notices)

    def __bool__(self) -> bool:
        return any(True for _ in self)

    def _read(self) -> list[ShownNotice]:
        alias = router.db_for_read(SiteNotice)
        connection = connections[alias]
        sql, count, fields = _active_notices_sql(connection.vendor)
        moment = connection.ops.adapt_datetimefield_value(self.moment)
        with connection.cursor() as cursor:
            cursor.execute(sql, [moment] * count)
            rows = cursor.fetchall()
        language = translation.get_language()
        return [shown(instance_from_row(SiteNotice, alias, fields, row), language) for row in rows]


def error_page_notices() -> list[ShownNotice]:
    """The notices for an error page, read only if the database answers.

    An error page must render whatever broke, so a failing read is no
    notice, logged, never a second error: the caller does not even try
    when the database is known to be out (the 503 pages).
    """
    try:
        return list(ActiveNotices(timezone.now()))
    except DatabaseError as error:
        logger.warning("Site notices not read for an error page: %s", error)
        return []


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
                query = request.GET.copy()
                # A login page's way back (`next`) switches language too, so
                # the person lands in the language they chose.
                if REDIRECT_FIELD_NAME in query:
                    query[REDIRECT_FIELD_NAME] = path_in_language(query[REDIRECT_FIELD_NAME], code)
                url += "?" + query.urlencode()
            # The language's own name, in that language ("English", "Svenska").
            links.append({"code": code, "url": url, "name": translation.gettext(name)})
    return {"language_links": links}
