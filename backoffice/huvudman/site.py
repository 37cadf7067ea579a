"""The /huvudman/ site and the base of its model admins: every queryset
scoped to the staff member's huvudman, a missing object a 404."""

import dataclasses
from collections.abc import Callable

from django.contrib import admin
from django.http import Http404
from django.urls import path, reverse

from backoffice.sites import HuvudmanSite
from permissions.policy import (
    can_use_huvudman_site,
)


@dataclasses.dataclass(frozen=True)
class Page:
    """A page of the site's own beside the model admins (reports, notices)."""

    route: str
    view: Callable
    name: str
    # Linked from every page's header; a page without one (a download) is not.
    title: str


class HuvudmanPagesSite(HuvudmanSite):
    """/huvudman/ with pages of its own, each behind the site's login and
    `has_permission` (`admin_view`), linked from every page's header."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.pages: list[Page] = []

    def page_register(self, page: Page) -> None:
        self.pages.append(page)

    def get_urls(self):
        return [
            *(path(page.route, self.admin_view(page.view), name=page.name) for page in self.pages),
            *super().get_urls(),
        ]

    def each_context(self, request):
        context = super().each_context(request)
        if self.has_permission(request):
            context["site_pages"] = [
                {"title": page.title, "url": reverse(f"{self.name}:{page.name}")}
                for page in self.pages
                if page.title
            ]
        return context


huvudman_site = HuvudmanPagesSite(name="huvudman")


class ScopedAdmin(admin.ModelAdmin):
    """What every ModelAdmin on /huvudman/ shares."""

    actions = None
    show_full_result_count = False

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            # SECURITY: out of scope, malformed or missing: all the same 404.
            raise Http404
        return obj

    def has_module_permission(self, request) -> bool:
        return can_use_huvudman_site(user=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        # Units, huvudmän and accounts are never deleted here: principals are
        # deactivated, units end with the national admins.
        return False
