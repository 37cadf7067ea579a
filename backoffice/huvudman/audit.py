"""/huvudman/: the huvudman's audit log, read-only."""

from django.contrib import admin

from audit.models import AuditEvent
from backoffice.admin.audit import AuditEventAdmin
from backoffice.huvudman.site import ScopedAdmin, huvudman_site
from permissions.policy import (
    can_manage_huvudman,
    can_use_huvudman_site,
    huvudman_audit_events,
    huvudman_of_staff,
    known_name_scope,
)


@admin.register(AuditEvent, site=huvudman_site)
class HuvudmanAuditEventAdmin(ScopedAdmin, AuditEventAdmin):
    """The huvudman's own audit log, read-only like the national one."""

    def get_queryset(self, request):
        # Names as the huvudman's schools know them (`policy.known_names`).
        scope = known_name_scope(huvudman=huvudman_of_staff(user=request.user))
        return self.with_names(huvudman_audit_events(user=request.user), scope)

    def export_scope(self, request) -> dict:
        return {"huvudman": huvudman_of_staff(user=request.user)}

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return can_use_huvudman_site(user=request.user)
        return obj.huvudman_id is not None and can_manage_huvudman(
            user=request.user, huvudman=obj.huvudman
        )
