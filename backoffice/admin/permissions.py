"""/admin/: the subject catalogue and the access-policy table (which school form
reaches which material level), each change through an audited service."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from permissions.models import LevelPolicy, Subject
from permissions.services.subjects import (
    policy_rule_add,
    policy_rule_remove,
    subject_delete,
    subject_save,
)
from web.request import audit_context


@admin.register(Subject)
class SubjectAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "level")
    list_filter = ("level",)
    search_fields = ("name", "code")
    search_help_text = _("Search name or subject code")

    def save_model(self, request, obj, form, change) -> None:
        subject_save(context=audit_context(request), subject=obj)

    def delete_model(self, request, obj) -> None:
        subject_delete(context=audit_context(request), subject=obj)

    def delete_queryset(self, request, queryset) -> None:
        for subject in queryset:
            subject_delete(context=audit_context(request), subject=subject)


@admin.register(LevelPolicy)
class LevelPolicyAdmin(admin.ModelAdmin):
    """The access-policy table. A rule is a pair: add or remove, never edit,
    and every change goes through a service that records it."""

    list_display = ("school_form", "level")
    list_filter = ("level",)

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        rule = policy_rule_add(
            context=audit_context(request),
            school_form=obj.school_form,
            level=obj.level,
        )
        obj.pk = rule.pk

    def delete_model(self, request, obj) -> None:
        policy_rule_remove(context=audit_context(request), rule=obj)

    def delete_queryset(self, request, queryset) -> None:
        for rule in queryset.select_related("school_form"):
            policy_rule_remove(context=audit_context(request), rule=rule)
