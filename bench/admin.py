"""The stock Django admin changelist of one school's memberships, to compare
the teacher list with (the issue's "pages ahead of Django admin").

A plain `AdminSite` with a plain `ModelAdmin`, configured as one would for
this list (user joined in, 100 a page, four columns), scoped to school A.
"""

from django.contrib import admin

from bench.data import SCHOOL_A
from permissions.models import Membership

site = admin.AdminSite(name="bench_admin")


@admin.register(Membership, site=site)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "school_unit", "valid_until", "created_at")
    list_select_related = ("user", "school_unit")
    list_per_page = 100
    ordering = ("user__last_name", "user__first_name", "pk")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(school_unit__code=SCHOOL_A)
