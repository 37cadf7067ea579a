"""/huvudman/: the huvudman's own school units and its contact person."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from backoffice.forms import (
    HuvudmanContactForm,
    SchoolUnitForm,
)
from backoffice.huvudman.site import ScopedAdmin, huvudman_site
from permissions.policy import (
    can_manage_huvudman,
    can_manage_school_unit,
    can_use_huvudman_site,
    huvudman_of_staff,
    huvudman_school_units,
)
from schools.models import Huvudman, SchoolUnit
from schools.services import (
    huvudman_contact_update,
    school_unit_save,
)
from web.request import audit_context


@admin.register(SchoolUnit, site=huvudman_site)
class SchoolUnitAdmin(ScopedAdmin):
    form = SchoolUnitForm
    list_display = ("name", "code", "forms_display")
    search_fields = ("name", "code")
    search_help_text = _("Search name or skolenhetskod")

    def get_queryset(self, request):
        return huvudman_school_units(user=request.user).prefetch_related("forms")

    def get_readonly_fields(self, request, obj=None):
        # The skolenhetskod is the unit's national identity: set once.
        return ("code",) if obj is not None else ()

    @admin.display(description=_("school forms"))
    def forms_display(self, obj: SchoolUnit) -> str:
        return ", ".join(str(form) for form in obj.forms.all())

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return can_use_huvudman_site(user=request.user)
        return can_manage_school_unit(user=request.user, school_unit=obj)

    has_change_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return can_use_huvudman_site(user=request.user)

    def save_model(self, request, obj, form, change) -> None:
        unit = school_unit_save(
            context=audit_context(request),
            huvudman=huvudman_of_staff(user=request.user),
            school_unit=obj if change else None,
            code=form.cleaned_data.get("code", ""),
            name=form.cleaned_data["name"],
            forms=form.cleaned_data["forms"],
        )
        obj.pk = unit.pk
        obj.huvudman = unit.huvudman

    def save_related(self, request, form, formsets, change) -> None:
        # The service set the school forms in its own audited write.
        pass


@admin.register(Huvudman, site=huvudman_site)
class HuvudmanAdmin(ScopedAdmin):
    form = HuvudmanContactForm
    fields = ("name", "organisationsnummer", "contact_name", "contact_email", "contact_phone")
    readonly_fields = ("name", "organisationsnummer")
    list_display = ("name", "organisationsnummer", "contact_name", "contact_email")

    def get_queryset(self, request):
        own = huvudman_of_staff(user=request.user)
        return Huvudman.objects.filter(pk=own.pk if own else None)

    def has_view_permission(self, request, obj=None) -> bool:
        if obj is None:
            return can_use_huvudman_site(user=request.user)
        return can_manage_huvudman(user=request.user, huvudman=obj)

    has_change_permission = has_view_permission

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        huvudman_contact_update(
            context=audit_context(request),
            huvudman=obj,
            contact_name=form.cleaned_data["contact_name"],
            contact_email=form.cleaned_data["contact_email"],
            contact_phone=form.cleaned_data["contact_phone"],
        )
