from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ADMIN_ROLES, AuthenticatorApp, MatrixCardDevice, Role, User

# Groups and model permissions are not used: national admins are superusers,
# huvudman staff's access is decided by permissions.policy. The group page
# only listed some sixty untranslatable "Can add …" permission names.
admin.site.unregister(Group)
# django-otp's own TOTP admin is English throughout and lets keys be edited
# without an audit event; AuthenticatorAppAdmin below shows the same devices.
admin.site.unregister(TOTPDevice)


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
    search_help_text = _("Search username, name or e-mail address")
    show_full_result_count = False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Accounts end through their services (removal of the last membership,
        # deactivation), each with its audit event; never by a raw delete here.
        return False


class DeviceDisplay:
    """Columns shared by the device admins, named in Swedish: django-otp's
    fields carry untranslatable English names and help texts."""

    @admin.display(description=_("user"), ordering="user__username")
    def owner(self, device) -> str:
        return str(device.user)

    @admin.display(description=_("wrong answers in a row"))
    def failures(self, device) -> int:
        return device.throttling_failure_count

    @admin.display(description=_("last wrong answer"))
    def last_failure(self, device):
        return device.throttling_failure_timestamp

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MatrixCardDevice)
class MatrixCardAdmin(DeviceDisplay, admin.ModelAdmin):
    """Read-only: cards are issued, replaced and unlocked by the role above,
    through the services, never edited here. The cells' MACs are not shown."""

    list_display = ("serial", "owner", "state", "issued_on", "failures")
    list_filter = ("state",)
    list_select_related = ("user",)
    search_fields = ("serial", "user__username")
    search_help_text = _("Search serial number or username")
    fields = (
        "serial",
        "owner",
        "state",
        "issued_on",
        "locked_at",
        "replaced_at",
        "failures",
        "last_failure",
    )
    readonly_fields = fields
    show_full_result_count = False


class ConfirmedFilter(admin.SimpleListFilter):
    title = _("ready for use")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("1", _("Yes")), ("0", _("No"))]

    def queryset(self, request, queryset):
        if self.value() in {"0", "1"}:
            return queryset.filter(confirmed=self.value() == "1")
        return queryset


@admin.register(AuthenticatorApp)
class AuthenticatorAppAdmin(DeviceDisplay, admin.ModelAdmin):
    """The admin sites' second factor, read-only. A lost phone gets a new key
    with `manage.py enroll_totp`; the key itself is never shown here."""

    list_display = ("owner", "device_name", "is_confirmed", "created", "last_used")
    list_filter = (ConfirmedFilter,)
    list_select_related = ("user",)
    search_fields = ("user__username", "user__email")
    search_help_text = _("Search username or e-mail address")
    fields = (
        "owner",
        "device_name",
        "is_confirmed",
        "created",
        "last_used",
        "failures",
        "last_failure",
    )
    readonly_fields = fields
    show_full_result_count = False

    @admin.display(description=_("name"), ordering="name")
    def device_name(self, device) -> str:
        return device.name

    @admin.display(description=_("ready for use"), boolean=True, ordering="confirmed")
    def is_confirmed(self, device) -> bool:
        return device.confirmed

    @admin.display(description=_("added"), ordering="created_at")
    def created(self, device):
        return device.created_at

    @admin.display(description=_("last used"), ordering="last_used_at")
    def last_used(self, device):
        return device.last_used_at
