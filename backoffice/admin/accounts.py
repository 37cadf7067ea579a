"""/admin/: national admins manage accounts.

SECURITY: every change here goes through a service in `accounts.services`
that records its audit event and, when the account loses access, ends its
sessions for good (`access_end`). Nobody types a password for someone else:
a new admin-site account, or one whose password or phone was lost, gets a
one-time password (shown once) and enrols its authenticator app at its first
login; a TOTP key is never shown here.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_variables
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ADMIN_ROLES, AuthenticatorApp, MatrixCardDevice, Role, User
from accounts.services.staff import (
    IssuedStaff,
    account_admin_update,
    admin_password_issue,
    admin_role_rules,
    staff_create,
)
from accounts.validators import validate_chosen_username, validate_person_name
from backoffice.sites import HistoryInAuditLog, ReadOnlyAdmin
from core.refusals import Refused
from schools.models import Huvudman
from web.reauth import reauth_check, reauth_prompt
from web.request import audit_context

ADMIN_ROLE_CHOICES = [(role.value, role.label) for role in Role if role in ADMIN_ROLES]


class StaffCreationForm(forms.Form):
    """A new national admin or huvudman staff member. Input validation only;
    `accounts.services.staff.staff_create` checks the rules again and saves."""

    username = forms.CharField(
        label=_("Username"),
        max_length=30,
        required=False,
        help_text=_("Leave empty to generate one (recommended)."),
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=User._meta.get_field("first_name").max_length,
        validators=[validate_person_name],
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=User._meta.get_field("last_name").max_length,
        validators=[validate_person_name],
    )
    email = forms.EmailField(label=_("E-mail"), max_length=User._meta.get_field("email").max_length)
    role = forms.ChoiceField(label=_("Role"), choices=ADMIN_ROLE_CHOICES)
    huvudman = forms.ModelChoiceField(
        label=_("Huvudman"),
        queryset=Huvudman.objects.order_by("name"),
        required=False,
        help_text=_("Only for huvudman staff: the huvudman whose data they manage."),
    )

    def clean_username(self) -> str:
        username = self.cleaned_data["username"].strip().lower()
        if username:
            validate_chosen_username(username)
        return username

    def clean(self):
        cleaned_data = super().clean()
        if "role" in cleaned_data and "huvudman" not in self.errors:
            _role_rules(self, cleaned_data["role"], cleaned_data.get("huvudman"))
        return cleaned_data


def _role_rules(form: forms.Form, role: str, huvudman) -> None:
    """The service's rule, shown on the form's fields."""
    try:
        admin_role_rules(role=role, huvudman=huvudman)
    except ValidationError as error:
        for field, messages_ in error.message_dict.items():
            form.add_error(field, messages_)


class AccountChangeForm(forms.ModelForm):
    """Names, e-mail, active; role and huvudman for admin-site accounts only."""

    class Meta:
        model = User
        fields = ("first_name", "last_name", "email", "role", "huvudman", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name"):
            self.fields[name].validators.append(validate_person_name)
        if "role" in self.fields:
            self.fields["role"].choices = ADMIN_ROLE_CHOICES

    def _post_clean(self):
        # The service checks the model's rules on the account it locks; the
        # form checks only its fields (and the role/huvudman pair, below).
        pass

    def clean(self):
        cleaned_data = super().clean()
        if "role" in self.fields and "role" in cleaned_data and "huvudman" not in self.errors:
            _role_rules(self, cleaned_data["role"], cleaned_data.get("huvudman"))
        return cleaned_data


@admin.register(User)
class UserAdmin(HistoryInAuditLog, admin.ModelAdmin):
    form = AccountChangeForm
    list_display = ("username", "first_name", "last_name", "role", "huvudman", "is_active")
    list_filter = ("role", "is_active", "huvudman")
    list_select_related = ("huvudman",)
    search_fields = ("username", "first_name", "last_name", "email")
    search_help_text = _("Search username, name or e-mail address")
    ordering = ("username",)
    show_full_result_count = False
    actions = None

    def get_fields(self, request, obj=None):
        fields = ["username", "first_name", "last_name", "email", "role", "huvudman", "is_active"]
        return [*fields, "last_login", "date_joined", "password_link"]

    def get_readonly_fields(self, request, obj=None):
        readonly = ["username", "last_login", "date_joined", "password_link"]
        if obj is not None and obj.role not in ADMIN_ROLES:
            # A principal's, test administrator's or teacher's role is bound to
            # its appointment (issued by the role above), never changed here.
            readonly += ["role", "huvudman"]
        return readonly

    @admin.display(description=_("Password"))
    def password_link(self, obj: User) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:accounts_user_password", args=[obj.pk]),
            gettext("Issue a new password"),
        )

    def has_delete_permission(self, request, obj=None) -> bool:
        # Accounts end through their services (removal of the last membership,
        # deactivation), each with its audit event; never by a raw delete here.
        return False

    def get_urls(self):
        return [
            path(
                "<path:object_id>/password/",
                self.admin_site.admin_view(self.password_view),
                name="accounts_user_password",
            ),
            *super().get_urls(),
        ]

    # -- changes, through the service ------------------------------------------

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        try:
            account_admin_update(
                context=audit_context(request),
                user=obj,
                first_name=data.get("first_name", obj.first_name),
                last_name=data.get("last_name", obj.last_name),
                email=data.get("email", obj.email),
                is_active=data.get("is_active", obj.is_active),
                role=data.get("role"),
                huvudman=data.get("huvudman", obj.huvudman),
            )
        except (Refused, ValidationError) as error:
            raise _FormRefused(error) from error

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except _FormRefused as refused:
            messages.error(request, refused.message)
            return HttpResponseRedirect(request.get_full_path())

    def log_change(self, request, obj, message):
        # The audit log has the change (written by the service); the stock
        # admin's LogEntry would only repeat it.
        return None

    # -- a new account, through the service ------------------------------------

    @sensitive_variables("issued")
    def add_view(self, request, form_url="", extra_context=None):
        """A national admin or huvudman staff member with a one-time password, shown once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StaffCreationForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                issued = staff_create(
                    context=audit_context(request),
                    role=data["role"],
                    huvudman=data["huvudman"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                    email=data["email"],
                    username=data["username"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                return self._issued_page(request, issued, title=gettext("Account created"))
        return TemplateResponse(
            request,
            "admin/accounts/staff_create.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("New administrator account"),
                "opts": self.opts,
                "form": form,
            },
        )

    def _issued_page(self, request, issued: IssuedStaff | str, *, title: str):
        context = {**self.admin_site.each_context(request), "title": title, "opts": self.opts}
        if isinstance(issued, IssuedStaff):
            context.update(account=issued.user, password=issued.password, one_time=True)
            context["valid_until"] = issued.onboarding_until
        else:
            context.update(account=None, password=issued, one_time=False)
        # admin_view() marks every page of the site never_cache (no-store).
        return TemplateResponse(request, "admin/accounts/password_issued.html", context)

    @sensitive_variables("issued")
    def password_view(self, request, object_id):
        """GET: what a new password means; POST: issue it (shown once)."""
        user = self.get_object(request, unquote(object_id))
        if user is None:
            raise Http404
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        # SECURITY: a new password for someone else is a takeover if the
        # session was hijacked, so a session whose last proof is older than
        # 15 minutes types a TOTP code again (as /huvudman/ asks).
        reauth, status = reauth_prompt(request), 200
        if request.method == "POST":
            problem = reauth_check(request)
            if problem is not None:
                reauth, status = problem, 400
        if request.method == "POST" and status == 200:
            try:
                issued = admin_password_issue(context=audit_context(request), user=user)
            except Refused as refusal:
                messages.error(request, refusal.message)
                return HttpResponseRedirect(request.get_full_path())
            page = self._issued_page(request, issued, title=gettext("New password"))
            page.context_data["account"] = user
            return page
        return TemplateResponse(
            request,
            "admin/accounts/password_confirm.html",
            {
                **self.admin_site.each_context(request),
                "title": gettext("Issue a new password"),
                "opts": self.opts,
                "account": user,
                "original": user,
                "one_time": user.role in ADMIN_ROLES,
                "reauth": reauth,
            },
            status=status,
        )


class _FormRefused(Exception):
    def __init__(self, error):
        if isinstance(error, Refused):
            self.message = error.message
        else:
            self.message = " ".join(error.messages)
        super().__init__(self.message)


class DeviceDisplay(ReadOnlyAdmin):
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
    """The admin sites' second factor, read-only and without the key.

    SECURITY: a TOTP key is shown once, at enrolment, to its holder only. A
    lost phone is replaced through the account's "Issue a new password" (a
    one-time password and a new enrolment), which is audited."""

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


# django-otp registers an admin for TOTP devices that shows and edits every
# key (and its QR code), in English, and adds devices without an audit event;
# AuthenticatorAppAdmin above shows the same devices, read-only.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)
# Roles decide who may do what; groups and model permissions are not used,
# and a group edited here would change nothing but leave no audit event (its
# page also listed some sixty untranslatable "Can add …" permission names).
if admin.site.is_registered(Group):
    admin.site.unregister(Group)
