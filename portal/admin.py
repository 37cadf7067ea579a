from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.models import OutboxMessage
from accounts.network import audit_context
from permissions.policy import can_handle_support_tickets, support_handlers
from portal.models import Material, SiteNotice, SupportTicket, SupportTicketEntry
from portal.services import support_ticket_update


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["title", "subject", "level", "kind", "is_protected", "published_on"]
    list_filter = ["level", "kind", "is_protected", "protection_reason"]
    search_fields = ["title", "slug", "subject__name", "subject__code"]
    prepopulated_fields = {"slug": ["title"]}
    # A plain select, not autocomplete: Django's autocomplete widget looks a
    # posted value up as a primary key while redrawing an invalid form, and
    # a non-number there is a ValueError (a 500) instead of a form error.
    list_select_related = ["subject"]
    date_hierarchy = "published_on"
    show_full_result_count = False


@admin.register(SiteNotice)
class SiteNoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "ends_at"]
    search_fields = ["title", "body"]


class SupportTicketForm(forms.ModelForm):
    answer = forms.CharField(
        label=_("Answer by e-mail"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=_(
            "Sent to the address the ticket came from when you save (through the outbox), "
            "and kept in the history. Never write a password or card cells here."
        ),
    )

    class Meta:
        model = SupportTicket
        fields = ("status", "assigned_to")


class SupportTicketEntryInline(admin.TabularInline):
    model = SupportTicketEntry
    fields = ("created_at", "actor_username", "kind", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SupportTicket)
class SupportTicketAdmin(admin.ModelAdmin):
    """Tickets come from the public form; national admins set their status and
    handler and answer them by e-mail (`portal.services.support_ticket_update`,
    audited). What the sender wrote is never edited."""

    form = SupportTicketForm
    list_display = ["created_at", "subject", "name", "email", "status", "assigned_to"]
    list_filter = ["status", ("assigned_to", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["assigned_to"]
    search_fields = ["subject", "name", "email", "message"]
    readonly_fields = ["name", "email", "subject", "message", "created_at", "client_address"]
    fieldsets = (
        (None, {"fields": readonly_fields}),
        (_("Handling"), {"fields": ("status", "assigned_to", "answer")}),
    )
    inlines = [SupportTicketEntryInline]
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return can_handle_support_tickets(user=request.user)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assigned_to":
            kwargs["queryset"] = support_handlers()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        original = SupportTicket.objects.get(pk=obj.pk)
        support_ticket_update(
            ticket=original,
            context=audit_context(request),
            status=form.cleaned_data["status"],
            assigned_to=form.cleaned_data["assigned_to"],
            answer=form.cleaned_data.get("answer", ""),
        )

    def save_related(self, request, form, formsets, change) -> None:
        # The history is written by the service; the read-only inline saves nothing.
        for formset in formsets:
            formset.save()


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: what the mail worker has to do and has done. The messages
    themselves are sealed and erased once sent, so none is shown here."""

    list_display = ["created_at", "kind", "status", "attempts", "next_attempt_at", "last_error"]
    list_filter = ["status", "kind"]
    fields = list_display + ["finished_at"]
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
