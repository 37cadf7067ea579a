"""/admin/: national admins' huvudmän and school units, each change through
an audited service. Neither is deleted here: a school unit or huvudman with
history ends with its data, not by a click."""

from django import forms
from django.contrib import admin
from django.db import models
from django.utils.translation import gettext_lazy as _

from backoffice.forms import HuvudmanForm
from schools.models import Huvudman, SchoolUnit
from schools.services import huvudman_save, school_unit_save
from web.request import audit_context


@admin.register(Huvudman)
class HuvudmanAdmin(admin.ModelAdmin):
    form = HuvudmanForm
    list_display = ("name", "organisationsnummer", "contact_name", "contact_email")
    search_fields = ("name", "organisationsnummer")
    search_help_text = _("Search name or organisationsnummer")
    show_full_result_count = False

    def save_model(self, request, obj, form, change) -> None:
        huvudman_save(context=audit_context(request), huvudman=obj)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SchoolUnit)
class SchoolUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "huvudman")
    list_filter = ("forms", "huvudman")
    list_select_related = ("huvudman",)
    search_fields = ("name", "code")
    search_help_text = _("Search name or skolenhetskod")
    # Eight school forms as checkboxes: the two-list filter widget's search
    # icons carry prohibited ARIA (axe aria-prohibited-attr), and eight
    # choices need no search.
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # The skolenhetskod is the unit's national identity, and a unit does
        # not move between huvudmän (its principals and teachers would).
        return ("code", "huvudman") if obj is not None else ()

    def save_model(self, request, obj, form, change) -> None:
        unit = school_unit_save(
            context=audit_context(request),
            huvudman=obj.huvudman,
            school_unit=obj if change else None,
            code=form.cleaned_data.get("code", ""),
            name=form.cleaned_data["name"],
            forms=form.cleaned_data["forms"],
        )
        obj.pk = unit.pk

    def save_related(self, request, form, formsets, change) -> None:
        # The service set the school forms in its own audited write.
        pass

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
