from django.contrib import admin

from portal.models import Material, SiteNotice, SupportTicket


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


@admin.register(SiteNotice)
class SiteNoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "ends_at"]
    search_fields = ["title", "body"]


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
