from django.contrib import admin

from accounts.network import audit_context
from portal.models import Material, SiteNotice, SupportTicket
from portal.services import (
    material_delete,
    material_save,
    site_notice_delete,
    site_notice_save,
)


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["title", "subject", "level", "kind", "is_protected", "published_on"]
    list_filter = ["level", "kind", "is_protected", "protection_reason"]
    search_fields = ["title", "slug", "subject__name", "subject__code"]
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["subject"]
    list_select_related = ["subject"]
    date_hierarchy = "published_on"
    show_full_result_count = False

    # Every change through a service with its audit event (who un-protected what).
    def save_model(self, request, obj, form, change) -> None:
        material_save(context=audit_context(request), material=obj)

    def delete_model(self, request, obj) -> None:
        material_delete(context=audit_context(request), material=obj)

    def delete_queryset(self, request, queryset) -> None:
        for material in queryset:
            material_delete(context=audit_context(request), material=material)


@admin.register(SiteNotice)
class SiteNoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "ends_at"]
    search_fields = ["title", "body"]

    def save_model(self, request, obj, form, change) -> None:
        site_notice_save(context=audit_context(request), notice=obj)

    def delete_model(self, request, obj) -> None:
        site_notice_delete(context=audit_context(request), notice=obj)

    def delete_queryset(self, request, queryset) -> None:
        for notice in queryset:
            site_notice_delete(context=audit_context(request), notice=notice)


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    """Tickets come from the public form; admins read them, never edit them."""

    list_display = ["created_at", "subject", "name", "email"]
    search_fields = ["subject", "name", "email", "message"]
    readonly_fields = ["name", "email", "subject", "message", "created_at", "client_address"]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
