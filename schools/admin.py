from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from schools.forms import HuvudmanForm
from schools.models import Huvudman, SchoolUnit


@admin.register(Huvudman)
class HuvudmanAdmin(admin.ModelAdmin):
    form = HuvudmanForm
    list_display = ("name", "organisationsnummer", "contact_name", "contact_email")
    search_fields = ("name", "organisationsnummer")
    search_help_text = _("Search name or organisationsnummer")
    show_full_result_count = False


@admin.register(SchoolUnit)
class SchoolUnitAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "huvudman")
    list_filter = ("forms", "huvudman")
    list_select_related = ("huvudman",)
    search_fields = ("name", "code")
    search_help_text = _("Search name or skolenhetskod")
    filter_horizontal = ("forms",)
    show_full_result_count = False
