"""/admin/: the site notices national admins post, and the outbox (read-only)."""

from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from backoffice.sites import ReadOnlyAdmin
from core.models import OutboxMessage, SiteNotice
from core.outbox import KIND_LABELS, kind_label
from portal.services import site_notice_delete, site_notice_save
from web.request import audit_context


class LabelledSplitDateTime(AdminSplitDateTime):
    """The date and time boxes each named with the field: "Shown from, date".

    The stock widget labels only the date box (through the field's label)
    and writes "Date:"/"Time:" as plain text, so two time boxes on one form
    had no name of their own.
    """

    def __init__(self, *args, field_label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.field_label = field_label

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        date, time = context["widget"]["subwidgets"]
        field = capfirst(self.field_label)
        date["attrs"]["aria-label"] = _("%(field)s, date") % {"field": field}
        time["attrs"]["aria-label"] = _("%(field)s, time") % {"field": field}
        return context


@admin.register(SiteNotice)
class SiteNoticeAdmin(admin.ModelAdmin):
    list_display = ["title", "starts_at", "ends_at"]
    search_fields = ["title", "body"]
    search_help_text = _("Search title or text")

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if isinstance(db_field, models.DateTimeField):
            kwargs["widget"] = LabelledSplitDateTime(field_label=db_field.verbose_name)
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        site_notice_save(context=audit_context(request), notice=obj)

    def delete_model(self, request, obj) -> None:
        site_notice_delete(context=audit_context(request), notice=obj)

    def delete_queryset(self, request, queryset) -> None:
        for notice in queryset:
            site_notice_delete(context=audit_context(request), notice=notice)


class OutboxKindFilter(admin.SimpleListFilter):
    """The outbox's kinds by their names, not their codes."""

    title = _("kind")
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return sorted(((kind, kind_label(kind)) for kind in KIND_LABELS), key=lambda k: k[1])

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: what the mail worker has to do and has done. The messages
    themselves are sealed and erased once sent, so none is shown here."""

    list_display = [
        "created_at",
        "kind_shown",
        "status",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["status", OutboxKindFilter]
    fields = list_display + ["finished_at"]
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("kind"), ordering="kind")
    def kind_shown(self, message: OutboxMessage) -> str:
        return kind_label(message.kind)
