"""/admin/: Bedömningsportalen's material (its file only through the gate) and
the support tickets national admins work."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminFileWidget
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from audit.display import log_time
from permissions.policy import can_handle_support_tickets, support_handlers
from portal.models import Material, SupportTicket, SupportTicketEntry
from portal.services import material_delete, material_save, support_ticket_update
from web.request import audit_context


class GateFileWidget(AdminFileWidget):
    """The current file linked through the gate, the only URL that serves it
    (MEDIA_URL is deliberately served by nothing)."""

    def __init__(self, *args, slug: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.slug = slug

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        if self.slug and self.is_initial(value):
            context["widget"]["gate_url"] = reverse("portal:material_file", args=[self.slug])
        return context

    template_name = "admin/widgets/gate_file_input.html"


@admin.register(Material)
class MaterialAdmin(admin.ModelAdmin):
    list_display = ["title", "subject", "level", "kind", "is_protected", "published_on"]
    list_filter = ["level", "kind", "is_protected", "protection_reason"]
    search_fields = ["title", "slug", "subject__name", "subject__code"]
    search_help_text = _("Search title, slug, subject or subject code")
    prepopulated_fields = {"slug": ["title"]}
    # A plain select, not autocomplete: some forty subjects; the autocomplete
    # widget's combobox has no accessible name (axe aria-input-field-name), and
    # it looks a posted value up as a primary key while redrawing an invalid
    # form, so a non-number there was a ValueError (a 500), not a form error.
    list_select_related = ["subject"]
    date_hierarchy = "published_on"
    show_full_result_count = False

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            form.base_fields["file"].widget = GateFileWidget(slug=obj.slug)
        return form

    # Every change through a service with its audit event (who un-protected what).
    def save_model(self, request, obj, form, change) -> None:
        material_save(context=audit_context(request), material=obj)

    def delete_model(self, request, obj) -> None:
        material_delete(context=audit_context(request), material=obj)

    def delete_queryset(self, request, queryset) -> None:
        for material in queryset:
            material_delete(context=audit_context(request), material=material)


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


@admin.display(description=_("created"), ordering="created_at")
def created_shown(obj) -> str:
    """The moment as every log and ticket writes it (`audit.display.LOG_TIME_FORMAT`)."""
    return log_time(obj.created_at)


class SupportTicketEntryInline(admin.TabularInline):
    model = SupportTicketEntry
    fields = (created_shown, "actor_username", "kind", "text")
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
    list_display = [created_shown, "category", "subject", "name", "email", "status", "assigned_to"]
    list_filter = ["status", "category", ("assigned_to", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["assigned_to"]
    search_fields = ["subject", "name", "email", "message"]
    search_help_text = _("Search subject, name, e-mail address or message")
    readonly_fields = [
        "category",
        "name",
        "email",
        "subject",
        "message",
        created_shown,
        "client_address",
    ]
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
