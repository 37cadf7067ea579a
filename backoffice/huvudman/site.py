"""The /huvudman/ site and the base of its model admins: every queryset
scoped to the staff member's huvudman, a missing object a 404."""

from django.contrib import admin
from django.http import Http404

from backoffice.sites import HuvudmanSite
from permissions.policy import (
    can_use_huvudman_site,
)

huvudman_site = HuvudmanSite(name="huvudman")


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
