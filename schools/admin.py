from django import forms
from django.contrib import admin
from django.db import models
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
    # Eight school forms as checkboxes: the two-list filter widget's search
    # icons carry prohibited ARIA (axe aria-prohibited-attr), and eight
    # choices need no search.
    formfield_overrides = {models.ManyToManyField: {"widget": forms.CheckboxSelectMultiple}}
    show_full_result_count = False
