from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from accounts.models import ADMIN_ROLES, MatrixCardDevice, Role, User


class StaffCreationForm(UserCreationForm):
    """National admins create admin-site accounts: other national admins and
    huvudman staff. Principals are issued by huvudman staff, teachers by
    principals; those never start here."""

    role = forms.ChoiceField(
        label=_("role"), choices=[(role.value, role.label) for role in Role if role in ADMIN_ROLES]
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "first_name", "last_name", "email", "role", "huvudman")

    def clean(self):
        cleaned_data = super().clean()
        role = cleaned_data.get("role")
        huvudman = cleaned_data.get("huvudman")
        if role == Role.HUVUDMAN_STAFF and huvudman is None:
            self.add_error("huvudman", _("Huvudman staff must belong to a huvudman."))
        if role == Role.NATIONAL_ADMIN and huvudman is not None:
            self.add_error("huvudman", _("A national administrator belongs to no huvudman."))
        # Admin-site accounts need is_staff to reach their site's login.
        self.instance.is_staff = True
        self.instance.is_superuser = role == Role.NATIONAL_ADMIN
        return cleaned_data


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = StaffCreationForm
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "first_name",
                    "last_name",
                    "email",
                    "role",
                    "huvudman",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    fieldsets = (
        (None, {"fields": ("username", "role", "huvudman")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Status"), {"fields": ("is_active", "last_login", "date_joined")}),
    )
    readonly_fields = ("username", "role", "huvudman", "last_login", "date_joined")
    list_display = ("username", "first_name", "last_name", "role", "huvudman", "is_active")
    list_filter = ("role", "is_active", "huvudman")
    list_select_related = ("huvudman",)
    search_fields = ("username", "first_name", "last_name", "email")
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Accounts end through their services (removal of the last membership,
        # deactivation), each with its audit event; never by a raw delete here.
        return False


@admin.register(MatrixCardDevice)
class MatrixCardAdmin(admin.ModelAdmin):
    """Read-only: cards are issued, replaced and unlocked by the role above,
    through the services, never edited here. The cells' MACs are not shown."""

    list_display = ("serial", "user", "state", "issued_on", "throttling_failure_count")
    list_filter = ("state",)
    list_select_related = ("user",)
    search_fields = ("serial", "user__username")
    fields = (
        "serial",
        "user",
        "state",
        "issued_on",
        "locked_at",
        "replaced_at",
        "throttling_failure_count",
        "throttling_failure_timestamp",
    )
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
