"""/admin/: the audit log, read-only, readable, exportable as CSV."""

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import OuterRef, Q
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.urls import path
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from accounts.models import Role
from audit.actions import AuditAction
from audit.display import action_label, describe_details, log_time
from audit.models import AuditEvent
from backoffice.sites import ReadOnlyAdmin
from permissions.event_rows import events_csv, role_label
from permissions.policy import full_name_known_in
from permissions.services.exports import log_export_record
from web.request import audit_context


class ActionFilter(admin.SimpleListFilter):
    """The action, by its Swedish label (the stored codes mean nothing to people)."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return sorted(AuditAction.choices, key=lambda choice: str(choice[1]))

    def queryset(self, request, queryset):
        if self.value() in AuditAction.values:
            return queryset.filter(action=self.value())
        return queryset


class RoleFilter(admin.SimpleListFilter):
    title = _("role of the one who acted")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return Role.choices

    def queryset(self, request, queryset):
        if self.value() in Role.values:
            return queryset.filter(actor_role=self.value())
        return queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: the log is append-only. Readable: names beside usernames,
    Swedish labels, details as a sentence (`audit.display`);
    names come from one correlated subquery per column, not a query per row.
    "Exportera CSV" downloads what the current filters show (audited)."""

    list_display = (
        "time_display",
        "action_label",
        "actor_display",
        "role_display",
        "school_unit",
        "target_display",
        "details_display",
    )
    list_filter = (ActionFilter, RoleFilter)
    list_select_related = ("school_unit",)
    search_fields = ("actor_username", "target", "school_unit__code")
    search_help_text = _("Search who acted, what it concerns, or skolenhetskod")
    date_hierarchy = "created_at"
    show_full_result_count = False
    fields = (
        "time_display",
        "action_label",
        "actor_display",
        "role_display",
        "huvudman",
        "school_unit",
        "target_display",
        "ip_address",
        "details_display",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return self.with_names(super().get_queryset(request))

    @staticmethod
    def with_names(queryset, scope: Q | None = None):
        return queryset.annotate(
            actor_name=full_name_known_in(scope=scope, pk=OuterRef("actor_id")),
            target_name=full_name_known_in(scope=scope, username=OuterRef("target")),
        )

    @admin.display(description=_("time"), ordering="created_at")
    def time_display(self, obj: AuditEvent) -> str:
        return log_time(obj.created_at)

    @admin.display(description=_("action"), ordering="action")
    def action_label(self, obj: AuditEvent) -> str:
        return action_label(obj.action)

    @admin.display(description=_("by"), ordering="actor_username")
    def actor_display(self, obj: AuditEvent) -> str:
        if not obj.actor_username:
            return "–"
        name = getattr(obj, "actor_name", None)
        if name is None:
            return gettext("%(username)s (deleted account)") % {"username": obj.actor_username}
        return f"{name.strip() or obj.actor_username} ({obj.actor_username})"

    @admin.display(description=_("role"), ordering="actor_role")
    def role_display(self, obj: AuditEvent) -> str:
        return role_label(obj.actor_role) if obj.actor_role else "–"

    @admin.display(description=_("concerns"), ordering="target")
    def target_display(self, obj: AuditEvent) -> str:
        name = getattr(obj, "target_name", None)
        return f"{name.strip()} ({obj.target})" if name and name.strip() else obj.target or "–"

    @admin.display(description=_("details"))
    def details_display(self, obj: AuditEvent) -> str:
        return describe_details(obj.details) or "–"

    def get_urls(self):
        export = path(
            "export/",
            # A POST: the export writes an audit event.
            self.admin_site.admin_view(require_POST(self.export_view)),
            name=f"{self.opts.app_label}_{self.opts.model_name}_export",
        )
        return [export, *super().get_urls()]

    def export_scope(self, request) -> dict:
        """Where the export's audit event belongs (the huvudman site: its huvudman)."""
        return {}

    def export_view(self, request):
        """The events the list shows with the same filters (in the query
        string), as CSV."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect("../?e=1")
        events = changelist.get_queryset(request).order_by("-created_at", "-id")
        filters = {key: value for key, value in request.GET.items() if key not in {"o", "p", "e"}}
        log_export_record(
            context=audit_context(request), filters=filters, **self.export_scope(request)
        )
        response = StreamingHttpResponse(
            events_csv(events, **self.export_scope(request)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="logg.csv"'
        response["Cache-Control"] = "private, no-store"
        return response
